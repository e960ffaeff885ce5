"""Certificates: mine, staff issuing and corrections, bulk jobs, and public verification."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec

from cpd.domain.accounts import Actor
from cpd.domain.certificates import Certificate
from cpd.domain.pages import Page as FoundPage
from cpd.domain.pages import PageRequest
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.certificates.schemas import (
    CertificateOut,
    CertificatePage,
    IssueIn,
    JobOut,
    ReissueIn,
    RevokeIn,
    VerificationOut,
    certificate_out,
    job_out,
)
from cpd.entrypoints.http.common import Page, present
from cpd.entrypoints.http.problems import documented
from cpd.services.certificates.issuing import CertificateService


def _page(found: FoundPage[Certificate], service: CertificateService) -> CertificatePage:
    return Page.of(found, lambda certificate: certificate_out(certificate, service))


class CertificatesController(Controller):
    path = "/"
    tags = ["certificates"]

    @get("/certificates", security=BEARER, summary="My certificates, newest first")
    async def mine(
        self, actor: Actor, certificates: CertificateService, page: PageRequest
    ) -> CertificatePage:
        return _page(await certificates.mine(actor, page), certificates)

    @get(
        "/certificates/{certificate_id:uuid}",
        security=BEARER,
        summary="One certificate (its holder, or the organization's staff)",
        responses=documented(401, 404),
    )
    async def one(
        self, certificate_id: UUID, actor: Actor, certificates: CertificateService
    ) -> CertificateOut:
        return certificate_out(await certificates.get(actor, certificate_id), certificates)

    @get(
        "/certificates/{certificate_id:uuid}/download",
        security=BEARER,
        summary="The certificate as PDF (its holder, or the organization's staff)",
        media_type="application/pdf",
        responses={
            200: ResponseSpec(bytes, media_type="application/pdf", description="The PDF"),
            **documented(401, 404, 503),
        },
    )
    async def download(
        self, certificate_id: UUID, actor: Actor, certificates: CertificateService
    ) -> Response[bytes]:
        certificate, pdf = await certificates.download(actor, certificate_id)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{certificate.filename}"',
                "Cache-Control": "private, no-store",
            },
        )

    @get(
        "/certificates/verify/{code:str}",
        summary="Public: check a certificate by its verification code",
        description="What the certificate prints and whether it stands; a revoked one says "
        "why. Codes are accepted in any case, with or without dashes.",
        responses=documented(400, 404),
    )
    async def verify(self, code: str, certificates: CertificateService) -> VerificationOut:
        return present(await certificates.verify(code), VerificationOut)

    @post(
        "/certificates",
        status_code=201,
        security=BEARER,
        summary="Issue one person's certificate now (org_admin, org_staff)",
        description="Someone who has not earned it (attendance under the threshold, course "
        "not completed) gets it only with override_reason, which the certificate keeps.",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def issue(
        self, data: IssueIn, actor: Actor, certificates: CertificateService
    ) -> CertificateOut:
        certificate = await certificates.issue(
            actor, data.source, data.source_id, data.user_id, override_reason=data.override_reason
        )
        return certificate_out(certificate, certificates)

    @post(
        "/certificates/{certificate_id:uuid}/revoke",
        status_code=200,
        security=BEARER,
        summary="Revoke a certificate (org_admin, org_staff); verification then says so",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def revoke(
        self, certificate_id: UUID, data: RevokeIn, actor: Actor, certificates: CertificateService
    ) -> CertificateOut:
        revoked = await certificates.revoke(actor, certificate_id, data.reason)
        return certificate_out(revoked, certificates)

    @post(
        "/certificates/{certificate_id:uuid}/reissue",
        status_code=200,
        security=BEARER,
        summary="Re-issue with corrections: same code, next version, emailed again",
        description="Takes the holder's current name (or holder_name) and the activity's "
        "current title and credits.",
        responses=documented(400, 401, 403, 404, 409),
    )
    async def reissue(
        self,
        certificate_id: UUID,
        actor: Actor,
        certificates: CertificateService,
        data: ReissueIn | None = None,
    ) -> CertificateOut:
        holder_name = data.holder_name if data else None
        reissued = await certificates.reissue(actor, certificate_id, holder_name=holder_name)
        return certificate_out(reissued, certificates)

    @post(
        "/events/{event_id:uuid}/certificates/issue",
        status_code=202,
        security=BEARER,
        summary="Issue every eligible attendee's certificate, as a job (org_admin, org_staff)",
        description="Eligible: a confirmed registration and attendance at or above the event's "
        "threshold. Follow progress at the job's url, also in the Location header.",
        response_headers=[
            ResponseHeader(
                name="Location", description="The job's status route", documentation_only=True
            )
        ],
        responses=documented(401, 403, 404, 409),
    )
    async def issue_for_event(
        self, event_id: UUID, actor: Actor, certificates: CertificateService
    ) -> Response[JobOut]:
        job = job_out(await certificates.issue_for_event(actor, event_id))
        return Response(job, status_code=202, headers={"Location": job.url})

    @get(
        "/events/{event_id:uuid}/certificates",
        security=BEARER,
        summary="The event's certificates by serial (org_admin, org_staff)",
        responses=documented(401, 403, 404),
    )
    async def for_event(
        self, event_id: UUID, actor: Actor, certificates: CertificateService, page: PageRequest
    ) -> CertificatePage:
        return _page(await certificates.for_event(actor, event_id, page), certificates)

    @get(
        "/jobs/{job_id:uuid}",
        security=BEARER,
        summary="A background job's progress (who started it, or the organization's staff)",
        responses=documented(401, 403, 404),
    )
    async def job(self, job_id: UUID, actor: Actor, certificates: CertificateService) -> JobOut:
        return job_out(await certificates.job(actor, job_id))
