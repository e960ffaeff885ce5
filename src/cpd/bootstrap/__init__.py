"""The composition root: settings in, every adapter and service wired once, out.

The HTTP app, the worker and the CLI all call ``build_container``; nothing else constructs
adapters, so the wiring under test is the wiring in production. Each area's builder imports
the adapters its settings choose, and registers their closers and health probes.
"""

from __future__ import annotations

import email.utils

from cpd.bootstrap.container import Container, Resources, prepare_schema
from cpd.bootstrap.persistence import build_persistence
from cpd.bootstrap.platform import (
    build_redis,
    build_saq_queue,
    build_shared_state,
    build_task_queue,
)
from cpd.bootstrap.providers import (
    build_certificate_renderer,
    build_file_storage,
    build_mailer,
    build_payments,
    build_video_meetings,
)
from cpd.bootstrap.security import (
    build_credential_signer,
    build_password_hasher,
    build_token_issuer,
)
from cpd.domain.accounts import OrganizationSignup
from cpd.domain.auth import AttemptPolicy
from cpd.domain.credentials import CredentialUrls
from cpd.ports.platform import Clock, TaskHandlers
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
from cpd.services.registrations.emails import RegistrantEmails
from cpd.services.registrations.reminders import ReminderService
from cpd.settings import Settings

__all__ = ["Container", "build_container", "prepare_schema_only"]


async def prepare_schema_only(settings: Settings) -> None:
    """``Container.prepare_schema`` with persistence alone built: what ``cpd serve`` does
    before its server workers start, without loading every adapter for it."""
    from cpd.adapters.system import SystemClock

    resources = Resources()
    build_persistence(settings, SystemClock().now, lambda: None, resources)
    try:
        await prepare_schema(resources.schema, settings)
    finally:
        await resources.close()


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    if clock is None:
        from cpd.adapters.system import SystemClock

        clock = SystemClock()
    resources = Resources()
    relay_ref: list[OutboxRelay] = []

    def wake_relay() -> None:
        if relay_ref:
            relay_ref[0].wake()

    def seconds() -> float:  # the throttle keeps the container's time (tests move it)
        return clock.now().timestamp()

    persistence = build_persistence(settings, clock.now, wake_relay, resources)
    database = persistence.database
    uow = database.unit_of_work
    redis = build_redis(settings, resources)
    shared = build_shared_state(redis, seconds)
    catalog_cache = shared.cache

    from cpd.adapters.documents.calendars import IcalendarWriter
    from cpd.adapters.documents.qr_codes import SegnoQrCodes
    from cpd.adapters.mail.rendering import JinjaEmailRenderer

    mailer = build_mailer(settings, resources)
    payments = build_payments(settings, clock, persistence.offline_ledger)
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
        reactions=POLICIES,
    )
    registrant_emails = RegistrantEmails(
        uow,
        clock=clock,
        messaging=messaging,
        calendars=calendars,
        public_base_url=settings.public_base_url,
    )
    video_meetings = build_video_meetings(settings)
    meetings = MeetingService(uow, clock=clock, meetings=video_meetings, reactions=POLICIES)
    certificate_renderer = build_certificate_renderer(settings, resources)
    files = build_file_storage(settings, resources)
    certificates = CertificateService(
        uow,
        clock=clock,
        renderer=certificate_renderer,
        files=files,
        messaging=messaging,
        public_base_url=settings.public_base_url,
    )
    tokens = build_token_issuer(settings)
    hasher = build_password_hasher(settings, resources)
    accounts = AccountService(
        uow,
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        throttle=shared.throttle,
        limits=_account_limits(settings),
        public_base_url=settings.public_base_url,
    )
    handlers: TaskHandlers = handlers_of(
        certificates, meetings, messaging, registrations, registrant_emails, accounts, ping
    )
    saq_queue = build_saq_queue(settings, resources)
    outbox_store = persistence.outbox_store
    task_runner = TaskRunner(
        outbox_store, handlers, clock, hold_seconds=settings.task_heartbeat_seconds
    )
    queue = build_task_queue(settings, saq_queue, task_runner)
    relay = OutboxRelay(outbox_store, queue, clock)
    relay_ref.append(relay)

    return Container(
        certificate_renderer=certificate_renderer,
        files=files,
        certificates=certificates,
        credentials=CredentialService(
            uow,
            clock=clock,
            signer=build_credential_signer(settings),
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
            throttle=shared.throttle,
            invitation_limits=InvitationLimits(
                per_organization=_hourly(settings.invitations_per_organization),
                per_recipient=_hourly(settings.account_mail_per_recipient),
            ),
        ),
        events=EventService(uow, clock=clock, catalog_cache=catalog_cache, reactions=POLICIES),
        courses=CourseService(uow, clock=clock, catalog_cache=catalog_cache),
        attendance=AttendanceService(uow, clock=clock, reactions=POLICIES),
        registrations=registrations,
        registrant_emails=registrant_emails,
        reminders=ReminderService(uow, outbox_store, clock=clock),
        payments=payments,
        catalog=CatalogService(persistence.catalog_reader, uow, cache=catalog_cache),
        catalog_cache=catalog_cache,
        resources=resources,
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
