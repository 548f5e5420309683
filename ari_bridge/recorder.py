"""Writes call records off the call's critical path, in order, one writer per call; and what a call's
changes of state write (CallRecorder)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from telephony import records
from telephony.records import NewCall
from telephony.routing import Party

from .orm import run_with_fresh_connection

logger = logging.getLogger(__name__)


Write = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def _write_batch(writes: list[Write]) -> list[BaseException | None]:
    """Apply record writes in order in one transaction (one commit for many calls).

    Each write is atomic on its own (telephony.records: one SQL statement each): one that fails is
    rolled back and logged, and the others still land. Database round trips are most of a write's cost,
    so the batch first runs without a savepoint per write (two round trips each), and a batch of one
    write without a transaction around it (the statement is its own); only if a write fails is the
    transaction rolled back and the batch replayed, each write in a savepoint of its own."""
    if len(writes) == 1 and connection.get_autocommit():
        return [_write_alone(writes[0])]
    try:
        with transaction.atomic():
            for fn, args, kwargs in writes:
                fn(*args, **kwargs)
    except Exception:
        logger.debug("a write of a batch of %d failed: replaying them one savepoint each", len(writes))
    else:
        return [None] * len(writes)
    return _write_batch_isolated(writes)


def _write_alone(write: Write) -> BaseException | None:
    fn, args, kwargs = write
    try:
        fn(*args, **kwargs)
    except (OperationalError, InterfaceError):
        raise  # perhaps a stale connection: run_with_fresh_connection tries again on a fresh one
    except Exception as exc:
        logger.exception("could not write %s", getattr(fn, "__name__", fn))
        return exc
    return None


def _write_batch_isolated(writes: list[Write]) -> list[BaseException | None]:
    """The batch again, each write in a savepoint of its own, and constraints checked at each statement
    rather than at commit, so that a write breaking one (a leg of a call not recorded) fails alone."""
    outcomes: list[BaseException | None] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for fn, args, kwargs in writes:
            try:
                with transaction.atomic():
                    fn(*args, **kwargs)
            except Exception as exc:
                logger.exception("could not write %s", getattr(fn, "__name__", fn))
                outcomes.append(exc)
            else:
                outcomes.append(None)
    return outcomes


class RecordBatcher:
    """The bridge's one record writer: writes of every call, in the order submitted, batched.

    It writes from a thread of its own (one database connection, no thread hand-off machinery per
    batch), and lets writes gather for `linger` seconds before a batch: under load one transaction
    then carries the writes of many calls instead of one each. Nothing of a call waits on its records
    (live events leave after their commit, `linger` later at most)."""

    def __init__(self, max_batch: int = 500, linger: float = 0.0) -> None:
        self.max_batch = max_batch
        self.linger = linger
        self._queue: asyncio.Queue[tuple[Write, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="record-batcher")

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        """Queue `fn(*args, **kwargs)`, a write atomic on its own (one SQL statement, as those of
        telephony.records are, or wrapped in transaction.atomic)."""
        self.start()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(((fn, args, kwargs), done))
        return done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self.linger > 0:
                await asyncio.sleep(self.linger)
            while not self._queue.empty() and len(batch) < self.max_batch:
                batch.append(self._queue.get_nowait())
            writes = [write for write, _ in batch]
            try:
                outcomes: list[BaseException | None] = await asyncio.get_running_loop().run_in_executor(
                    self._executor, run_with_fresh_connection, _write_batch, (writes,), {}
                )
            except Exception as exc:  # the database itself failed: every write of the batch is lost
                logger.exception("could not write %d call records", len(batch))
                outcomes = [exc] * len(batch)
            for (_, done), outcome in zip(batch, outcomes, strict=True):
                if not done.done():
                    if outcome is None:
                        done.set_result(None)
                    else:
                        done.set_exception(outcome)


class RecordWriter:
    """Record writes of one call: the call never waits on them, and they land in order."""

    def __init__(self, name: str, batcher: RecordBatcher) -> None:
        self.name = name
        self.batcher = batcher
        self._last: asyncio.Future[None] | None = None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._last = self.batcher.submit(fn, *args, **kwargs)

    async def close(self) -> None:
        """Wait until every write submitted so far has landed (or failed, which is logged)."""
        if self._last is not None:
            with contextlib.suppress(Exception):
                await self._last


class CallRecorder:
    """The record of one call: what each change of its state writes (`entered`, the one mapping), and
    the other facts worth keeping (a leg added, ringing, a forward). Writes never block the call."""

    def __init__(self, call_id: uuid.UUID, batcher: RecordBatcher) -> None:
        self.call_id = call_id
        self.writer = RecordWriter(str(call_id), batcher)

    def entered(self, state: str, **facts: Any) -> None:
        """The call entered `state` (ari_bridge.state.State); `facts` are what the record needs of it,
        `at` when it happened (by default, now)."""
        if state in ("connected", "dialog") and "channel_id" in facts:
            # Answered: by a device (connected), or by the platform itself (a dial code's dialog).
            self.writer.submit(
                records.mark_answered,
                self.call_id,
                channel_id=facts["channel_id"],
                bridge_id=facts.get("bridge_id", ""),
                at=facts.get("at") or timezone.now(),
            )
        elif state == "ended" and "outcome" in facts:  # no outcome: the call was never recorded
            self.writer.submit(
                records.end_call,
                self.call_id,
                outcome=facts["outcome"],
                at=facts.get("at") or timezone.now(),
                reason=facts.get("reason", ""),
            )

    def started(
        self,
        *,
        company_id: int,
        asterisk_server: str,
        caller: Party,
        caller_device_id: int | None,
        dialled: str,
        channel_id: str,
        endpoint: str,
        caller_leg: bool,
        at: datetime | None = None,
    ) -> None:
        """The call's record, and its caller's leg unless the channel has one (`caller_leg`)."""
        new = NewCall(
            call_id=self.call_id,
            company_id=company_id,
            asterisk_server=asterisk_server,
            caller_user_id=caller.user_id,
            caller_device_id=caller_device_id,
            caller_number=caller.number or "anonymous",
            caller_name=caller.name,
            dialled=dialled,
            channel_id=channel_id,
            endpoint=endpoint,
            started_at=at or timezone.now(),
            caller_leg=caller_leg,
        )
        self.writer.submit(records.start_call, new)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.writer.submit(fn, *args, **kwargs)

    async def close(self) -> None:
        await self.writer.close()
