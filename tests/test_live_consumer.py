"""The live WebSocket: each user hears of their own calls, and only of them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from telephony import records

from .personas import Person

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Channels closes "old" DB connections around each query it makes (the session lookup); inside a
    test's transaction that would close the test's own connection, so here it must not."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def _session_cookie(person: Person) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(person.user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def _communicator(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    """A browser tab on /ws/live/, through the real ASGI stack (origin check, session auth)."""
    return WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN, *headers])


def _dave_calls_bob(dave: Person, bob: Person, django_capture_on_commit_callbacks: Any) -> uuid.UUID:
    """Records a ringing call and runs its on-commit hooks, as a committed transaction would."""
    call_id = uuid.uuid4()
    assert dave.user.company_id is not None
    with django_capture_on_commit_callbacks(execute=True):
        records.start_call(
            records.NewCall(
                call_id=call_id, company_id=dave.user.company_id, asterisk_server="ast1",
                caller_user_id=dave.user.pk, caller_device_id=None, caller_number="103", caller_name="Dave",
                dialled="101", channel_id=f"chan-{call_id}", endpoint=dave.sip_username, started_at=T0,
            )
        )  # fmt: skip
        records.set_callee(call_id, user_id=bob.user.pk, number="101", name="Bob")
        records.mark_ringing(call_id, at=T0 + timedelta(seconds=1))
    return call_id


def test_bob_hears_of_his_call_and_carol_does_not(
    bob: Person, carol: Person, dave: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    bob_cookie, carol_cookie = _session_cookie(bob), _session_cookie(carol)

    async def scenario() -> tuple[dict[str, Any], bool]:
        bobs_tab, carols_tab = _communicator(bob_cookie), _communicator(carol_cookie)
        assert (await bobs_tab.connect())[0]
        assert (await carols_tab.connect())[0]

        # when
        call_id = await sync_to_async(_dave_calls_bob)(dave, bob, django_capture_on_commit_callbacks)

        # then
        event = await bobs_tab.receive_json_from(timeout=2)
        carol_heard_nothing = await carols_tab.receive_nothing(timeout=0.2)
        await bobs_tab.disconnect()
        await carols_tab.disconnect()
        return {**event, "expected_call_id": str(call_id)}, carol_heard_nothing

    event, carol_heard_nothing = async_to_sync(scenario)()

    assert event["type"] == "call.state"
    assert event["call_id"] == event.pop("expected_call_id")
    assert (event["state"], event["direction"], event["peer_name"], event["peer_number"]) == (
        "ringing",
        "incoming",
        "Dave",
        "103",
    )
    assert carol_heard_nothing


def test_an_anonymous_connection_is_refused_with_4401(db: None) -> None:
    # when
    async def scenario() -> tuple[bool, int | str | None]:
        return await _communicator().connect()

    connected, code = async_to_sync(scenario)()

    # then
    assert (connected, code) == (False, 4401)
