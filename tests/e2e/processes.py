"""Start the platform's own processes (bridge, web server) against the test database, as subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Each test slot (ISTRA_TEST_SLOT, config/test_settings.py) keeps its own logs and ready files.
LOG_DIR = ROOT / "var" / ("test-logs" + (f"-{slot}" if (slot := getattr(settings, "TEST_SLOT", 0)) else ""))


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def test_database_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ari_get(path: str) -> int:
    request = urllib.request.Request(f"{settings.ARI_URL}/ari{path}")
    token = b64encode(f"{settings.ARI_USERNAME}:{settings.ARI_PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


class ManagedProcess:
    def __init__(
        self, name: str, args: list[str], ready: Callable[[], bool], env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.extra_env = env or {}
        self.args = args
        self.ready = ready
        self.process: subprocess.Popen[bytes] | None = None
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"

    def start(self, timeout: float = 20) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, *self.args],
            cwd=ROOT,
            env={**test_database_env(), **self.extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(
            lambda: self.ready() or self._died(), timeout, f"{self.name} to be ready (see {self.log_path})"
        )
        if self._died():
            raise AssertionError(f"{self.name} exited at start; see {self.log_path}")

    def _died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Crash it, as a power cut would: no clean-up of its own."""
        self.stop(signal.SIGKILL)
