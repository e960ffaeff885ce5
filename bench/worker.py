"""Worker scenario: tasks per second a `cpd worker` sustains, and registration → email latency.

Starts a throwaway PostgreSQL and redis-server and an SMTP server (aiosmtpd) in this process,
then, with real `cpd worker` processes:
1. no-op tasks (``ping``): N committed to the outbox, relayed to Redis, then workers start and
   drain them; tasks/s from the first worker start to the last completion;
2. email tasks (the welcome template, rendered, sent over SMTP, logged): the same;
3. end to end: people register one at a time for a free event (this process plays the web
   server, its relay woken on commit); latency from calling register() to the confirmation
   arriving at the SMTP server.
Run: ``uv run python -m bench.worker`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller

from bench.catalog import ROOT, database
from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor
from cpd.domain.messaging import WELCOME, OutgoingEmail
from cpd.domain.tasks import Task, TaskState
from cpd.services.messaging.emails import send_email_task
from cpd.services.platform.outbox import Ping
from cpd.settings import Settings

sys.path.insert(0, str(ROOT))
from tests.support.commands import new_event
from tests.support.redis_server import throwaway_redis
from tests.support.smtp_server import CollectingHandler, free_port

PASSWORD = "a long benchmark passphrase"  # noqa: S105 - throwaway users


class TimedInbox(CollectingHandler):
    """Collects messages, noting when each arrived for whom."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[str, float]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        self.arrivals.extend((recipient, now) for recipient in envelope.rcpt_tos)
        return await super().handle_DATA(server, session, envelope)

    def times_for(self, recipient: str) -> list[float]:
        return [at for who, at in self.arrivals if who == recipient]


@contextmanager
def smtp_server() -> Iterator[tuple[int, TimedInbox]]:
    inbox = TimedInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@contextmanager
def workers(settings: dict[str, Any], count: int) -> Iterator[None]:
    env = {**os.environ, **{f"CPD_{k.upper()}": str(v) for k, v in settings.items()}}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "cpd.entrypoints.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


async def commit(app: Container, tasks: list[Task]) -> float:
    """Commit the tasks and relay them to Redis; returns the relay's tasks/s."""
    for start in range(0, len(tasks), 500):
        async with app.uow() as uow:
            for task in tasks[start : start + 500]:
                uow.outbox.add(task)
            await uow.commit()
    started = time.perf_counter()
    await app.relay.drain()
    return len(tasks) / (time.perf_counter() - started)


async def throughput(
    app: Container, settings: dict[str, Any], tasks: list[Task], count: int, done_before: int
) -> tuple[float, float]:
    """Tasks/s between the first and the last completion (worker start-up excluded), and the
    relay's rate into Redis."""
    relay_rate = await commit(app, tasks)
    with workers(settings, count):
        total = done_before + len(tasks)
        while (await app.outbox_store.counts())[TaskState.COMPLETED] < total:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # polling other processes' progress
    ids = {task.id for task in tasks}
    finished = sorted(
        r.completed_at
        for r in await app.outbox_store.records(TaskState.COMPLETED, total)
        if r.task.id in ids and r.completed_at is not None
    )
    return (len(finished) - 1) / (finished[-1] - finished[0]).total_seconds(), relay_rate


async def end_to_end(app: Container, inbox: TimedInbox, people: int) -> list[float]:
    host = await app.accounts.register(
        email="host@bench.example.org", password=PASSWORD, first_name="H", last_name="O"
    )
    assert host is not None
    org = await app.organizations.create(Actor(host.id), name="Bench Host")
    starts = datetime.now(UTC) + timedelta(days=30)
    event = await app.events.create(
        Actor(host.id),
        new_event(
            org.id,
            {"title": "Latency", "format": "online", "capacity": people},
            [{"title": "Day", "starts_at": starts, "ends_at": starts + timedelta(hours=2)}],
        ),
    )
    await app.events.publish(Actor(host.id), event.id)
    latencies = []
    for n in range(people):
        email = f"e2e{n}@bench.example.org"
        user = await app.accounts.register(
            email=email, password=PASSWORD, first_name="P", last_name=str(n)
        )
        assert user is not None
        while not inbox.times_for(email):  # noqa: ASYNC110 - the welcome first, not timed
            await asyncio.sleep(0.001)
        sent = time.perf_counter()
        await app.registrations.register(Actor(user.id), event.id)
        while len(inbox.times_for(email)) < 2:  # noqa: ASYNC110 - another process sends it
            await asyncio.sleep(0.001)
        latencies.append((inbox.times_for(email)[1] - sent) * 1000)
    return latencies


async def run(pg_url: str, redis_url: str, args: argparse.Namespace) -> None:
    with smtp_server() as (port, inbox):
        settings: dict[str, Any] = {
            "persistence": "sql",
            "database_url": pg_url,
            "auto_migrate": True,
            "redis_url": redis_url,
            "task_queue": "saq",
            "mail_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "log_level": "WARNING",
            "worker_concurrency": args.concurrency,
            "argon2_time_cost": 1,
            "argon2_memory_cost_kib": 64,
        }
        app = build_container(Settings.from_mapping(settings))
        await app.startup(run_relay=False)
        try:
            done = 0
            for count in (1, 2):
                pings = [Task(Ping.NAME, {"seconds": 0}) for _ in range(args.tasks)]
                rate, relay = await throughput(app, settings, pings, count, done)
                done += len(pings)
                print(f"no-op tasks, {count} worker(s): {rate:,.0f} tasks/s (relay {relay:,.0f}/s)")
            emails = [
                send_email_task(
                    OutgoingEmail(
                        template=WELCOME,
                        to=f"t{n}@bench.example.org",
                        context={"first_name": "T", "site_url": "https://cpd.example"},
                    )
                )
                for n in range(args.emails)
            ]
            rate, relay = await throughput(app, settings, emails, 1, done)
            done += len(emails)
            assert len(inbox.received) == args.emails, "every email arrives once"
            print(f"email tasks (render, SMTP, log), 1 worker: {rate:,.0f} tasks/s")
        finally:
            await app.shutdown()

        web = build_container(Settings.from_mapping(settings))
        await web.startup(run_relay=True)  # the web process: relay woken on commit
        inbox.received.clear()
        inbox.arrivals.clear()
        try:
            with workers(settings, 1):
                await asyncio.sleep(2)  # the worker is up
                latencies = await end_to_end(web, inbox, args.people)
        finally:
            await web.shutdown()
        latencies.sort()
        print(
            f"registration -> confirmation email at the SMTP server ({len(latencies)} people): "
            f"p50 {statistics.median(latencies):.0f} ms, "
            f"p95 {latencies[int(len(latencies) * 0.95) - 1]:.0f} ms, max {latencies[-1]:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=3000, help="no-op tasks per run")
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20, help="tasks per worker at once")
    args = parser.parse_args()
    with database(None) as pg_url, throwaway_redis() as redis_url:
        asyncio.run(run(pg_url, redis_url, args))


if __name__ == "__main__":
    main()
