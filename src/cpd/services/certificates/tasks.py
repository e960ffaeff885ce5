"""The certificates context's tasks: a completed event's bulk job, and each certificate's
render and delivery (per version: a re-issue is a new version with tasks of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID, uuid5

from cpd.domain.certificates import Certificate
from cpd.domain.tasks import Task, TaskData

_DELIVERIES = UUID("0b6f3f9e-2d3c-4a51-9a64-7c1d2e8f5a10")  # uuid5 namespace of delivery ids


@dataclass(frozen=True, slots=True)
class IssueEventCertificates(TaskData):
    NAME: ClassVar[str] = "issue_event_certificates"
    job_id: UUID


@dataclass(frozen=True, slots=True)
class RenderCertificate(TaskData):
    NAME: ClassVar[str] = "render_certificate"
    certificate_id: UUID
    version: int
    email: bool = False  # deliver it once rendered


@dataclass(frozen=True, slots=True)
class DeliverCertificate(TaskData):
    NAME: ClassVar[str] = "deliver_certificate"
    certificate_id: UUID
    version: int


def render_task_of(certificate: Certificate, *, email: bool) -> Task:
    return RenderCertificate(certificate.id, certificate.version, email=email).task()


def delivery_id(certificate: Certificate) -> UUID:
    """One email per certificate version, whichever path (a job, a re-issue) reaches it."""
    return uuid5(_DELIVERIES, f"{certificate.id}:{certificate.version}")


def deliver_task_of(certificate: Certificate) -> Task:
    """Its id is the delivery's: a job and a re-issue that both reach a version queue one."""
    return DeliverCertificate(certificate.id, certificate.version).task(id=delivery_id(certificate))
