"""End-to-end fixtures: a real Asterisk 22 (the test instance), the real bridge process, real SIP phones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ari_bridge.asterisk import AsteriskInstance

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
        "bridge", ["manage.py", "run_bridge"], ready=bridge_ready, env={"BRIDGE_READY_FILE": str(READY_FILE)}
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
