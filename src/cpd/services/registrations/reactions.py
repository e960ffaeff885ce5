"""What a registration's changes set off in other contexts, answered by ``services/policies.py``."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from cpd.ports.unit_of_work import UnitOfWork


class RegistrationReactions(Protocol):
    def seat_confirmed(self, uow: UnitOfWork, registration_id: UUID) -> None:
        """A confirmed seat at an event with online meetings: the person joins its meetings.
        Queued in the caller's transaction."""
        ...
