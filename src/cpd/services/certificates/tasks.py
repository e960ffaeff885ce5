"""The certificates context's tasks: a completed event's bulk job, and each certificate's
render and delivery (per version: a re-issue is a new version with tasks of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from cpd.domain.tasks import TaskData


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
