"""Timers that a frozen or starved bridge does not let fire ahead of what happened meanwhile.

When the bridge process is stopped (SIGSTOP, a VM pause, a long GC or swap-in) Asterisk goes on: the
callee answers, the caller hangs up, ARI answers our requests, and all of it waits unread on the
event WebSocket. On waking, every timer whose time passed during the freeze is due at once, and the
event loop runs timers before the reader has parsed that backlog: a ring timeout would send a call
to voicemail although its callee answered in time, a request would time out although its answer is
there. So a timer that fires late by more than `LATE` does not act yet: it waits `GRACE` more, time
for the backlog to be read, and acts then only if nothing cancelled it meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# A timer this late (seconds) means the process was not running: measured 0.01 s when loaded.
LATE = 0.5
# How long a late timer waits for the backlog to be read (a 10 s freeze at 20 calls/s: under 1 s).
GRACE = 2.0


_last_said = -1e9


def _say_stalled(late: float) -> None:
    """Once a stall (at most every 10 s): the process did not run for a while."""
    global _last_said
    now = asyncio.get_running_loop().time()
    if now - _last_said > 10:
        _last_said = now
        logger.warning("the bridge did not run for about %.1fs (a timer fired that late): catching up", late)


class PatientTimer:
    """`loop.call_later(delay, callback, *args)`, patient after a freeze (see the module); `cancel()`
    cancels it whether it is waiting for its time or for its grace."""

    def __init__(
        self, delay: float, callback: Callable[..., Any], *args: Any, grace: float | None = None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._callback = callback
        self._args = args
        self._grace = GRACE if grace is None else grace
        self._due = self._loop.time() + delay
        self._handle: asyncio.Handle = self._loop.call_at(self._due, self._fire)
        self.waited_grace = False

    def _fire(self) -> None:
        late = self._loop.time() - self._due
        if not self.waited_grace and late > LATE:
            _say_stalled(late)
            self.waited_grace = True
            self._handle = self._loop.call_later(self._grace, self._callback, *self._args)
            return
        self._callback(*self._args)

    def cancel(self) -> None:
        self._handle.cancel()
