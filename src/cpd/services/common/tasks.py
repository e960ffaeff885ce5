"""Task handlers declared where they are written: ``@handles(RenderCertificate)`` on a
service's method, and the composition root collects them with ``handlers_of``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from cpd.domain.tasks import TaskData
from cpd.ports.platform import TaskHandler

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[None]])
_HANDLES = "__handles_tasks__"


def handles(*kinds: type[TaskData]) -> Callable[[Handler], Handler]:
    def mark(method: Handler) -> Handler:
        setattr(method, _HANDLES, tuple(kind.NAME for kind in kinds))
        return method

    return mark


def handlers_of(*owners: object) -> dict[str, TaskHandler]:
    """Every ``@handles`` method of these services (or module-level functions), by task name;
    two handlers for one name is a wiring error."""
    found: dict[str, TaskHandler] = {}
    for owner in owners:
        if hasattr(owner, _HANDLES):  # a function
            candidates = [owner]
        else:  # a service: its marked methods, bound
            marked = {
                n for k in type(owner).__mro__ for n, v in vars(k).items() if hasattr(v, _HANDLES)
            }
            candidates = [getattr(owner, name) for name in sorted(marked)]
        for candidate in candidates:
            if not callable(candidate):
                continue
            for name in getattr(candidate, _HANDLES, ()):
                if name in found:
                    raise ValueError(f"Two handlers for the {name} task.")
                found[name] = candidate
    return found
