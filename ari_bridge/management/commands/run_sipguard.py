"""Run the SIP guard (ari_bridge.sipguard) in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ari_bridge.nftables import NftError
from ari_bridge.sipguard import SipGuard, blocklist_for_instance, security_log_path

logger = logging.getLogger("ari_bridge.sipguard")


class Command(BaseCommand):
    help = "Block, with nftables, SIP sources that fail authentication repeatedly (Asterisk's security log)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.SIPGUARD_ENABLED:
            self.stdout.write("SIP guard disabled (SIPGUARD_ENABLED=no): idle until stopped.")
            while True:
                signal.pause()  # SIGTERM or Ctrl-C ends the process
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log_path = security_log_path()
        guard = SipGuard(log_path, blocklist_for_instance())
        try:
            guard.start()
        except NftError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"SIP guard reading {log_path}, blocking with nftables table {guard.blocklist.table}"
        )
        ready = os.environ.get("SIPGUARD_READY_FILE")
        if ready:
            Path(ready).write_text("ready")
        while not stopping:
            try:
                guard.step()
            except Exception:
                # A database or nft hiccup must not stop the guard (nor, with it, `make run`): the
                # blocks in force keep their own timeouts meanwhile.
                logger.exception("SIP guard step failed; trying again in a second")
                time.sleep(1)
            time.sleep(0.01)
        # The table stays: blocks in force keep their own timeouts while the guard is away.
