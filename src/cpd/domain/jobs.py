"""Long-running work people wait for (bulk certificate issuing), with progress to show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from cpd.domain.ids import new_id

MAX_JOB_ERRORS = 50  # kept on the job; the rest are counted, not listed


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(slots=True, kw_only=True)
class Job:
    """A unit of background work with a total, a count done and a count failed.

    ``subject_id`` is what it works on (an event); ``organization_id`` says whose staff may
    watch it. A job is run by a task and may be run again (a retried task): it restarts its
    counts, and the work itself is idempotent.
    """

    id: UUID
    kind: str
    organization_id: UUID
    subject_id: UUID
    created_at: datetime
    created_by: UUID | None = None  # None: started by the platform (late attendance)
    status: JobStatus = JobStatus.QUEUED
    total: int = 0
    done: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def queue(
        cls,
        kind: str,
        *,
        organization_id: UUID,
        subject_id: UUID,
        now: datetime,
        created_by: UUID | None,
    ) -> Job:
        return cls(
            id=new_id(),
            kind=kind,
            organization_id=organization_id,
            subject_id=subject_id,
            created_at=now,
            created_by=created_by,
        )

    def start(self, total: int, *, now: datetime) -> None:
        self.status = JobStatus.RUNNING
        self.total, self.done, self.failed, self.errors = total, 0, 0, ()
        self.started_at, self.finished_at = now, None

    def progress(self, *, done: int = 0, failed: int = 0, errors: tuple[str, ...] = ()) -> None:
        self.done += done
        self.failed += failed
        self.errors = (self.errors + errors)[:MAX_JOB_ERRORS]

    def finish(self, *, now: datetime) -> None:
        self.status = JobStatus.COMPLETED if not self.failed else JobStatus.FAILED
        self.finished_at = now

    def fail(self, error: str, *, now: datetime) -> None:
        self.status = JobStatus.FAILED
        self.errors = (*self.errors, error)[:MAX_JOB_ERRORS]
        self.finished_at = now

    @property
    def percent(self) -> int:
        if self.status is JobStatus.COMPLETED or (self.total == 0 and self.finished_at):
            return 100
        return min(100, (self.done + self.failed) * 100 // self.total) if self.total else 0
