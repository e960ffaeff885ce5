"""The outbox: tasks committed with a unit of work, then claimed and settled by a relay."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import structlog

from cpd.domain.tasks import Task, TaskState
from tests.contract.builders import T0, Backend

LEASE = 30


async def commit_tasks(backend: Backend, *tasks: Task) -> None:
    async with backend.uow() as uow:
        for task in tasks:
            uow.outbox.add(task)
        await uow.commit()


async def test_committed_tasks_are_claimed_with_their_payload(backend: Backend) -> None:
    task = Task("send_email", {"to": "a@example.org", "nested": {"n": [1, 2]}, "ok": True})
    await commit_tasks(backend, task)

    claimed = await backend.outbox_store.claim_due(T0, limit=10, lease_seconds=LEASE)

    assert [c.task for c in claimed] == [task]
    assert claimed[0].claims == 1
    assert claimed[0].created_at == T0
    assert await backend.outbox_store.pending_count() == 1


async def test_tasks_of_a_rolled_back_unit_of_work_never_appear(backend: Backend) -> None:
    async with backend.uow() as uow:
        uow.outbox.add(Task("send_email", {"n": 1}))
    try:
        async with backend.uow() as uow:
            uow.outbox.add(Task("send_email", {"n": 2}))
            raise LookupError
    except LookupError:
        pass

    far_future = T0 + timedelta(days=365)
    assert await backend.outbox_store.claim_due(far_future, limit=10, lease_seconds=LEASE) == []
    assert await backend.outbox_store.pending_count() == 0


async def test_claims_are_oldest_first_and_limited(backend: Backend) -> None:
    tasks = [Task("t", {"n": n}) for n in range(3)]
    for task in tasks:
        await commit_tasks(backend, task)
        backend.clock.advance(seconds=1)

    first = await backend.outbox_store.claim_due(backend.clock.now(), limit=2, lease_seconds=LEASE)
    rest = await backend.outbox_store.claim_due(backend.clock.now(), limit=2, lease_seconds=LEASE)

    assert [c.task for c in first] == tasks[:2]
    assert [c.task for c in rest] == tasks[2:]
    assert [c.created_at for c in first + rest] == [T0 + timedelta(seconds=n) for n in range(3)]


async def test_a_claim_leases_the_task_until_the_lease_ends(backend: Backend) -> None:
    task = Task("t", {})
    await commit_tasks(backend, task)
    store = backend.outbox_store

    assert len(await store.claim_due(T0, limit=10, lease_seconds=LEASE)) == 1
    assert await store.claim_due(T0, limit=10, lease_seconds=LEASE) == []
    almost = T0 + timedelta(seconds=LEASE - 1)
    assert await store.claim_due(almost, limit=10, lease_seconds=LEASE) == []

    again = await store.claim_due(T0 + timedelta(seconds=LEASE), limit=10, lease_seconds=LEASE)
    assert [(c.task, c.claims) for c in again] == [(task, 2)]


async def test_tasks_not_yet_due_are_not_claimed(backend: Backend) -> None:
    await commit_tasks(backend, Task("t", {}))
    before = T0 - timedelta(microseconds=1)
    assert await backend.outbox_store.claim_due(before, limit=10, lease_seconds=LEASE) == []


async def test_mark_failed_with_retry_at_reschedules(backend: Backend) -> None:
    task = Task("t", {})
    await commit_tasks(backend, task)
    store = backend.outbox_store
    await store.claim_due(T0, limit=10, lease_seconds=LEASE)

    retry_at = T0 + timedelta(minutes=10)
    await store.mark_failed(task.id, "smtp down", retry_at)

    # Not due before retry_at, even after the lease would have ended.
    not_yet = retry_at - timedelta(seconds=1)
    assert await store.claim_due(not_yet, limit=10, lease_seconds=LEASE) == []
    again = await store.claim_due(retry_at, limit=10, lease_seconds=LEASE)
    assert [(c.task, c.claims) for c in again] == [(task, 2)]


async def test_mark_failed_without_retry_abandons(backend: Backend) -> None:
    abandoned, other = Task("t", {"n": 1}), Task("t", {"n": 2})
    await commit_tasks(backend, abandoned, other)
    store = backend.outbox_store
    await store.claim_due(T0, limit=10, lease_seconds=LEASE)

    await store.mark_failed(abandoned.id, "permanent", None)
    assert await store.pending_count() == 1  # abandoned tasks are no longer pending

    for years in (1, 2):  # leases of the other task end; the abandoned one never comes back
        later = T0 + timedelta(days=365 * years)
        assert [c.task for c in await store.claim_due(later, 10, LEASE)] == [other]


async def test_mark_dispatched_settles_the_task(backend: Backend) -> None:
    done, waiting = Task("t", {"n": 1}), Task("t", {"n": 2})
    await commit_tasks(backend, done, waiting)
    store = backend.outbox_store
    assert await store.pending_count() == 2

    await store.claim_due(T0, limit=10, lease_seconds=LEASE)
    await store.mark_dispatched([done.id], T0 + timedelta(seconds=1))

    assert await store.pending_count() == 1
    far_future = T0 + timedelta(days=365)
    assert [c.task for c in await store.claim_due(far_future, 10, LEASE)] == [waiting]


async def test_operators_see_each_task_in_its_state(backend: Backend) -> None:
    waiting, sent, done, broken = (Task("t", {"n": n}) for n in range(4))
    await commit_tasks(backend, waiting, sent, done, broken)
    store = backend.outbox_store
    await store.claim_due(T0, limit=10, lease_seconds=LEASE)
    await store.mark_failed(waiting.id, "try again", T0)  # still pending, retried later
    await store.mark_dispatched([sent.id], T0)
    await store.mark_completed(done.id, T0 + timedelta(seconds=2))
    assert await store.begin_run(broken.id, T0, T0 + timedelta(seconds=15))
    await store.end_run(broken.id, "permanent")
    await store.mark_failed(broken.id, "permanent", None)

    assert await store.counts() == {
        TaskState.PENDING: 1,
        TaskState.DISPATCHED: 1,
        TaskState.COMPLETED: 1,
        TaskState.FAILED: 1,
    }
    [failed] = await store.records(TaskState.FAILED, 10)
    assert (failed.task, failed.attempts, failed.last_error) == (broken, 1, "permanent")
    [completed] = await store.records(TaskState.COMPLETED, 10)
    assert completed.task == done
    assert completed.completed_at == completed.dispatched_at == T0 + timedelta(seconds=2)
    assert {r.task.id for r in await store.records(None, 10)} == {
        t.id for t in (waiting, sent, done, broken)
    }
    assert len(await store.records(None, 2)) == 2
    assert await store.is_completed(done.id)
    assert not await store.is_completed(sent.id)


async def test_a_failed_task_can_be_retried_once_it_failed(backend: Backend) -> None:
    broken, fine = Task("t", {"n": 1}), Task("t", {"n": 2})
    await commit_tasks(backend, broken, fine)
    store = backend.outbox_store
    await store.claim_due(T0, limit=10, lease_seconds=LEASE)
    await store.mark_failed(broken.id, "permanent", None)
    await store.mark_dispatched([fine.id], T0)

    later = T0 + timedelta(hours=1)
    assert not await store.retry(fine.id, later)  # not failed: nothing to retry
    assert await store.retry(broken.id, later)
    assert not await store.retry(broken.id, later)  # pending again now

    [claimed] = await store.claim_due(later, 10, LEASE)
    assert (claimed.task, claimed.claims) == (broken, 1)  # the relay's tries afresh


async def test_attempts_count_every_run_and_survive_a_retry(backend: Backend) -> None:
    """What ``cpd tasks list`` shows: runs, wherever they happened, and the latest error,
    which a later success labels as history rather than erasing."""
    task = Task("t", {})
    await commit_tasks(backend, task)
    store = backend.outbox_store
    await store.claim_due(T0, limit=10, lease_seconds=LEASE)
    await store.mark_dispatched([task.id], T0)
    for n in range(1, 4):  # the worker's queue tries it three times
        now = T0 + timedelta(minutes=n)
        assert await store.begin_run(task.id, now, now + timedelta(seconds=15))
        await store.end_run(task.id, f"down ({n})")
    await store.mark_failed(task.id, "down (3)", None)
    [failed] = await store.records(None, 10)
    assert (failed.state, failed.attempts, failed.error_shown) == (
        TaskState.FAILED,
        3,
        "down (3)",
    )

    later = T0 + timedelta(hours=1)
    assert await store.retry(task.id, later)
    [claimed] = await store.claim_due(later, 10, LEASE)
    assert claimed.claims == 1
    assert await store.begin_run(task.id, later, later + timedelta(seconds=15))
    await store.mark_completed(task.id, later)
    [done] = await store.records(None, 10)
    assert (done.state, done.attempts) == (TaskState.COMPLETED, 4)
    assert done.error_shown == "(an earlier attempt) down (3)"


async def test_a_task_keeps_the_request_that_caused_it(backend: Backend) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-42")
    try:
        await commit_tasks(backend, Task("t", {}))
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    await commit_tasks(backend, Task("t", {}))  # outside any request

    claimed = await backend.outbox_store.claim_due(T0, 10, LEASE)
    assert sorted(str(c.task.request_id) for c in claimed) == ["None", "req-42"]


async def test_a_run_holds_the_task_until_it_ends_or_lapses(backend: Backend) -> None:
    task = Task("t", {})
    await commit_tasks(backend, task)
    store = backend.outbox_store
    later = T0 + timedelta(seconds=10)

    assert await store.begin_run(task.id, T0, later)
    assert not await store.begin_run(task.id, T0 + timedelta(seconds=5), later)  # held
    await store.extend_run(task.id, T0 + timedelta(seconds=20))
    assert not await store.begin_run(task.id, later, later)  # renewed past ``later``
    await store.end_run(task.id, "boom")  # the run failed: free for the next delivery
    assert await store.begin_run(task.id, later, later + timedelta(seconds=10))
    assert await store.begin_run(task.id, later + timedelta(seconds=10), later)  # lapsed

    await store.mark_completed(task.id, later)
    assert not await store.begin_run(task.id, later + timedelta(hours=1), later)
    assert not await store.begin_run(uuid4(), T0, later)  # no such task


async def test_known_says_which_task_ids_were_ever_committed(backend: Backend) -> None:
    done, waiting = Task("t", {}), Task("t", {})
    await commit_tasks(backend, done, waiting)
    await backend.outbox_store.claim_due(T0, 10, LEASE)
    await backend.outbox_store.mark_completed(done.id, T0)
    stranger = uuid4()

    assert await backend.outbox_store.known([done.id, waiting.id, stranger]) == {
        done.id,
        waiting.id,
    }
    assert await backend.outbox_store.known([]) == set()


async def test_a_relays_batch_is_marked_dispatched_at_once(backend: Backend) -> None:
    first, second, left = Task("t", {"n": 1}), Task("t", {"n": 2}), Task("t", {"n": 3})
    await commit_tasks(backend, first, second, left)
    store = backend.outbox_store
    await store.claim_due(T0, limit=10, lease_seconds=LEASE)

    await store.mark_dispatched([first.id, second.id], T0)

    dispatched = await store.records(TaskState.DISPATCHED, 10)
    assert {r.task.id for r in dispatched} == {first.id, second.id}
    assert await store.pending_count() == 1
