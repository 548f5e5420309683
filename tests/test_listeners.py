"""The registry of live-event groups a browser listens to (telephony/listeners.py), on the real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import redis
from django.conf import settings

from telephony import listeners
from telephony.listeners import ListenerSet


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_the_bridge_hears_of_a_new_listener_at_once_and_forgets_those_gone() -> None:
    group = f"user-test-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        registry = ListenerSet(settings.REDIS_URL, refresh_every=0.2)
        # Not loaded yet: everything is sent.
        assert registry.wants(group)
        registry.start()
        try:
            await until(lambda: registry.ready)
            assert not registry.wants(group)
            await listeners.joined(group)
            await until(lambda: registry.wants(group))
            # A second tab, then one closes: still listened.
            await listeners.joined(group)
            await listeners.left(group)
            await asyncio.sleep(0.5)
            assert registry.wants(group)
            await listeners.left(group)
            await until(lambda: not registry.wants(group))
        finally:
            await registry.stop()
            listeners._clients.clear()

    try:
        asyncio.run(scenario())
    finally:
        redis.Redis.from_url(settings.REDIS_URL).hdel(listeners.hash_key(), group)


def test_without_redis_every_event_is_sent() -> None:
    async def scenario() -> None:
        registry = ListenerSet("redis://127.0.0.1:1/0", refresh_every=0.2)
        registry.start()
        try:
            await asyncio.sleep(0.3)
            assert not registry.ready
            assert registry.wants("user-1")
        finally:
            await registry.stop()

    asyncio.run(scenario())
