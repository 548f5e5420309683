"""The bridge's one way to reach the ORM from its event loop: a synchronous function in a thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, connection


def run_with_fresh_connection(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return fn(*args, **kwargs)
    except (OperationalError, InterfaceError):
        # A long-running process outlives database connections (server restart, idle timeout): retry once.
        connection.close()
        return fn(*args, **kwargs)


async def db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a synchronous ORM function in a worker thread (several run at once, one connection each)."""
    return await sync_to_async(run_with_fresh_connection, thread_sensitive=False)(fn, args, kwargs)
