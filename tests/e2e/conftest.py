"""End-to-end fixtures: a real Asterisk 22 (the test instance), the real bridge process, real SIP phones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from ari_bridge.asterisk import AsteriskInstance
from config import test_settings

from .processes import LOG_DIR, ManagedProcess


@pytest.fixture(scope="session")
def asterisk() -> Iterator[AsteriskInstance]:
    instance = AsteriskInstance()
    # Start from nothing: registrations a previous run left in Asterisk's database would ring dead phones.
    instance.wipe()
    instance.start()
    yield instance
    instance.stop()


READY_FILE = LOG_DIR / "bridge.ready"


def bridge_ready() -> bool:
    return READY_FILE.exists()


@pytest.fixture(scope="session")
def bridge_process(
    asterisk: AsteriskInstance, django_db_setup: None, django_db_blocker: object
) -> Iterator[ManagedProcess]:
    READY_FILE.unlink(missing_ok=True)
    process = ManagedProcess(
        "bridge",
        ["manage.py", "run_bridge"],
        ready=bridge_ready,
        env={"BRIDGE_READY_FILE": str(READY_FILE), "DJANGO_DEBUG": "no"},
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def bridge(bridge_process: ManagedProcess, transactional_db: None) -> ManagedProcess:
    """The bridge, running (a test that killed it gets a new one)."""
    if not bridge_process.alive:
        READY_FILE.unlink(missing_ok=True)
        bridge_process.start()
    return bridge_process


# Blocks last this long in the tests: long enough to see a source blocked, short enough to see it end.
SIPGUARD_TEST_BLOCK_SECONDS = 8


@pytest.fixture(scope="session")
def sipguard_process(asterisk: AsteriskInstance, django_db_setup: None) -> Iterator[ManagedProcess]:
    """The SIP guard (manage.py run_sipguard) on the test Asterisk's security log, blocking with its
    own nftables table. 127.0.0.1 stays trusted (the other tests' phones fail on purpose from it);
    the guard's tests play attackers and phones from 127.0.0.50 and up."""
    ready_file = LOG_DIR / "sipguard.ready"
    ready_file.unlink(missing_ok=True)
    process = ManagedProcess(
        "sipguard",
        ["manage.py", "run_sipguard"],
        ready=ready_file.exists,
        env={
            "SIPGUARD_READY_FILE": str(ready_file),
            "SIPGUARD_BLOCK_SECONDS": str(SIPGUARD_TEST_BLOCK_SECONDS),
            "SIPGUARD_TRUSTED": "127.0.0.1",
        },
    )
    process.start()
    yield process
    process.stop()
    from ari_bridge.sipguard import blocklist_for_instance

    blocklist_for_instance().teardown()


@pytest.fixture
def sipguard(sipguard_process: ManagedProcess, bridge: ManagedProcess) -> ManagedProcess:
    return sipguard_process


WEB_PORT = test_settings.WEB_PORT


def web_ready() -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{WEB_PORT}/login/", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def web_server(django_db_setup: None, django_db_blocker: object) -> Iterator[str]:
    """The real ASGI server (HTTP and WebSocket) on the test database; yields its base URL."""
    process = ManagedProcess(
        "web",
        ["-m", "config.serve", "--host", "127.0.0.1", "--port", str(WEB_PORT)],
        ready=web_ready,
    )
    process.start()
    yield f"http://127.0.0.1:{WEB_PORT}"
    process.stop()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, django_db_blocker: object) -> Iterator[ManagedProcess]:
    """A real Celery worker on the test database and Redis (notifications, retries)."""
    ready_marker = LOG_DIR / "celery.ready"
    ready_marker.unlink(missing_ok=True)
    process = ManagedProcess(
        "celery",
        [
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--purge",
        ],
        ready=lambda: "ready." in (LOG_DIR / "celery.log").read_text(errors="replace")[-5000:],
    )
    (LOG_DIR / "celery.log").write_text("")
    process.start(timeout=30)
    yield process
    process.stop()


class SmtpInbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        import threading

        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_inbox() -> Iterator[SmtpInbox]:
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture(scope="session", autouse=True)
def flush_survives_concurrent_readers() -> Iterator[None]:
    """The bridge, web server and worker keep reading the test database while a transactional test
    empties it (TRUNCATE); PostgreSQL may pick the flush as a deadlock victim. Retry it then."""
    import time

    from django.core.management.base import CommandError
    from django.core.management.commands import flush
    from django.db import OperationalError

    original = flush.Command.handle

    def handle(self: flush.Command, **options: object) -> None:
        for attempt in range(5):
            try:
                return original(self, **options)
            except (OperationalError, CommandError) as exc:
                # flush wraps the database's error in a CommandError that quotes it.
                if "deadlock" not in f"{exc} {exc.__cause__}" or attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))

    flush.Command.handle = handle  # type: ignore[method-assign]
    yield
    flush.Command.handle = original  # type: ignore[method-assign]
