"""The composition root: settings in, every adapter and service wired once, out.

The HTTP app, the worker and the CLI all call ``build_container``; nothing else constructs
adapters, so the wiring under test is the wiring in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from croniter import croniter
from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cpd.adapters.documents.calendars import IcalendarWriter
from cpd.adapters.documents.qr_codes import SegnoQrCodes
from cpd.adapters.documents.typst_certificates import TypstCertificateRenderer
from cpd.adapters.mail.mailers import FileOutboxMailer, MemoryMailer, SmtpMailer
from cpd.adapters.mail.rendering import JinjaEmailRenderer
from cpd.adapters.meetings.fake import DEV_WEBHOOK_SECRET, FakeVideoMeetings
from cpd.adapters.meetings.zoom import ZoomMeetings
from cpd.adapters.memory.cache import MemoryCache
from cpd.adapters.memory.catalog import MemoryCatalogReader
from cpd.adapters.memory.database import MemoryDatabase
from cpd.adapters.memory.outbox import MemoryOutboxStore
from cpd.adapters.payments.offline import OfflineGateway
from cpd.adapters.payments.stripe_gateway import StripeGateway
from cpd.adapters.queues.inprocess import InProcessTaskQueue
from cpd.adapters.queues.saq import SaqTaskQueue, open_queue
from cpd.adapters.redis_store import RedisAttemptThrottle, RedisCache, RedisProbe
from cpd.adapters.security.credential_signing import JwsCredentialSigner
from cpd.adapters.security.jose_tokens import JoseTokenIssuer
from cpd.adapters.sql.catalog import SqlCatalogReader
from cpd.adapters.sql.database import SqlDatabase, create_engine
from cpd.adapters.sql.migrations import check_revision, migrate
from cpd.adapters.sql.offline_payments import SqlOfflineLedger
from cpd.adapters.sql.outbox import SqlOutboxStore
from cpd.adapters.storage.files import LocalFileStorage, MemoryFileStorage
from cpd.adapters.storage.s3 import S3FileStorage
from cpd.adapters.system import Argon2Hasher, MemoryAttemptThrottle, SystemClock
from cpd.domain.accounts import OrganizationSignup
from cpd.domain.auth import AttemptPolicy
from cpd.domain.credentials import CredentialUrls
from cpd.domain.errors import InvalidInput
from cpd.ports.accounts import PasswordHasher, TokenIssuer
from cpd.ports.certificates import CertificateRenderer, QrCodes
from cpd.ports.events import CalendarWriter, CatalogReader, VideoMeetings
from cpd.ports.messaging import Mailer
from cpd.ports.platform import (
    AttemptThrottle,
    Cache,
    Clock,
    FileStorage,
    HealthProbe,
    OutboxStore,
    TaskHandlers,
    TaskQueue,
)
from cpd.ports.registrations import PaymentGateway
from cpd.ports.unit_of_work import UnitOfWorkFactory
from cpd.services.accounts.organizations import InvitationLimits, OrganizationService
from cpd.services.accounts.users import AccountLimits, AccountService
from cpd.services.certificates.credentials import CredentialService
from cpd.services.certificates.design import CertificateDesignService, CheckSlots
from cpd.services.certificates.issuing import CertificateService
from cpd.services.common.tasks import handlers_of
from cpd.services.events.attendance import AttendanceService
from cpd.services.events.catalog import CatalogService
from cpd.services.events.lifecycle import EventService
from cpd.services.events.meetings import MeetingService
from cpd.services.learning.courses import CourseService
from cpd.services.messaging.messages import MessagingService
from cpd.services.platform.outbox import OutboxRelay, TaskRunner, ping
from cpd.services.policies import POLICIES
from cpd.services.registrations.booking import RegistrationService
from cpd.services.registrations.reminders import ReminderService
from cpd.settings import Settings

log = logging.getLogger(__name__)
EVERY_MINUTE = "* * * * *"


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
    _relay_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _relay_task: asyncio.Task[None] | None = None
    _housekeeping_task: asyncio.Task[None] | None = None

    health_probes: list[HealthProbe] = field(default_factory=list)
    redis: Redis | None = None

    async def migrate(self) -> None:
        if not isinstance(self.database, SqlDatabase):
            raise InvalidInput("Migrations need CPD_PERSISTENCE=sql.", field="persistence")
        await migrate(self.database.engine)

    async def prepare_schema(self, *, migrate: bool | None = None) -> None:
        """Migrate (``migrate``, or CPD_AUTO_MIGRATE when None), then refuse to go on with a
        schema behind the code (SchemaBehind): every route would otherwise answer 500."""
        if not isinstance(self.database, SqlDatabase):
            return
        if self.settings.should_auto_migrate if migrate is None else migrate:
            await self.migrate()
        try:
            revision = await self.database.schema_revision()
        except (OSError, DBAPIError):  # down for now: start, and let /ready say so meanwhile
            log.warning("database unreachable at start; schema not checked", exc_info=True)
            return
        check_revision(revision)

    async def startup(self, *, run_relay: bool = True, migrate: bool | None = None) -> None:
        await self.prepare_schema(migrate=migrate)
        if run_relay:
            self._relay_stop.clear()
            self._relay_task = asyncio.create_task(
                self.relay.run(self._relay_stop, interval=self.settings.outbox_poll_seconds)
            )
            if self.saq_queue is None:  # with SAQ, the worker's scheduler runs them
                self._housekeeping_task = asyncio.create_task(self._housekeeping())

    @property
    def periodic_jobs(self) -> dict[str, tuple[str, Callable[[], Awaitable[object]]]]:
        """Scheduled work by name: (cron schedule for the SAQ worker, the job)."""
        return {
            "release_expired_holds_and_offers": (EVERY_MINUTE, self.registrations.expire_due),
            "event_reminders": ("*/5 * * * *", self.reminders.queue_due),
            "outbox_sweep": (EVERY_MINUTE, self.relay.drain),
            "zoom_attendance_sync": ("*/5 * * * *", self.meetings.sync_due_attendance),
        }

    async def _housekeeping(self) -> None:
        """The embedded mode's scheduler, waking every CPD_HOUSEKEEPING_SECONDS: jobs
        scheduled every minute run at each wake, the others when their cron comes due (the
        relay loop already sweeps the outbox)."""
        jobs = {
            name: (cron, job)
            for name, (cron, job) in self.periodic_jobs.items()
            if name != "outbox_sweep"
        }
        due = dict.fromkeys(jobs, self.clock.now())
        while not self._relay_stop.is_set():
            now = self.clock.now()
            for name, (cron, job) in jobs.items():
                if cron != EVERY_MINUTE and now < due[name]:
                    continue
                due[name] = croniter(cron, now).get_next(datetime)
                try:
                    await job()
                except Exception:  # the loop must outlive a database blip
                    log.exception("housekeeping job %s failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._relay_stop.wait(), timeout=self.settings.housekeeping_seconds
                )

    async def shutdown(self) -> None:
        if self._relay_task is not None:
            self._relay_stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
                if self._housekeeping_task is not None:
                    await self._housekeeping_task
            self._relay_task = self._housekeeping_task = None
        if isinstance(self.database, SqlDatabase):
            await self.database.dispose()
        if self.redis is not None:
            await self.redis.aclose()
        if self.saq_queue is not None:
            await self.saq_queue.disconnect()
        if isinstance(self.files, S3FileStorage):
            await self.files.aclose()
        if isinstance(self.certificate_renderer, TypstCertificateRenderer):
            self.certificate_renderer.close()
        if isinstance(self.files, LocalFileStorage):
            self.files.close()
        if isinstance(self.mailer, FileOutboxMailer):
            self.mailer.close()
        if isinstance(self.hasher, Argon2Hasher):
            self.hasher.close()


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    clock = clock or SystemClock()
    relay_ref: list[OutboxRelay] = []

    def wake_relay() -> None:
        if relay_ref:
            relay_ref[0].wake()

    database: SqlDatabase | MemoryDatabase
    outbox_store: OutboxStore
    catalog_reader: CatalogReader
    if settings.persistence == "memory":
        database = MemoryDatabase(clock.now, after_commit=wake_relay)
        outbox_store = MemoryOutboxStore(database)
        catalog_reader = MemoryCatalogReader(database)
    else:
        _ensure_sqlite_folder(settings.database_url)
        database = SqlDatabase(
            create_engine(settings.database_url, pool_size=settings.db_pool_size),
            clock.now,
            after_commit=wake_relay,
        )
        outbox_store = SqlOutboxStore(database)
        catalog_reader = SqlCatalogReader(database)
    uow: UnitOfWorkFactory = database.unit_of_work

    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    mailer = _build_mailer(settings)
    catalog_cache: Cache = RedisCache(redis) if redis else MemoryCache()
    payments = _build_payments(settings, clock, database)
    calendars = IcalendarWriter()
    messaging = MessagingService(
        uow,
        clock=clock,
        mailer=mailer,
        renderer=JinjaEmailRenderer(),
        platform_name=email.utils.parseaddr(settings.mail_from)[0] or "CPD Events",
    )
    registrations = RegistrationService(
        uow,
        clock=clock,
        catalog_cache=catalog_cache,
        payments=payments,
        messaging=messaging,
        calendars=calendars,
        public_base_url=settings.public_base_url,
        reactions=POLICIES,
    )
    video_meetings = _build_video_meetings(settings)
    meetings = MeetingService(uow, clock=clock, meetings=video_meetings, reactions=POLICIES)
    certificate_renderer = TypstCertificateRenderer(
        font_dirs=[Path(folder) for folder in settings.certificate_font_paths],
        processes=settings.certificate_render_processes,
        render_seconds=settings.certificate_render_seconds,
        check_processes=settings.certificate_checks_at_once,
        check_seconds=settings.certificate_check_seconds,
        memory_mib=settings.certificate_render_memory_mib,
    )
    files = _build_file_storage(settings)
    certificates = CertificateService(
        uow,
        clock=clock,
        renderer=certificate_renderer,
        files=files,
        messaging=messaging,
        public_base_url=settings.public_base_url,
    )
    tokens = _build_token_issuer(settings)
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        threads=settings.password_hash_threads,
    )

    def seconds() -> float:  # the throttle keeps the container's time (tests move it)
        return clock.now().timestamp()

    throttle: AttemptThrottle = (
        RedisAttemptThrottle(redis, now=seconds) if redis else MemoryAttemptThrottle(now=seconds)
    )
    accounts = AccountService(
        uow,
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        throttle=throttle,
        limits=_account_limits(settings),
        public_base_url=settings.public_base_url,
    )
    handlers: TaskHandlers = handlers_of(
        certificates, meetings, messaging, registrations, accounts, ping
    )
    saq_queue = (
        open_queue(settings.redis_url)
        if settings.task_queue == "saq" and settings.redis_url
        else None
    )
    task_runner = TaskRunner(
        outbox_store, handlers, clock, hold_seconds=settings.task_heartbeat_seconds
    )
    queue: TaskQueue = (
        SaqTaskQueue(
            saq_queue,
            attempts=settings.task_attempts,
            timeout=settings.task_timeout_seconds,
            heartbeat=settings.task_heartbeat_seconds,
        )
        if saq_queue is not None
        else InProcessTaskQueue(task_runner)
    )
    relay = OutboxRelay(outbox_store, queue, clock)
    relay_ref.append(relay)

    return Container(
        certificate_renderer=certificate_renderer,
        files=files,
        certificates=certificates,
        credentials=CredentialService(
            uow,
            clock=clock,
            signer=JwsCredentialSigner(
                settings.credential_signing_secret, settings.credential_algorithm
            ),
            urls=CredentialUrls(settings.public_base_url),
        ),
        certificate_design=CertificateDesignService(
            uow,
            clock=clock,
            renderer=certificate_renderer,
            checks=CheckSlots(
                at_once=settings.certificate_checks_at_once,
                per_organization=settings.certificate_checks_per_organization,
            ),
        ),
        calendars=calendars,
        qr_codes=SegnoQrCodes(),
        video_meetings=video_meetings,
        meetings=meetings,
        messaging=messaging,
        settings=settings,
        clock=clock,
        database=database,
        uow=uow,
        outbox_store=outbox_store,
        mailer=mailer,
        task_handlers=handlers,
        task_queue=queue,
        saq_queue=saq_queue,
        task_runner=task_runner,
        relay=relay,
        tokens=tokens,
        hasher=hasher,
        accounts=accounts,
        organizations=OrganizationService(
            uow,
            clock=clock,
            public_base_url=settings.public_base_url,
            catalog_cache=catalog_cache,
            signup=OrganizationSignup(settings.organization_signup_mode),
            throttle=throttle,
            invitation_limits=InvitationLimits(
                per_organization=_hourly(settings.invitations_per_organization),
                per_recipient=_hourly(settings.account_mail_per_recipient),
            ),
        ),
        events=EventService(uow, clock=clock, catalog_cache=catalog_cache, reactions=POLICIES),
        courses=CourseService(uow, clock=clock, catalog_cache=catalog_cache),
        attendance=AttendanceService(uow, clock=clock, reactions=POLICIES),
        registrations=registrations,
        reminders=ReminderService(uow, outbox_store, clock=clock),
        payments=payments,
        catalog=CatalogService(catalog_reader, uow, cache=catalog_cache),
        catalog_cache=catalog_cache,
        health_probes=[
            database,
            *([RedisProbe(redis)] if redis else []),
            *([files] if isinstance(files, S3FileStorage) else []),
        ],
        redis=redis,
    )


def _account_limits(settings: Settings) -> AccountLimits:
    def sign_in(free: int) -> AttemptPolicy:
        longest = settings.login_window_seconds
        return AttemptPolicy(free, settings.login_first_delay_seconds, longest, memory=longest)

    return AccountLimits(
        sign_in=sign_in(settings.login_max_failures),
        sign_in_address=sign_in(settings.login_address_max_failures),
        mail_recipient=_hourly(settings.account_mail_per_recipient),
        mail_address=_hourly(settings.account_mail_per_address),
    )


def _hourly(free: int) -> AttemptPolicy:
    """So many an hour, then waits of a minute, two, ... at most an hour."""
    return AttemptPolicy(free, first_delay=60, max_delay=3600, memory=3600)


def _ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _build_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "memory":
        return MemoryMailer()
    if settings.mail_backend == "smtp":
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
        )
    return FileOutboxMailer(Path(settings.mail_outbox_dir), sender=settings.mail_from)


def _build_file_storage(settings: Settings) -> FileStorage:
    if settings.file_storage == "memory":
        return MemoryFileStorage()
    if settings.file_storage == "s3":
        assert settings.s3_bucket  # Settings.check ensured it
        return S3FileStorage(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id or None,
            secret_access_key=settings.s3_secret_access_key or None,
        )
    return LocalFileStorage(Path(settings.file_storage_dir))


def _build_token_issuer(settings: Settings) -> JoseTokenIssuer:
    if settings.jwt_algorithm.startswith("HS"):
        signing_key, verifying_key = settings.secret_key, settings.secret_key
    else:
        assert settings.jwt_private_key_file  # Settings.check ensured both files
        assert settings.jwt_public_key_file
        signing_key = Path(settings.jwt_private_key_file).read_text()
        verifying_key = Path(settings.jwt_public_key_file).read_text()
    return JoseTokenIssuer(
        algorithm=settings.jwt_algorithm,
        signing_key=signing_key,
        verifying_key=verifying_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )


def _build_payments(
    settings: Settings, clock: Clock, database: SqlDatabase | MemoryDatabase
) -> PaymentGateway:
    if settings.payment_provider == "stripe":
        assert settings.stripe_api_key  # Settings.check ensured both
        assert settings.stripe_webhook_secret
        return StripeGateway(
            settings.stripe_api_key,
            settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
        )
    ledger = SqlOfflineLedger(database) if isinstance(database, SqlDatabase) else None
    return OfflineGateway(ledger, clock)  # None: in this process, like the memory database


def _build_video_meetings(settings: Settings) -> VideoMeetings:
    if settings.video_provider == "zoom":
        assert settings.zoom_account_id  # Settings.check ensured all four
        assert settings.zoom_client_id
        assert settings.zoom_client_secret
        assert settings.zoom_webhook_secret
        return ZoomMeetings(
            account_id=settings.zoom_account_id,
            client_id=settings.zoom_client_id,
            client_secret=settings.zoom_client_secret,
            webhook_secret=settings.zoom_webhook_secret,
            api_base=settings.zoom_api_base or "https://api.zoom.us/v2",
            oauth_base=settings.zoom_oauth_base or "https://zoom.us",
        )
    return FakeVideoMeetings(settings.zoom_webhook_secret or DEV_WEBHOOK_SECRET)
