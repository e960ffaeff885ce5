"""Random interleavings of issuing, jobs, attendance corrections, revoking and re-issuing on
the memory adapter (the real wiring), checking after every step: serials are 1..n with no gap
or repeat, one certificate per person, nobody certified without earning it or a reason,
revoked stays revoked, versions count re-issues, and verification says what is stored."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cpd.bootstrap import build_container
from cpd.domain.accounts import Actor
from cpd.domain.certificates import Certificate, CertificateSource, CertificateStatus
from cpd.domain.errors import Conflict
from cpd.domain.pages import PageRequest
from cpd.services.events.attendance import AttendanceEntry
from tests.support.clock import FakeClock
from tests.support.commands import new_event
from tests.unit.conftest import make_settings

PEOPLE = 5
ALL = PageRequest(limit=200)
person = st.integers(0, PEOPLE - 1)


class CertificateUseCases(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.app = build_container(make_settings(), clock=self.clock)
        self.people: list[Actor] = []
        self.attended: set[int] = set()
        self.revoked: set[Any] = set()
        self.reissues: dict[Any, int] = {}

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize(attended=st.sets(person))
    def completed_event(self, attended: set[int]) -> None:
        async def setup() -> None:
            app = self.app
            owner = await app.accounts.register(
                email="host@example.org", password="a long passphrase", first_name="H",
                last_name="O",
            )  # fmt: skip
            self.owner = Actor(owner.id)
            org = await app.organizations.create(self.owner, name="Host")
            starts = self.clock.now() + timedelta(days=1)
            sessions = [{"title": "S", "starts_at": starts, "ends_at": starts + timedelta(hours=1)}]
            view = await app.events.create(
                self.owner, new_event(org.id, {"title": "Event", "format": "online"}, sessions)
            )
            await app.events.publish(self.owner, view.id)
            self.event_id, self.session_id = view.id, view.sessions[0].id
            for n in range(PEOPLE):
                user = await app.accounts.register(
                    email=f"p{n}@example.org", password="a long passphrase", first_name="P",
                    last_name=str(n),
                )  # fmt: skip
                self.people.append(Actor(user.id))
                await app.registrations.register(self.people[-1], view.id)
            self.clock.advance(days=2)
            await app.events.complete(self.owner, view.id)  # its job stays queued

        self.run(setup())
        for n in attended:
            self.attend(n)

    def attempt(self, coroutine: Any) -> Any:
        try:
            return self.run(coroutine)
        except Conflict:
            return None

    @rule(n=person)
    def attend(self, n: int) -> None:
        """Full attendance recorded (also after completion: it queues a job, left queued)."""
        entry = [AttendanceEntry(user_id=self.people[n].user_id)]
        self.run(self.app.attendance.record(self.owner, self.event_id, self.session_id, entry))
        self.attended.add(n)

    @rule()
    def run_the_job(self) -> None:
        job = self.run(self.app.certificates.issue_for_event(self.owner, self.event_id))
        self.run(self.app.certificates.run_job(job.id))

    @rule(n=person, reason=st.sampled_from([None, "Watched the recording"]))
    def issue_by_hand(self, n: int, reason: str | None) -> None:
        self.attempt(
            self.app.certificates.issue(
                self.owner,
                CertificateSource.EVENT,
                self.event_id,
                self.people[n].user_id,
                override_reason=reason,
            )
        )

    @rule(n=person)
    def revoke(self, n: int) -> None:
        found = self.certificate_of(n)
        if found is not None and self.attempt(
            self.app.certificates.revoke(self.owner, found.id, "Wrong person")
        ):
            self.revoked.add(found.id)

    @rule(n=person, name=st.sampled_from([None, "Renamed Person"]))
    def reissue(self, n: int, name: str | None) -> None:
        found = self.certificate_of(n)
        if found is not None and self.attempt(
            self.app.certificates.reissue(self.owner, found.id, holder_name=name)
        ):
            self.reissues[found.id] = self.reissues.get(found.id, 0) + 1

    def certificate_of(self, n: int) -> Certificate | None:
        mine = self.run(self.app.certificates.mine(self.people[n], ALL))
        return mine.items[0] if mine.items else None

    @invariant()
    def invariants(self) -> None:
        if not self.people:
            return
        issued = self.run(self.app.certificates.for_event(self.owner, self.event_id, ALL)).items
        assert sorted(c.sequence for c in issued) == list(range(1, len(issued) + 1))
        holders = [c.holder.user_id for c in issued]
        assert len(holders) == len(set(holders))
        assert len({c.verification_code for c in issued}) == len(issued)
        earned = {self.people[n].user_id for n in self.attended}
        for certificate in issued:
            assert certificate.holder.user_id in earned or certificate.override_reason
            assert (certificate.status is CertificateStatus.REVOKED) == (
                certificate.id in self.revoked
            )
            assert certificate.version == 1 + self.reissues.get(certificate.id, 0)
            shown = self.run(self.app.certificates.verify(certificate.verification_code))
            assert (shown.valid, shown.holder_name, shown.serial_number) == (
                certificate.is_valid,
                certificate.holder.name,
                certificate.serial_number,
            )

    def teardown(self) -> None:
        self.loop.close()


TestCertificateUseCases = CertificateUseCases.TestCase
TestCertificateUseCases.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
