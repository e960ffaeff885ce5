"""Where a background job's progress is read (``GET /jobs/{id}``): answers that start a job
point at it, in their body and, for a 202, in ``Location``."""

from __future__ import annotations

from uuid import UUID

JOBS_PATH = "/api/v1/jobs"


def job_url(job_id: UUID) -> str:
    return f"{JOBS_PATH}/{job_id}"
