"""Live events from the bridge process: sent from its event loop, fire-and-forget, after commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer

from telephony import events
from telephony.listeners import ListenerSet

logger = logging.getLogger(__name__)


def install_publisher(listeners: ListenerSet | None, keep: Callable[[asyncio.Future[Any]], None]) -> None:
    """Live events leave from our event loop, fire-and-forget: a commit never waits on Redis.

    `keep` holds each send until it is done (the event loop holds tasks weakly)."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = asyncio.get_running_loop()

    def publish_in_loop(group: str, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(layer.group_send(group, message))
        keep(task)
        task.add_done_callback(_published)

    def publish(group: str, message: dict[str, Any]) -> None:
        if listeners is not None and not listeners.wants(group):
            return  # no browser has this group open: nobody to tell
        loop.call_soon_threadsafe(publish_in_loop, group, message)

    events.set_publisher(publish)


def _published(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("could not publish a live event: %s", task.exception())
