"""The outbox relay: retries with backoff, gives up after max_attempts, survives bad tasks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from cpd.adapters.memory.database import MemoryDatabase
from cpd.adapters.memory.outbox import MemoryOutboxStore, OutboxRow
from cpd.adapters.queues.inprocess import InProcessTaskQueue
from cpd.bootstrap import build_container
from cpd.domain.tasks import Task
from cpd.services.platform.outbox import OutboxRelay, TaskBusy, TaskOutcome, TaskRunner
from tests.support.clock import FakeClock
from tests.unit.conftest import make_settings
from tests.unit.fakes import eventually, register, reset_mail, reset_token_from


class Recorder:
    """A task handler that fails its first ``failures`` calls, then records the task."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.done: list[Task] = []
        self.finished = asyncio.Event()

    async def __call__(self, task: Task) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"mail server down (call {self.calls})")
        self.done.append(task)
        self.finished.set()


class World:
    def __init__(self, clock: FakeClock, handlers: dict[str, Recorder], **relay_options: int):
        self.clock = clock
        self.db = MemoryDatabase(clock.now)
        self.store = MemoryOutboxStore(self.db)
        runner = TaskRunner(self.store, dict(handlers), clock, hold_seconds=15)
        self.relay = OutboxRelay(self.store, InProcessTaskQueue(runner), clock, **relay_options)

    async def commit(self, *tasks: Task) -> None:
        async with self.db.unit_of_work() as uow:
            for task in tasks:
                uow.outbox.add(task)
            await uow.commit()

    def row(self, task: Task) -> OutboxRow:
        return self.db.state.outbox[task.id]


async def test_a_failing_task_is_retried_with_backoff_until_it_succeeds(clock: FakeClock) -> None:
    handler = Recorder(failures=3)
    world = World(clock, {"send": handler})
    task = Task("send", {"to": "alice@example.com"})
    await world.commit(task)

    assert await world.relay.relay_once() == 1  # attempt 1 fails: retry in 2 s
    assert handler.calls == 1
    assert handler.done == []
    assert "mail server down" in (world.row(task).last_error or "")
    assert await world.relay.relay_once() == 0  # not due yet
    # Each failure doubles the wait: 2 s, 4 s, 8 s.
    for attempt, delay in ((2, 2), (3, 4), (4, 8)):
        clock.advance(seconds=delay - 0.1)
        assert await world.relay.relay_once() == 0
        clock.advance(seconds=0.1)
        assert await world.relay.relay_once() == 1
        assert handler.calls == attempt

    assert handler.done == [task]  # attempt 4 succeeded
    row = world.row(task)
    assert row.attempts == 4
    assert row.dispatched_at == clock.now()
    assert not row.abandoned
    assert await world.store.pending_count() == 0
    clock.advance(hours=2)
    assert await world.relay.relay_once() == 0  # dispatched once, never again
    assert handler.calls == 4


async def test_a_task_is_abandoned_after_max_attempts(clock: FakeClock) -> None:
    handler = Recorder(failures=10**6)
    world = World(clock, {"send": handler}, max_attempts=4)
    task = Task("send", {})
    await world.commit(task)
    for _ in range(10):
        await world.relay.relay_once()
        clock.advance(hours=1)  # beyond every backoff
    assert handler.calls == 4
    row = world.row(task)
    assert row.abandoned
    assert row.dispatched_at is None
    assert "mail server down (call 4)" in (row.last_error or "")


async def test_an_unknown_task_does_not_stop_the_others(clock: FakeClock) -> None:
    handler = Recorder()
    world = World(clock, {"send": handler}, max_attempts=2)
    unknown, good = Task("no_such_task", {}), Task("send", {"n": 1})
    await world.commit(unknown, good)

    assert await world.relay.relay_once() == 2
    assert handler.done == [good]
    assert world.row(good).dispatched_at is not None
    assert "no_such_task" in (world.row(unknown).last_error or "")
    assert world.row(unknown).abandoned  # no retry can help: failed for an operator to see
    clock.advance(hours=1)
    assert await world.relay.relay_once() == 0


async def test_drain_hands_on_everything_due_in_batches(clock: FakeClock) -> None:
    handler = Recorder()
    world = World(clock, {"send": handler}, batch_size=3)
    tasks = [Task("send", {"n": n}) for n in range(8)]
    await world.commit(*tasks)
    await world.relay.drain()
    assert [t.payload["n"] for t in handler.done] == list(range(8))
    assert await world.store.pending_count() == 0


async def test_a_rolled_back_transaction_queues_nothing(clock: FakeClock) -> None:
    handler = Recorder()
    world = World(clock, {"send": handler})

    async def use_case_failing_before_commit() -> None:
        async with world.db.unit_of_work() as uow:
            uow.outbox.add(Task("send", {}))
            raise RuntimeError("use case failed before commit")

    with pytest.raises(RuntimeError):
        await use_case_failing_before_commit()
    await world.relay.drain()
    assert handler.calls == 0


async def test_run_wakes_on_wake_and_stops_on_stop(clock: FakeClock) -> None:
    handler = Recorder()
    world = World(clock, {"send": handler})
    stop = asyncio.Event()
    runner = asyncio.create_task(world.relay.run(stop, interval=60))
    await asyncio.sleep(0.01)  # the first pass found nothing; the loop now waits up to 60 s

    await world.commit(Task("send", {"n": 1}))  # this database has no after_commit hook
    await asyncio.sleep(0.05)
    assert handler.done == []  # nobody woke the relay
    world.relay.wake()
    await asyncio.wait_for(handler.finished.wait(), timeout=1)
    assert [t.payload for t in handler.done] == [{"n": 1}]

    stop.set()
    async with asyncio.timeout(1):
        await runner  # returns promptly, long before the 60 s interval


async def test_run_polls_at_its_interval(clock: FakeClock) -> None:
    handler = Recorder()
    world = World(clock, {"send": handler})
    stop = asyncio.Event()
    runner = asyncio.create_task(world.relay.run(stop, interval=0.02))
    await asyncio.sleep(0.01)
    await world.commit(Task("send", {}))
    await asyncio.wait_for(handler.finished.wait(), timeout=1)
    stop.set()
    async with asyncio.timeout(1):
        await runner


async def test_run_survives_a_failing_store(clock: FakeClock) -> None:
    handler = Recorder()
    world = World(clock, {"send": handler})
    real_claim = world.store.claim_due
    blips = 0

    async def flaky_claim(*args: object, **kwargs: object) -> object:
        nonlocal blips
        if blips < 2:
            blips += 1
            raise OSError("database unreachable")
        return await real_claim(*args, **kwargs)  # type: ignore[arg-type]

    world.store.claim_due = flaky_claim  # type: ignore[method-assign]
    await world.commit(Task("send", {}))
    stop = asyncio.Event()
    runner = asyncio.create_task(world.relay.run(stop, interval=0.01))
    await asyncio.wait_for(handler.finished.wait(), timeout=1)
    stop.set()
    await runner
    assert blips == 2


async def test_container_commit_wakes_the_running_relay(clock: FakeClock) -> None:
    """In the wired container a commit with tasks wakes the relay (no wait for the tick)."""
    app = build_container(make_settings(outbox_poll_seconds=60), clock=clock)
    await app.startup(run_relay=True)
    try:
        await register(app)
        await app.accounts.request_password_reset("alice@example.com")
        await eventually(lambda: bool(reset_mail(app)))
        assert reset_token_from(reset_mail(app)[0])
    finally:
        async with asyncio.timeout(1):
            await app.shutdown()


class RunnerWorld(World):
    def __init__(self, clock: FakeClock, handlers: dict[str, Recorder]) -> None:
        super().__init__(clock, handlers)
        self.runner = TaskRunner(self.store, handlers, clock, hold_seconds=10)


async def test_the_runner_runs_a_task_once_and_never_twice_at_once(clock: FakeClock) -> None:
    slow = Recorder()
    world = RunnerWorld(clock, {"send": slow})
    task = Task("send", {})
    await world.commit(task)

    assert await world.store.begin_run(task.id, clock.now(), clock.now() + timedelta(seconds=10))
    with pytest.raises(TaskBusy):  # a second delivery while the first still holds it
        await world.runner.run(task, last_attempt=False)
    clock.advance(seconds=11)  # the first run's worker died: its hold lapsed
    assert await world.runner.run(task, last_attempt=False) is TaskOutcome.COMPLETED
    assert await world.runner.run(task, last_attempt=False) is TaskOutcome.SKIPPED
    assert len(slow.done) == 1
    assert world.row(task).completed_at == clock.now()


async def test_the_runner_counts_every_run_and_gives_up_on_the_last_attempt_only(
    clock: FakeClock,
) -> None:
    flaky = Recorder(failures=2)
    world = RunnerWorld(clock, {"send": flaky})
    task, unknown = Task("send", {}), Task("nobody-handles-this", {})
    await world.commit(task, unknown)

    with pytest.raises(ConnectionError):
        await world.runner.run(task, last_attempt=False)
    row = world.row(task)
    assert (row.attempts, row.abandoned) == (1, False)  # the queue retries it
    assert "(call 1)" in (row.last_error or "")
    with pytest.raises(ConnectionError):
        await world.runner.run(task, last_attempt=True)
    assert world.row(task).abandoned
    assert world.row(task).attempts == 2
    assert "mail server down (call 2)" in (world.row(task).last_error or "")

    with pytest.raises(LookupError):  # no handler: failed at once, retrying cannot help
        await world.runner.run(unknown, last_attempt=False)
    assert world.row(unknown).abandoned
