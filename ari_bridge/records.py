"""Writes call records off the call's critical path, in order, one writer per call."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)


def _run_with_fresh_connection(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return fn(*args, **kwargs)
    except (OperationalError, InterfaceError):
        # A long-running process outlives database connections (server restart, idle timeout): retry once.
        connection.close()
        return fn(*args, **kwargs)


async def db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a synchronous ORM function in a worker thread (several run at once, one connection each)."""
    return await sync_to_async(_run_with_fresh_connection, thread_sensitive=False)(fn, args, kwargs)


class RecordWriter:
    """Queue of record writes for one call: the call never waits on them, and they land in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: asyncio.Queue[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None] = (
            asyncio.Queue()
        )
        self._task = asyncio.create_task(self._drain(), name=f"records-{name}")

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._queue.put_nowait((fn, args, kwargs))

    async def _drain(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            fn, args, kwargs = item
            try:
                await db(fn, *args, **kwargs)
            except Exception:
                logger.exception("call %s: could not write %s", self.name, getattr(fn, "__name__", fn))

    async def close(self) -> None:
        """Wait until every submitted write has landed."""
        self._queue.put_nowait(None)
        await self._task
