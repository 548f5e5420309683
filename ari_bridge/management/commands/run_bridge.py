import asyncio
import logging
import signal
from collections.abc import Callable

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ari_bridge.app import app_from_settings

logger = logging.getLogger("ari_bridge")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop (libuv) unless BRIDGE_UVLOOP is off: the bridge spends a fair share of
    its CPU in the event loop itself (socket reads and writes, timers, task steps)."""
    if not settings.BRIDGE_UVLOOP:
        return None
    import uvloop

    return uvloop.new_event_loop


def _lock_key(app: str) -> int:
    return int.from_bytes(app.encode()[:8].ljust(8, b"\0"), "big", signed=True)


class Command(BaseCommand):
    help = "Run the Stasis application: every call Asterisk handles goes through it."

    def handle(self, *args: object, **options: object) -> None:
        # Exactly one bridge per application name: a second WebSocket would silently take the app over.
        db = settings.DATABASES["default"]
        lock_conn = psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            dbname=db["NAME"],
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            autocommit=True,
        )
        locked = lock_conn.execute(
            "SELECT pg_try_advisory_lock(%s)", (_lock_key(settings.ARI_APP),)
        ).fetchone()
        if not locked or not locked[0]:
            raise CommandError(
                f"Another bridge is already running for the ARI application {settings.ARI_APP!r}."
            )
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._run())
        finally:
            lock_conn.close()

    async def _run(self) -> None:
        app = app_from_settings()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Calls survive our stop: Asterisk keeps them; the next bridge adopts them.
            loop.add_signal_handler(sig, app.stop)
        logger.info("bridge starting: app %s on %s", settings.ARI_APP, settings.ARI_URL)
        await app.run()
        logger.info("bridge stopped")
