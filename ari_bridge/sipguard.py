"""The SIP guard process (R3): follows Asterisk's security log, blocks sources that fail too often.

A boring shell around the pure detector (sipguard.detector): it tails the log, feeds each event to
the detector, records a block in the database when the detector names an offender and enforces the
blocks in force with nftables (ari_bridge.nftables). The database is the source of truth: once a
second the guard makes the nftables sets match it, so an administrator's lift (sipguard.actions)
takes effect within a second, and a guard restarted puts back the blocks still in force.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from sipguard import actions, queries
from sipguard.detector import Detector, networks, parse_line

from .nftables import NftBlocklist

logger = logging.getLogger(__name__)


class LogFollower:
    """New lines of a file as it grows, across rotation or truncation (Asterisk's `logger rotate`).

    Opened at its end (what happens from now on); a file that appears later, or replaces the one
    followed, is read from its beginning."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: TextIO | None = None
        self.inode = 0
        self.partial = ""
        self.at_end = True

    def _open(self) -> bool:
        try:
            handle = open(self.path, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError:
            self.at_end = False  # not there yet: when it comes, all of it is new
            return False
        if self.at_end:
            handle.seek(0, os.SEEK_END)
        self.handle, self.inode, self.partial, self.at_end = (
            handle,
            os.fstat(handle.fileno()).st_ino,
            "",
            False,
        )
        return True

    def _replaced(self, handle: TextIO) -> bool:
        try:
            stat = os.stat(self.path)
        except OSError:
            return False
        return stat.st_ino != self.inode or stat.st_size < handle.tell()

    def lines(self) -> list[str]:
        if self.handle is None and not self._open():
            return []
        handle = self.handle
        assert handle is not None
        chunk = handle.read()
        if not chunk:
            if self._replaced(handle):
                handle.close()
                self.handle = None
                return self.lines()
            return []
        complete, _, self.partial = (self.partial + chunk).rpartition("\n")
        return complete.split("\n") if complete else []


def trusted_sources() -> tuple[str, ...]:
    extra = [settings.CARRIER_ADDRESS] if settings.CARRIER_ADDRESS else []
    return (*settings.SIPGUARD_TRUSTED, *extra)


class SipGuard:
    def __init__(
        self,
        log_path: Path,
        blocklist: NftBlocklist,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.detector = Detector(
            max_failures=settings.SIPGUARD_MAX_FAILURES,
            window=settings.SIPGUARD_WINDOW,
            trusted=networks(trusted_sources()),
        )
        self.follower = LogFollower(log_path)
        self.blocklist = blocklist
        self.clock = clock
        self.now = now
        # What the nftables sets hold, as far as the guard knows: address -> end of its block.
        self.enforced: dict[str, datetime] = {}
        self.last_sync = 0.0

    def start(self) -> None:
        self.blocklist.setup()
        self.follower.lines()  # opens the log at its end
        self.sync()

    def step(self) -> None:
        """Read what the log gained, block who must be, and every second match the database."""
        for line in self.follower.lines():
            event = parse_line(line)
            if event is None or event.address in self.enforced:
                # Lines of a source already blocked: Asterisk logged them before its packets stopped.
                continue
            offender = self.detector.feed(event, self.clock())
            if offender is not None:
                close_old_connections()
                now = self.now()
                seconds = queries.block_seconds(offender.address, settings.SIPGUARD_BLOCK_SECONDS, now)
                # The packets stop first; the record (what administrators see) follows.
                self.blocklist.block(offender.address, seconds)
                block = actions.record_block(offender=offender, seconds=seconds, now=now)
                self.enforced[block.address] = block.expires_at
        if self.clock() - self.last_sync >= 1.0:
            self.sync()

    def sync(self) -> None:
        self.last_sync = self.clock()
        close_old_connections()
        now = self.now()
        wanted = queries.enforced_blocks(now)
        for address in [a for a in self.enforced if a not in wanted]:
            if self.enforced[address] > now:  # lifted by an administrator (else it expired by itself)
                self.blocklist.unblock(address)
                self.detector.forget(address)
                logger.info("SIP source %s let in again", address)
            del self.enforced[address]
        for address, expires_at in wanted.items():
            if self.enforced.get(address) != expires_at:
                self.blocklist.block(address, int((expires_at - now).total_seconds()) + 1)
                self.enforced[address] = expires_at
        self.detector.prune(self.clock())


def security_log_path() -> Path:
    if settings.SIPGUARD_LOG:
        return Path(settings.SIPGUARD_LOG)
    from .asterisk import AsteriskInstance

    return AsteriskInstance().outer_dir / "log" / "security.log"


def blocklist_for_instance() -> NftBlocklist:
    return NftBlocklist(
        settings.ASTERISK_INSTANCE,
        [settings.ASTERISK_SIP_PORT, settings.ASTERISK_SIP_TLS_PORT],
        trusted=trusted_sources(),
        rate=settings.SIPGUARD_RATE,
        burst=settings.SIPGUARD_BURST,
    )
