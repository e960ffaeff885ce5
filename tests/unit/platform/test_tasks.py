"""Typed task payloads and the handlers declared beside them."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cpd.services
from cpd.bootstrap import Container
from cpd.domain.meetings import MeetingWebhookKind
from cpd.domain.tasks import Task, TaskData
from cpd.services.common.tasks import handlers_of, handles
from cpd.services.registrations.tasks import RegistrationEmail


def _all_task_kinds() -> set[type[TaskData]]:
    for module in pkgutil.walk_packages(cpd.services.__path__, "cpd.services."):
        importlib.import_module(module.name)
    found: set[type[TaskData]] = set()
    todo = [TaskData]
    while todo:
        for kind in todo.pop().__subclasses__():
            todo.append(kind)
            module = sys.modules[kind.__module__]
            # slots=True makes a new class: the one its module holds is the real one
            if module.__name__.startswith("cpd.") and getattr(module, kind.__name__) is kind:
                found.add(kind)
    return found


def test_every_task_the_services_can_queue_has_exactly_one_handler(clocked: Container) -> None:
    kinds = _all_task_kinds()
    names = [kind.NAME for kind in kinds]
    assert len(kinds) >= 13  # the walk found them: every task of the old hand-kept map
    assert len(set(names)) == len(names)  # no two kinds share a name
    assert set(clocked.task_handlers) == set(names)


@dataclass(frozen=True, slots=True)
class _Sample(TaskData):
    NAME: ClassVar[str] = "sample"
    id: UUID
    at: datetime
    kind: MeetingWebhookKind
    count: int
    share: float
    flag: bool
    note: str | None = None


@given(
    st.uuids(),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(MeetingWebhookKind),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none() | st.text(),
)
def test_a_payload_round_trips_every_field_through_json_types(
    id: UUID,
    at: datetime,
    kind: MeetingWebhookKind,
    count: int,
    share: float,
    flag: bool,
    note: str | None,
) -> None:
    sample = _Sample(id, at, kind, count, share, flag, note)
    task = sample.task()
    assert task.name == "sample"
    assert all(isinstance(v, str | int | float | bool) for v in task.payload.values())
    assert _Sample.of(task) == sample


def test_a_none_default_is_left_out_as_payloads_always_did() -> None:
    registration = UUID(int=1)
    assert RegistrationEmail(registration, "cancelled").to_payload() == {
        "registration_id": str(registration),
        "kind": "cancelled",
    }
    with_refund = RegistrationEmail(registration, "cancelled", refund=500).task()
    assert with_refund.payload["refund"] == 500
    assert RegistrationEmail.of(with_refund).refund == 500


def test_a_wrong_or_incomplete_task_is_refused() -> None:
    with pytest.raises(ValueError, match="not a registration_email task"):
        RegistrationEmail.of(Task("send_email", {}))
    with pytest.raises(ValueError, match="incomplete"):
        RegistrationEmail.of(Task("registration_email", {"kind": "cancelled"}))
    with pytest.raises(ValueError, match="badly formed"):
        RegistrationEmail.of(Task("registration_email", {"registration_id": "x", "kind": "a"}))


def test_two_handlers_for_one_task_is_a_wiring_error() -> None:
    @handles(RegistrationEmail)
    async def one(task: Task) -> None: ...

    @handles(RegistrationEmail)
    async def other(task: Task) -> None: ...

    assert handlers_of(one) == {"registration_email": one}
    with pytest.raises(ValueError, match="Two handlers"):
        handlers_of(one, other)
