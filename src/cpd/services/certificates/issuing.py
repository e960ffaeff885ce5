"""Issuing certificates, rendering and delivering them, and letting anyone verify them.

Issuing is decided in a transaction (who is eligible, the organization's next serials); the
PDF is rendered afterwards by the worker, stored, and emailed. Every step is idempotent: a
certificate is unique per person and activity, a PDF is recorded for the version it was
rendered from, and the email is keyed by its task. So a bulk job that dies halfway is simply
run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from uuid import UUID

from cpd.domain.accounts import Actor, Organization, User
from cpd.domain.certificate_design import CertificateTemplate
from cpd.domain.certificates import (
    TEXT_LIMITS,
    Activity,
    Certificate,
    CertificateFields,
    CertificateSource,
    Holder,
    Verification,
    normalise_verification_code,
)
from cpd.domain.courses import EnrollmentStatus
from cpd.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from cpd.domain.events import Event, EventStatus
from cpd.domain.jobs import Job, JobStatus
from cpd.domain.messaging import Attachment
from cpd.domain.pages import Page, PageRequest
from cpd.domain.tasks import Task
from cpd.domain.text import checked_text
from cpd.ports.certificates import CertificateRenderer
from cpd.ports.platform import Clock, FileStorage
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.certificates.eligibility import (
    Eligibility,
    course_activity,
    eligible_without_certificate,
    event_activity,
    event_eligibility,
    holder_of,
)
from cpd.services.certificates.tasks import (
    DeliverCertificate,
    IssueEventCertificates,
    RenderCertificate,
    deliver_task_of,
    delivery_id,
    render_task_of,
)
from cpd.services.common.access import is_staff, require_staff
from cpd.services.common.lookups import COURSE_NOT_FOUND, EVENT_NOT_FOUND
from cpd.services.common.tasks import handles
from cpd.services.messaging.emails import certificate_email
from cpd.services.messaging.messages import MessagingService

log = logging.getLogger(__name__)

EVENT_CERTIFICATES_JOB = "event_certificates"
CERTIFICATE_NOT_FOUND = "Certificate not found."
JOB_NOT_FOUND = "Job not found."
ISSUE_BATCH = 200  # certificates created per transaction
RENDER_RETRY_SECONDS = 300  # a failed download: until someone corrects the template
RENDER_BATCH = 50  # certificates rendered per call to the renderer (and per progress step)
PDF = "application/pdf"


async def queue_event_certificates(
    uow: UnitOfWork, event: Event, *, now: datetime, created_by: UUID | None
) -> Job:
    """Start the bulk job for a completed event, in the caller's transaction."""
    job = Job.queue(
        EVENT_CERTIFICATES_JOB,
        organization_id=event.organization_id,
        subject_id=event.id,
        now=now,
        created_by=created_by,
    )
    await uow.jobs.add(job)
    uow.outbox.add(IssueEventCertificates(job.id).task())
    return job


class CertificateService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        renderer: CertificateRenderer,
        files: FileStorage,
        messaging: MessagingService,
        public_base_url: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._renderer = renderer
        self._files = files
        self._messaging = messaging
        self._base_url = public_base_url.rstrip("/")

    def verification_url(self, code: str) -> str:
        """What the QR code on the certificate points to: the public verification page."""
        return f"{self._base_url}/verify/{code}"

    # -- issuing ---------------------------------------------------------------------------

    async def issue_for_event(self, actor: Actor, event_id: UUID) -> Job:
        """Staff: issue every eligible attendee's certificate, as a job to follow."""
        async with self._uow() as uow:
            event = await uow.events.get(event_id)
            if event is None:
                raise NotFound(EVENT_NOT_FOUND)
            await require_staff(uow, actor, event.organization_id, not_found=EVENT_NOT_FOUND)
            if event.status is not EventStatus.COMPLETED:
                raise Conflict(
                    f"Certificates are issued once the event is completed; it is {event.status}.",
                    field="status",
                )
            job = await queue_event_certificates(
                uow, event, now=self._clock.now(), created_by=actor.user_id
            )
            await uow.commit()
        return job

    async def issue(
        self,
        actor: Actor,
        source: CertificateSource,
        source_id: UUID,
        user_id: UUID,
        *,
        override_reason: str | None = None,
    ) -> Certificate:
        """Staff: issue one person's certificate now. When the rules say they have not earned
        it, staff may issue it anyway with ``override_reason`` (kept on the certificate)."""
        now = self._clock.now()
        async with self._uow() as uow:
            organization_id, activity, eligibility, link = await self._one(
                uow, source, source_id, user_id, now
            )
            await require_staff(uow, actor, organization_id, not_found=_not_found(source))
            if not eligibility.eligible and not (override_reason and override_reason.strip()):
                raise Conflict(
                    f"{eligibility.reason} Give override_reason to issue it anyway.",
                    field="override_reason",
                )
            if await uow.certificates.for_activity(source_id, user_id) is not None:
                raise Conflict(
                    "This person already has a certificate for this activity.", field="user_id"
                )
            user = await uow.users.get(user_id)
            if user is None:
                raise InvalidInput("No such user.", field="user_id")
            (certificate,) = await self._create(
                uow,
                organization_id,
                activity,
                [(user, link)],
                now=now,
                issued_by=actor.user_id,
                override_reason=None if eligibility.eligible else override_reason,
            )
            uow.outbox.add(render_task_of(certificate, email=True))
            await uow.commit()
        return certificate

    async def _one(
        self, uow: UnitOfWork, source: CertificateSource, source_id: UUID, user_id: UUID,
        now: datetime,
    ) -> tuple[UUID, Activity, Eligibility, UUID | None]:  # fmt: skip
        """(organization, activity, eligibility, registration or enrollment id) of one person."""
        if source is CertificateSource.EVENT:
            event = await uow.events.get(source_id)
            if event is None:
                raise NotFound(EVENT_NOT_FOUND)
            registration = await uow.registrations.active_for(event.id, user_id)
            return (
                event.organization_id,
                event_activity(event),
                await event_eligibility(uow, event, user_id),
                registration.id if registration else None,
            )
        course = await uow.courses.get(source_id)
        if course is None:
            raise NotFound(COURSE_NOT_FOUND)
        enrollment = await uow.enrollments.get(course.id, user_id)
        completed = enrollment is not None and enrollment.status is EnrollmentStatus.COMPLETED
        return (
            course.organization_id,
            course_activity(course, now.date()),
            Eligibility(True) if completed else Eligibility(False, "The course is not completed."),
            enrollment.id if enrollment else None,
        )

    async def _create(
        self,
        uow: UnitOfWork,
        organization_id: UUID,
        activity: Activity,
        holders: Sequence[tuple[User, UUID | None]],
        *,
        now: datetime,
        issued_by: UUID | None = None,
        override_reason: str | None = None,
    ) -> list[Certificate]:
        """New certificates with the organization's next serials, its default template and
        the badges that come with the activity."""
        organization = await _organization(uow, organization_id)
        template = await uow.certificate_templates.default_for(organization_id)
        badges = await uow.badges.awarded_for(organization_id, activity.source_id)
        first = await uow.certificates.reserve_sequences(organization_id, len(holders))
        certificates = [
            Certificate.issue(
                organization_id=organization_id,
                organization_slug=organization.slug,
                holder=holder_of(user),
                activity=activity,
                sequence=first + offset,
                now=now,
                registration_id=link if activity.source is CertificateSource.EVENT else None,
                enrollment_id=link if activity.source is CertificateSource.COURSE else None,
                template_id=template.id if template else None,
                badge_ids=tuple(b.id for b in badges),
                issued_by=issued_by,
                override_reason=override_reason,
            )
            for offset, (user, link) in enumerate(holders)
        ]
        await uow.certificates.add(*certificates)
        return certificates

    @handles(IssueEventCertificates)
    async def run_event_job(self, task: Task) -> None:
        """The ``issue_event_certificates`` task."""
        await self.run_job(IssueEventCertificates.of(task).job_id)

    async def issue_for_event_now(
        self, event_id: UUID, on_progress: Callable[[Job], None] | None = None
    ) -> Job:
        """Operators (the CLI): run the bulk job for a completed event in this process."""
        async with self._uow() as uow:
            event = await uow.events.get(event_id)
            if event is None:
                raise NotFound(EVENT_NOT_FOUND)
            if event.status is not EventStatus.COMPLETED:
                raise Conflict(f"The event is {event.status}, not completed.", field="status")
            job = Job.queue(
                EVENT_CERTIFICATES_JOB,
                organization_id=event.organization_id,
                subject_id=event.id,
                now=self._clock.now(),
                created_by=None,
            )
            await uow.jobs.add(job)
            await uow.commit()
        return await self.run_job(job.id, on_progress)

    async def run_job(self, job_id: UUID, on_progress: Callable[[Job], None] | None = None) -> Job:
        """Create the eligible attendees' certificates, then render, store and email them in
        batches, counting progress on the job (``on_progress`` sees each step)."""

        async def step(change: Callable[[Job], None], tasks: Sequence[Task] = ()) -> Job:
            async with self._uow() as uow:
                job = await uow.jobs.get(job_id)
                assert job is not None
                change(job)
                await uow.jobs.save(job)
                for task in tasks:
                    uow.outbox.add(task)
                await uow.commit()
            if on_progress is not None:
                on_progress(job)
            return job

        async with self._uow() as uow:
            job = await uow.jobs.get(job_id)
            event = await uow.events.get(job.subject_id) if job else None
            if job is None:
                raise NotFound(JOB_NOT_FOUND)
            if job.status is JobStatus.COMPLETED:
                return job  # a redelivery of a finished job
            newcomers = await eligible_without_certificate(uow, event) if event else []
            waiting = len(await uow.certificates.unrendered(job.subject_id, limit=1_000_000))
        if event is None:
            return await step(
                lambda j: j.fail("The event no longer exists.", now=self._clock.now())
            )
        await step(lambda j: j.start(len(newcomers) + waiting, now=self._clock.now()))
        for start in range(0, len(newcomers), ISSUE_BATCH):
            await self._issue_batch(event, newcomers[start : start + ISSUE_BATCH])
        failed: set[UUID] = set()  # tried in this run: not again until the job runs again
        while batch := await self._unrendered(event.id, skip=failed):
            rendered, errors = await self._render_batch(batch)
            failed |= {c.id for c in batch} - {c.id for c in rendered}
            await step(
                partial(Job.progress, done=len(rendered), failed=len(errors), errors=(*errors,)),
                [deliver_task_of(certificate) for certificate in rendered],
            )
        job = await step(lambda j: j.finish(now=self._clock.now()))
        log.info("certificates job %s: %s done, %s failed", job.id, job.done, job.failed)
        return job

    async def _issue_batch(
        self, event: Event, batch: Sequence[tuple[UUID, UUID | None]], attempts: int = 3
    ) -> None:
        """Certificates for ``batch`` (person, registration), skipping whoever got one
        meanwhile. Two jobs of one event at once (completion's and a staff run) race on the
        unique (activity, holder) index: the loser's transaction rolls back whole, serials
        included, and it tries again without the people the winner certified."""
        links = dict(batch)
        for attempt in range(1, attempts + 1):
            try:
                async with self._uow() as uow:
                    have = await uow.certificates.holders(event.id)
                    users = await uow.users.get_many([u for u in links if u not in have])
                    if users:
                        await self._create(
                            uow,
                            event.organization_id,
                            event_activity(event),
                            [(user, links[user.id]) for user in users],
                            now=self._clock.now(),
                        )
                        await uow.commit()
                return
            except Conflict:
                if attempt == attempts:
                    raise
                log.info("certificates of event %s issued concurrently; trying again", event.id)

    async def _unrendered(self, source_id: UUID, *, skip: set[UUID]) -> list[Certificate]:
        async with self._uow() as uow:
            found = await uow.certificates.unrendered(source_id, RENDER_BATCH + len(skip))
        return [c for c in found if c.id not in skip][:RENDER_BATCH]

    # -- rendering and delivery ------------------------------------------------------------

    async def _render_batch(
        self, certificates: Sequence[Certificate]
    ) -> tuple[list[Certificate], list[str]]:
        """Render, store and record; a certificate that fails is reported, the rest go on."""
        by_template: dict[UUID | None, list[Certificate]] = {}
        for certificate in certificates:
            by_template.setdefault(certificate.template_id, []).append(certificate)
        rendered: list[Certificate] = []
        errors: list[str] = []
        for template_id, group in by_template.items():
            design, organization = await self._design(group[0].organization_id, template_id)
            fields = [self._fields(c, organization, design) for c in group]
            source = design.source if design else None
            outcomes = await self._renderer.render_many(source, fields)
            made = []
            for certificate, outcome in zip(group, outcomes, strict=True):
                if isinstance(outcome, InvalidInput):
                    errors.append(f"{certificate.serial_number}: {outcome.detail}")
                else:
                    made.append((certificate, outcome))
            rendered += await self._store(made)
        return rendered, errors

    async def _store(self, made: Sequence[tuple[Certificate, bytes]]) -> list[Certificate]:
        """Store the PDFs at once, then record them in one transaction (one commit per
        certificate was a third of the job's time on SQLite); those re-issued meanwhile are
        left out (their new version renders on its own)."""
        await asyncio.gather(
            *(self._files.put(c.storage_key, pdf, content_type=PDF) for c, pdf in made)
        )
        stored = []
        async with self._uow() as uow:
            for certificate, _ in made:
                key = certificate.storage_key
                if await uow.certificates.record_pdf(certificate.id, certificate.version, key):
                    certificate.rendered(key)
                    stored.append(certificate)
            await uow.commit()
        return stored

    async def _design(
        self, organization_id: UUID, template_id: UUID | None
    ) -> tuple[CertificateTemplate | None, Organization]:
        async with self._uow() as uow:
            organization = await _organization(uow, organization_id)
            template = await uow.certificate_templates.get(template_id) if template_id else None
        return template, organization

    def _fields(
        self,
        certificate: Certificate,
        organization: Organization,
        design: CertificateTemplate | None,
    ) -> CertificateFields:
        return certificate.fields(
            organization_name=organization.name,
            verification_url=self.verification_url(certificate.verification_code),
            logo=design.logo if design else None,
            signatory_name=design.signatory_name if design else None,
            signatory_title=design.signatory_title if design else None,
        )

    @handles(RenderCertificate)
    async def render_task(self, task: Task) -> None:
        """The ``render_certificate`` task: render the version it names, unless it is stale."""
        render = RenderCertificate.of(task)
        certificate = await self._load(render.certificate_id)
        if certificate is None or certificate.version != render.version:
            return  # re-issued since: that version's own task renders it
        if certificate.pdf_key is None:
            rendered, errors = await self._render_batch([certificate])
            if errors:
                raise InvalidInput(errors[0], field="template")  # retried, then left to see
            if not rendered:
                return
        if render.email:
            async with self._uow() as uow:
                uow.outbox.add(deliver_task_of(certificate))
                await uow.commit()

    @handles(DeliverCertificate)
    async def deliver_task(self, task: Task) -> None:
        """The ``deliver_certificate`` task: email the PDF to its holder (once per task)."""
        delivery = DeliverCertificate.of(task)
        certificate = await self._load(delivery.certificate_id)
        if (
            certificate is None
            or not certificate.is_valid
            or certificate.version != delivery.version
        ):
            return
        async with self._uow() as uow:
            user = await uow.users.get(certificate.holder.user_id)
            organization = await _organization(uow, certificate.organization_id)
        if user is None:
            return
        pdf = await self._pdf(certificate)
        email = certificate_email(
            user,
            organization,
            certificate_id=certificate.id,
            number=certificate.serial_number,
            activity=certificate.activity.title,
            credits=certificate.activity.cpd_credits,
            credit_category=certificate.activity.credit_category,
            issued_at=certificate.issued_at,
            verify_url=self.verification_url(certificate.verification_code),
            filename=certificate.filename,
        )
        attachment = Attachment(certificate.filename, PDF, pdf)
        await self._messaging.deliver(delivery_id(certificate), email, (attachment,))

    async def _pdf(self, certificate: Certificate) -> bytes:
        """The stored PDF of the current version, rendered now if the worker has not yet."""
        if certificate.pdf_key is not None and await self._files.exists(certificate.pdf_key):
            return await self._files.get(certificate.pdf_key)
        design, organization = await self._design(
            certificate.organization_id, certificate.template_id
        )
        try:
            pdf = await self._renderer.render(
                design.source if design else None, self._fields(certificate, organization, design)
            )
        except InvalidInput as error:  # the organization's template, not the caller, failed
            log.warning("certificate %s could not be rendered: %s", certificate.id, error.detail)
            raise Unavailable(
                "This certificate's PDF cannot be made right now: its template failed "
                f"({error.detail}). The organization has to correct its template.",
                retry_after=RENDER_RETRY_SECONDS,
            ) from None
        await self._store([(certificate, pdf)])
        return pdf

    async def _load(self, certificate_id: UUID) -> Certificate | None:
        async with self._uow() as uow:
            return await uow.certificates.get(certificate_id)

    # -- staff changes ---------------------------------------------------------------------

    async def revoke(self, actor: Actor, certificate_id: UUID, reason: str) -> Certificate:
        async with self._uow() as uow:
            certificate = await self._staff_certificate(uow, actor, certificate_id)
            certificate.revoke(reason, now=self._clock.now())
            await uow.certificates.save(certificate)
            await uow.commit()
        return certificate

    async def reissue(
        self, actor: Actor, certificate_id: UUID, *, holder_name: str | None = None
    ) -> Certificate:
        """A corrected copy with the same code: the holder's current name (or ``holder_name``)
        and the activity's current title and credits. The new PDF is emailed again."""
        async with self._uow() as uow:
            certificate = await self._staff_certificate(uow, actor, certificate_id)
            user = await uow.users.get(certificate.holder.user_id)
            holder = holder_of(user) if user else certificate.holder
            if holder_name is not None:
                name = checked_text(holder_name, "holder_name", TEXT_LIMITS["holder_name"])
                holder = Holder(holder.user_id, name, holder.registration_number)
            activity = await self._current_activity(uow, certificate)
            certificate.reissue(now=self._clock.now(), holder=holder, activity=activity)
            await uow.certificates.save(certificate)
            uow.outbox.add(render_task_of(certificate, email=True))
            await uow.commit()
        return certificate

    async def _current_activity(self, uow: UnitOfWork, certificate: Certificate) -> Activity:
        kept = certificate.activity
        if kept.source is CertificateSource.EVENT:
            event = await uow.events.get(kept.source_id)
            return event_activity(event) if event else kept
        course = await uow.courses.get(kept.source_id)
        completed_on = kept.completed_on or certificate.issued_at.date()
        return course_activity(course, completed_on) if course else kept

    async def _staff_certificate(
        self, uow: UnitOfWork, actor: Actor, certificate_id: UUID
    ) -> Certificate:
        certificate = await uow.certificates.get_for_update(certificate_id)
        if certificate is None:
            raise NotFound(CERTIFICATE_NOT_FOUND)
        await require_staff(
            uow, actor, certificate.organization_id, not_found=CERTIFICATE_NOT_FOUND
        )
        return certificate

    # -- reading ---------------------------------------------------------------------------

    async def mine(self, actor: Actor, page: PageRequest) -> Page[Certificate]:
        async with self._uow() as uow:
            return await uow.certificates.list_for_holder(actor.user_id, page)

    async def for_event(self, actor: Actor, event_id: UUID, page: PageRequest) -> Page[Certificate]:
        async with self._uow() as uow:
            event = await uow.events.get(event_id)
            if event is None:
                raise NotFound(EVENT_NOT_FOUND)
            await require_staff(uow, actor, event.organization_id, not_found=EVENT_NOT_FOUND)
            return await uow.certificates.list_for_activity(event_id, page)

    async def get(self, actor: Actor, certificate_id: UUID) -> Certificate:
        """The holder and the organization's staff see it; to anyone else it does not exist."""
        async with self._uow() as uow:
            certificate = await uow.certificates.get(certificate_id)
            if certificate is None or not (
                certificate.holder.user_id == actor.user_id
                or await is_staff(uow, actor, certificate.organization_id)
            ):
                raise NotFound(CERTIFICATE_NOT_FOUND)
        return certificate

    async def download(self, actor: Actor, certificate_id: UUID) -> tuple[Certificate, bytes]:
        certificate = await self.get(actor, certificate_id)
        return certificate, await self._pdf(certificate)

    async def verify(self, code: str) -> Verification:
        """Public: what the certificate with this code says, and whether it still stands."""
        canonical = normalise_verification_code(code)
        async with self._uow() as uow:
            certificate = await uow.certificates.by_code(canonical)
            if certificate is None:
                raise NotFound("No certificate has this code.")
            organization = await _organization(uow, certificate.organization_id)
        return Verification.of(certificate, organization.name)

    async def job(self, actor: Actor, job_id: UUID) -> Job:
        async with self._uow() as uow:
            job = await uow.jobs.get(job_id)
            if job is None:
                raise NotFound(JOB_NOT_FOUND)
            if job.created_by != actor.user_id:
                await require_staff(uow, actor, job.organization_id, not_found=JOB_NOT_FOUND)
        return job


async def _organization(uow: UnitOfWork, organization_id: UUID) -> Organization:
    organization = await uow.organizations.get(organization_id)
    if organization is None:  # the foreign key makes this unreachable
        raise NotFound("Organization not found.")
    return organization


def _not_found(source: CertificateSource) -> str:
    return EVENT_NOT_FOUND if source is CertificateSource.EVENT else COURSE_NOT_FOUND
