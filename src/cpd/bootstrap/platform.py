"""Shared state and tasks: Redis or the process for the cache and throttle, SAQ on Redis or
the in-process runner for the task queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cpd.bootstrap.container import Resources

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from saq import Queue

    from cpd.ports.platform import AttemptThrottle, Cache, TaskQueue
    from cpd.services.platform.outbox import TaskRunner
    from cpd.settings import Settings


@dataclass
class SharedState:
    cache: Cache
    throttle: AttemptThrottle


def build_redis(settings: Settings, resources: Resources) -> Redis | None:
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis

    from cpd.adapters.redis_store import RedisProbe

    redis = Redis.from_url(settings.redis_url)
    resources.on_close(redis.aclose)
    resources.probe("RedisProbe", RedisProbe(redis).ping)
    return redis


def build_shared_state(redis: Redis | None, seconds: Callable[[], float]) -> SharedState:
    """``seconds``: the throttle keeps the container's time (tests move it)."""
    if redis is not None:
        from cpd.adapters.redis_store import RedisAttemptThrottle, RedisCache

        return SharedState(RedisCache(redis), RedisAttemptThrottle(redis, now=seconds))
    from cpd.adapters.memory.cache import MemoryCache
    from cpd.adapters.system import MemoryAttemptThrottle

    return SharedState(MemoryCache(), MemoryAttemptThrottle(now=seconds))


def build_saq_queue(settings: Settings, resources: Resources) -> Queue | None:
    if settings.task_queue != "saq" or not settings.redis_url:
        return None
    from cpd.adapters.queues.saq import open_queue

    queue = open_queue(settings.redis_url)
    resources.on_close(queue.disconnect)
    return queue


def build_task_queue(settings: Settings, saq_queue: Queue | None, runner: TaskRunner) -> TaskQueue:
    if saq_queue is not None:
        from cpd.adapters.queues.saq import SaqTaskQueue

        return SaqTaskQueue(
            saq_queue,
            attempts=settings.task_attempts,
            timeout=settings.task_timeout_seconds,
            heartbeat=settings.task_heartbeat_seconds,
        )
    from cpd.adapters.queues.inprocess import InProcessTaskQueue

    return InProcessTaskQueue(runner)
