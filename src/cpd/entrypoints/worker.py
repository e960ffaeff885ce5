"""``cpd worker``: the SAQ worker, built by the same composition root as the HTTP app."""

from __future__ import annotations

from cpd.adapters.queues.saq import build_worker
from cpd.bootstrap import build_container
from cpd.entrypoints.scheduler import periodic_jobs
from cpd.settings import Settings


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM; tasks in flight then finish or are retried elsewhere."""
    container = build_container(settings)
    assert container.saq_queue is not None, "CPD_TASK_QUEUE=saq is required"
    try:
        await container.prepare_schema()  # migrate where configured; refuse a schema behind
    except BaseException:
        await container.shutdown()
        raise

    async def startup() -> None:
        await container.relay.drain()  # anything left by processes that died

    worker = build_worker(
        container.saq_queue,
        container.task_runner,
        periodic=periodic_jobs(container),
        concurrency=settings.worker_concurrency,
        sweep_seconds=settings.worker_sweep_seconds,
        startup=startup,
        shutdown=container.shutdown,
    )
    await worker.start()
