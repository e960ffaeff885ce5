"""The operator CLI: ``cpd serve | worker | migrate | tasks | certificates | organizations |
create-superuser | seed-demo``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import click

from cpd.domain.errors import DomainError
from cpd.domain.jobs import Job, JobStatus
from cpd.domain.tasks import TaskState
from cpd.settings import Settings, SettingsError

if TYPE_CHECKING:
    from cpd.bootstrap import Container

# The composition root, the SQL layer, the worker and the logging stack (structlog, rich) are
# imported by the commands that use them, not here: `cpd --help` stays quick.

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        if len(error.problems) == 1:
            raise click.ClickException(f"configuration: {error}") from None
        lines = "".join(f"\n  {problem}" for problem in error.problems)
        raise click.ClickException(
            f"configuration has {len(error.problems)} problems:{lines}"
        ) from None


def _configure_logging(settings: Settings) -> None:
    from cpd.entrypoints.observability import configure_logging

    configure_logging(settings)


def _log_configuration(settings: Settings, command: str) -> None:
    """One line an operator can check at start: what this process will use, no secret."""
    import structlog

    structlog.get_logger("cpd").info(f"{command} starting", **settings.summary())


def _run(work: Callable[[Container], Awaitable[T]], *, migrate_first: bool = True) -> T:
    """Run one async job on a freshly wired container, mapping domain errors to one line."""
    from cpd.bootstrap import build_container
    from cpd.ports.platform import SchemaBehind

    settings = _settings()
    _configure_logging(settings)

    async def main() -> T:
        container = build_container(settings)
        try:
            if migrate_first:
                await container.startup(run_relay=False)
            result = await work(container)
            await container.relay.drain()  # deliver what the job queued (embedded mode)
            return result
        finally:
            await container.shutdown()

    try:
        return asyncio.run(main())
    except DomainError as error:
        field = f" ({error.field})" if error.field else ""
        raise click.ClickException(f"{error.detail}{field}") from None
    except SchemaBehind as error:
        raise click.ClickException(str(error)) from None


def _prepare_schema(settings: Settings) -> None:
    from cpd.bootstrap import prepare_schema_only
    from cpd.ports.platform import SchemaBehind

    try:
        asyncio.run(prepare_schema_only(settings))
    except SchemaBehind as error:
        raise click.ClickException(str(error)) from None


def _interactive() -> bool:
    return sys.stdin.isatty()


@click.group()
@click.version_option(package_name="cpd")
def main() -> None:
    """CPD events platform: operator commands."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option(
    "--server",
    type=click.Choice(["granian", "uvicorn"]),
    default="granian",
    show_default=True,
    help="granian measured faster here (bench/README.md); uvicorn is the fallback.",
)
def serve(host: str, port: int, workers: int, reload: bool, server: str) -> None:
    """Serve the HTTP API (the embedded default needs no configuration)."""
    settings = _settings()
    _configure_logging(settings)
    _log_configuration(settings, "serve")
    if settings.uses_dev_secret:
        click.echo(
            "warning: CPD_SECRET_KEY is the public development default; "
            "tokens are forgeable. Set it before exposing this server.",
            err=True,
        )
    if workers > 1 and settings.state_kept_per_process:
        raise click.ClickException(
            f"--workers {workers} needs state shared by every process, but "
            + "; ".join(settings.state_kept_per_process)
            + ". Change those settings or serve one worker."
        )
    # Migrate (where CPD_AUTO_MIGRATE says) once, here, before any server worker starts; the
    # workers' factory only checks the schema. A schema behind the code stops here.
    _prepare_schema(settings)
    target = "cpd.entrypoints.http.app:create_served_app"
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            target,
            factory=True,
            host=host,
            port=port,
            workers=None if reload else workers,
            reload=reload,
            log_config=None,
            access_log=False,
            proxy_headers=True,
        )
        return
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    from cpd.entrypoints.observability import granian_log_config

    Granian(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        websockets=False,
        factory=True,
        reload=reload,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=granian_log_config(settings),
        respawn_failed_workers=True,
    ).serve()


@main.command()
def migrate() -> None:
    """Apply database migrations up to the latest revision."""
    _run(lambda c: c.migrate(), migrate_first=False)
    click.echo("database is at the latest revision")


@main.command("create-superuser")
@click.option("--email", help="Prompted for when omitted.")
@click.option("--password", envvar="CPD_SUPERUSER_PASSWORD", help="Or CPD_SUPERUSER_PASSWORD.")
@click.option("--first-name", default="Super", show_default=True)
@click.option("--last-name", default="Admin", show_default=True)
def create_superuser(
    email: str | None, password: str | None, first_name: str, last_name: str
) -> None:
    """Create a superadmin, or promote the existing account with that email."""
    interactive = _interactive()
    if email is None:
        if not interactive:
            raise click.UsageError("--email is required when not interactive")
        email = click.prompt("Email")
    if password is None:
        if not interactive:
            raise click.UsageError("--password (or CPD_SUPERUSER_PASSWORD) is required")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    assert email is not None
    assert password is not None

    async def work(container: Container) -> Any:
        return await container.accounts.create_superuser(
            email=email, password=password, first_name=first_name, last_name=last_name
        )

    user = _run(work)
    click.echo(f"superuser {user.email} ({user.id}) is ready")


@main.command("seed-demo")
@click.option(
    "--reset-passwords",
    is_flag=True,
    help="Give demo users who already exist new passwords (printed) too.",
)
def seed_demo_command(reset_passwords: bool) -> None:
    """Create a demo organization, its users (passwords printed), two events and a course.
    Run again, it adds what is missing and leaves existing users' passwords alone."""

    from cpd.services.demo import seed_demo

    async def work(container: Container) -> Any:
        return await seed_demo(
            container.uow,
            hasher=container.hasher,
            clock=container.clock,
            reset_passwords=reset_passwords,
        )

    organization, credentials = _run(work)
    click.echo(
        f"organization: {organization.name} (slug {organization.slug}, id {organization.id})"
    )
    for credential in credentials:
        if credential.password is None:
            shown = "(exists: password unchanged; --reset-passwords gives a new one)"
        elif credential.created:
            shown = credential.password
        else:
            shown = f"{credential.password} (exists: password reset)"
        click.echo(f"{credential.role.value:10} {credential.email:28} {shown}")
    click.echo("catalog: 2 published events and a free course (GET /api/v1/events, /courses)")


@main.group()
def organizations() -> None:
    """Organizations: list them with their status, approve one."""


@organizations.command("list")
@click.option("--pending", is_flag=True, help="Only those awaiting approval.")
def list_organizations(pending: bool) -> None:
    """Organizations by name: id, slug, status, name."""
    found = _run(lambda c: c.organizations.all_for_operator(pending_only=pending))
    for organization in found:
        click.echo(
            f"{organization.id}  {organization.slug:30} {organization.status.value:17} "
            f"{organization.name}"
        )
    if not found:
        click.echo("no organizations")


@organizations.command("approve")
@click.argument("organization")
def approve_organization(organization: str) -> None:
    """Let ORGANIZATION (an id or slug) publish and take payments."""
    approved = _run(lambda c: c.organizations.approve_as_operator(organization))
    assert approved.approved_at is not None
    click.echo(
        f"organization {approved.slug} ({approved.id}) is approved since "
        f"{approved.approved_at.isoformat(timespec='seconds')}"
    )


@main.command()
def worker() -> None:
    """Run the SAQ worker: relayed tasks and the scheduled jobs (needs CPD_TASK_QUEUE=saq)."""
    settings = _settings()
    _configure_logging(settings)
    if settings.task_queue != "saq":
        raise click.ClickException(
            "the worker runs tasks from Redis: set CPD_TASK_QUEUE=saq and CPD_REDIS_URL "
            "(the embedded default runs tasks inside `cpd serve`)"
        )
    _log_configuration(settings, "worker")
    from cpd.entrypoints.worker import run_worker
    from cpd.ports.platform import SchemaBehind

    try:
        asyncio.run(run_worker(settings))
    except SchemaBehind as error:
        raise click.ClickException(str(error)) from None


@main.group()
def tasks() -> None:
    """Background tasks: list, retry, stats, ping."""


@tasks.command("list")
@click.option("--failed", is_flag=True, help="Only tasks that failed their last attempt.")
@click.option("--state", type=click.Choice([s.value for s in TaskState]), help="Only this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_tasks(failed: bool, state: str | None, limit: int) -> None:
    """Tasks newest first: id, name, state, attempts (runs of the task, every try counted),
    created, last error (on a completed task, marked as from an earlier attempt)."""
    wanted = TaskState.FAILED if failed else TaskState(state) if state else None
    records = _run(lambda c: c.outbox_store.records(wanted, limit))
    for record in records:
        error = record.error_shown[:100]
        created = record.created_at.isoformat(timespec="seconds")
        click.echo(
            f"{record.task.id}  {record.task.name:22} {record.state.value:10} "
            f"{record.attempts:>3}  {created}  {error}"
        )
    if not records:
        click.echo("no tasks")


@tasks.command("retry")
@click.argument("task_id", type=click.UUID)
def retry_task(task_id: UUID) -> None:
    """Run a failed task again, with fresh retries (its attempts go on counting)."""

    async def work(container: Container) -> bool:
        return await container.outbox_store.retry(task_id, container.clock.now())

    if not _run(work):
        raise click.ClickException(f"no failed task has the id {task_id}")
    click.echo(f"task {task_id} is queued again")


@tasks.command("stats")
def task_stats() -> None:
    """Tasks per state, and the worker queue's own figures with SAQ."""

    async def work(container: Container) -> tuple[dict[TaskState, int], dict[str, Any] | None]:
        counts = await container.outbox_store.counts()
        info = await container.saq_queue.info() if container.saq_queue else None
        return counts, dict(info) if info else None

    counts, queue = _run(work)
    for state, count in counts.items():
        click.echo(f"{state.value:10} {count}")
    if queue is not None:
        for name in ("queued", "active", "scheduled"):
            click.echo(f"queue {name:10} {queue.get(name, 0)}")
        click.echo(f"workers    {len(queue.get('workers', {}))}")


@tasks.command("ping")
@click.option("--seconds", default=0.0, show_default=True, type=click.FloatRange(0, 60))
def ping_task(seconds: float) -> None:
    """Queue a diagnostic task that waits ``seconds``: follow it with `cpd tasks list`."""
    from cpd.services.platform.outbox import queue_ping

    task = _run(lambda c: queue_ping(c.uow, seconds))
    click.echo(f"queued ping task {task.id}")


@main.group()
def certificates() -> None:
    """Certificates: issue an event's in bulk, verify a code."""


@certificates.command("issue")
@click.option("--event", "event_id", required=True, type=click.UUID, help="A completed event.")
def issue_certificates(event_id: UUID) -> None:
    """Issue, render and queue the emails of every eligible attendee's certificate, here and
    now, with a progress bar (the job shows in GET /api/v1/jobs/{id} too)."""

    def work(container: Container) -> Awaitable[Job]:
        bar: Any = None

        def progress(job: Job) -> None:
            nonlocal bar
            if bar is None and job.status is JobStatus.RUNNING:
                bar = click.progressbar(length=job.total, label="certificates", show_pos=True)
                bar.__enter__()
            elif bar is not None:
                bar.update(job.done + job.failed - bar.pos)
                if job.finished_at is not None:
                    bar.__exit__(None, None, None)

        return container.certificates.issue_for_event_now(event_id, progress)

    job = _run(work)
    click.echo(f"job {job.id}: {job.status.value}, {job.done} issued, {job.failed} failed")
    for error in job.errors:
        click.echo(f"  {error}", err=True)
    if job.status is JobStatus.FAILED:
        raise SystemExit(1)


@certificates.command("verify")
@click.argument("code")
def verify_certificate(code: str) -> None:
    """What the certificate with this verification code says, and whether it stands."""
    found = _run(lambda c: c.certificates.verify(code))
    state = "VALID" if found.valid else f"REVOKED: {found.revoked_reason}"
    click.echo(f"{found.serial_number} {state}")
    click.echo(f"  {found.holder_name}: {found.title} ({found.organization})")
    click.echo(f"  issued {found.issued_at:%Y-%m-%d}, {found.cpd_credits} CPD credits")


if __name__ == "__main__":  # pragma: no cover
    main()
