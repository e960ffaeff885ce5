"""The unit of work: one transaction over every context's repositories, and its outbox."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from cpd.ports.accounts import AccountsRepos
from cpd.ports.certificates import CertificatesRepos
from cpd.ports.events import EventsRepos
from cpd.ports.learning import LearningRepos
from cpd.ports.messaging import MessagingRepos
from cpd.ports.platform import PlatformRepos
from cpd.ports.registrations import RegistrationsRepos


class UnitOfWork(
    AccountsRepos,
    EventsRepos,
    LearningRepos,
    RegistrationsRepos,
    CertificatesRepos,
    MessagingRepos,
    PlatformRepos,
    Protocol,
):
    """One transaction over every context's repositories."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None:
        """Make the changes durable; unique-constraint clashes surface as ``Conflict``."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
