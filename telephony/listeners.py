"""Which live-event groups have a browser listening, so the ARI bridge skips sending to the others.

Most calls involve users with no portal page open, and a channel-layer send costs the bridge two Redis
round trips even when nobody is in the group: a good part of its CPU per call under load. So each
browser WebSocket says when it joins a group (a counter per group in a Redis hash, then a message on a
Redis pub/sub channel, both before the socket is accepted) and when it leaves; the bridge keeps the
set of listened groups in memory, learns of each newcomer at once from the pub/sub channel, and
re-reads the hash now and then to forget groups nobody listens to any more.

Counters are never deleted: a page closed by a crashed web server leaves its group counted, which only
means events still go to that group, as they all did before. Whenever the bridge is not sure (Redis
unreachable, the set not loaded yet), it sends everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)


def _prefix() -> str:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS.get("default", {})
    return str(layer.get("CONFIG", {}).get("prefix", "istra"))


def hash_key() -> str:
    return f"{_prefix()}:listeners"


def pubsub_channel() -> str:
    return f"{_prefix()}:listeners:joined"


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def _client() -> aioredis.Redis:
    """One client per event loop (a consumer's loop lives as long as the web server)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.from_url(settings.REDIS_URL)
    return client


async def joined(group: str) -> None:
    """A browser joined `group`: count it, then tell the bridge. Errors are logged, never raised (the
    bridge then sends to the group anyway after its next full read)."""
    try:
        client = _client()
        await client.hincrby(hash_key(), group, 1)
        await client.publish(pubsub_channel(), group)
    except Exception as exc:
        logger.warning("could not register a listener of %s: %s", group, exc)


async def left(group: str) -> None:
    try:
        await _client().hincrby(hash_key(), group, -1)
    except Exception as exc:
        logger.warning("could not unregister a listener of %s: %s", group, exc)


class ListenerSet:
    """The bridge's view of the listened groups (see the module's docstring)."""

    def __init__(self, url: str, *, refresh_every: float = 30.0) -> None:
        self.url = url
        self.refresh_every = refresh_every
        self.groups: set[str] = set()
        self.ready = False
        self._task: asyncio.Task[None] | None = None

    def wants(self, group: str) -> bool:
        """Whether an event for `group` is worth sending: yes unless we know nobody listens."""
        return not self.ready or group in self.groups

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-listeners")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self.ready = False

    async def _run(self) -> None:
        delay = 0.5
        while True:
            client: aioredis.Redis | None = None
            try:
                client = aioredis.from_url(self.url)
                pubsub = client.pubsub()
                # Subscribe first, then read the hash: a browser joining in between is in one or both.
                await pubsub.subscribe(pubsub_channel())
                await self._load(client)
                delay = 0.5
                loop = asyncio.get_running_loop()
                next_load = loop.time() + self.refresh_every
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        data: Any = message["data"]
                        self.groups.add(data.decode() if isinstance(data, bytes) else str(data))
                    if loop.time() >= next_load:
                        await self._load(client)
                        next_load = loop.time() + self.refresh_every
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.ready = False
                logger.warning(
                    "live listeners unknown (%s): sending every event; retrying in %.1fs", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                if client is not None:
                    with contextlib.suppress(Exception):
                        await client.aclose()

    async def _load(self, client: aioredis.Redis) -> None:
        counts = await client.hgetall(hash_key())
        self.groups = {
            (group.decode() if isinstance(group, bytes) else str(group))
            for group, count in counts.items()
            if int(count) > 0
        }
        self.ready = True
