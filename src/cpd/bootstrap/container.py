"""The wired bundle every entrypoint uses, with the closers and probes its builders registered."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from cpd.domain.errors import InvalidInput

if TYPE_CHECKING:
    from saq import Queue

    from cpd.adapters.memory.database import MemoryDatabase
    from cpd.adapters.sql.database import SqlDatabase
    from cpd.ports.accounts import PasswordHasher, TokenIssuer
    from cpd.ports.certificates import CertificateRenderer, QrCodes
    from cpd.ports.events import CalendarWriter, VideoMeetings
    from cpd.ports.messaging import Mailer
    from cpd.ports.platform import Cache, Clock, FileStorage, OutboxStore, TaskHandlers, TaskQueue
    from cpd.ports.registrations import PaymentGateway
    from cpd.ports.unit_of_work import UnitOfWorkFactory
    from cpd.services.accounts.organizations import OrganizationService
    from cpd.services.accounts.users import AccountService
    from cpd.services.certificates.credentials import CredentialService
    from cpd.services.certificates.design import CertificateDesignService
    from cpd.services.certificates.issuing import CertificateService
    from cpd.services.events.attendance import AttendanceService
    from cpd.services.events.catalog import CatalogService
    from cpd.services.events.lifecycle import EventService
    from cpd.services.events.meetings import MeetingService
    from cpd.services.learning.courses import CourseService
    from cpd.services.messaging.messages import MessagingService
    from cpd.services.platform.outbox import OutboxRelay, TaskRunner
    from cpd.services.registrations.booking import RegistrationService
    from cpd.services.registrations.emails import RegistrantEmails
    from cpd.services.registrations.reminders import ReminderService
    from cpd.settings import Settings

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[object] | object]
Probe = Callable[[], Awaitable[None]]


class Schema(Protocol):
    """The database schema's keeper, for SQL persistence only."""

    async def migrate(self) -> None: ...
    async def check(self) -> None:
        """Raise SchemaBehind when the database lacks migrations this code needs."""
        ...


@dataclass
class Resources:
    """What builders leave for shutdown and readiness: closers (run last-registered first)
    and named health probes (the name is what /ready reports when one fails)."""

    closers: list[Closer] = field(default_factory=list)
    probes: dict[str, Probe] = field(default_factory=dict)
    schema: Schema | None = None

    def on_close(self, closer: Closer) -> None:
        self.closers.append(closer)

    def probe(self, name: str, check: Probe) -> None:
        self.probes[name] = check

    async def close(self) -> None:
        while self.closers:
            outcome = self.closers.pop()()
            if inspect.isawaitable(outcome):
                await outcome


async def prepare_schema(
    schema: Schema | None, settings: Settings, *, migrate: bool | None = None
) -> None:
    """Migrate (``migrate``, or CPD_AUTO_MIGRATE when None), then refuse to go on with a
    schema behind the code (SchemaBehind): every route would otherwise answer 500."""
    if schema is None:
        return
    if settings.should_auto_migrate if migrate is None else migrate:
        await schema.migrate()
    await schema.check()


@dataclass
class Container:
    settings: Settings
    clock: Clock
    database: SqlDatabase | MemoryDatabase
    uow: UnitOfWorkFactory
    outbox_store: OutboxStore
    mailer: Mailer
    task_handlers: TaskHandlers
    task_queue: TaskQueue
    saq_queue: Queue | None  # the worker's queue on Redis (CPD_TASK_QUEUE=saq)
    task_runner: TaskRunner
    relay: OutboxRelay
    tokens: TokenIssuer
    hasher: PasswordHasher
    accounts: AccountService
    organizations: OrganizationService
    events: EventService
    courses: CourseService
    attendance: AttendanceService
    registrations: RegistrationService
    registrant_emails: RegistrantEmails
    reminders: ReminderService
    payments: PaymentGateway
    catalog: CatalogService
    catalog_cache: Cache
    calendars: CalendarWriter
    qr_codes: QrCodes
    video_meetings: VideoMeetings
    meetings: MeetingService
    messaging: MessagingService
    certificate_renderer: CertificateRenderer
    certificate_design: CertificateDesignService
    files: FileStorage
    certificates: CertificateService
    credentials: CredentialService
    resources: Resources = field(default_factory=Resources)
    _relay_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _relay_task: asyncio.Task[None] | None = None

    def on_close(self, closer: Closer) -> None:
        """Run ``closer`` at shutdown, before those registered earlier."""
        self.resources.on_close(closer)

    def probe(self, name: str, check: Probe) -> None:
        """Ask ``check`` on every readiness request; ``name`` is shown when it raises."""
        self.resources.probe(name, check)

    @property
    def health_probes(self) -> dict[str, Probe]:
        return self.resources.probes

    async def migrate(self) -> None:
        if self.resources.schema is None:
            raise InvalidInput("Migrations need CPD_PERSISTENCE=sql.", field="persistence")
        await self.resources.schema.migrate()

    async def prepare_schema(self, *, migrate: bool | None = None) -> None:
        await prepare_schema(self.resources.schema, self.settings, migrate=migrate)

    async def startup(self, *, run_relay: bool = True, migrate: bool | None = None) -> None:
        await self.prepare_schema(migrate=migrate)
        if run_relay:
            self._relay_stop.clear()
            self._relay_task = asyncio.create_task(
                self.relay.run(self._relay_stop, interval=self.settings.outbox_poll_seconds)
            )

    async def shutdown(self) -> None:
        if self._relay_task is not None:
            self._relay_stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
            self._relay_task = None
        await self.resources.close()
