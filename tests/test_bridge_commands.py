"""The command path from the web to the bridge: hanging up a call of mine from the API, sent over
the real Redis to the bridge's real command reader (its calls stood in for), answered with a result
or a clear error."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from ari_bridge.client import Json
from ari_bridge.commands import _answer, serve_commands
from ari_bridge.registry import CallRegistry
from telephony import bridge_commands
from telephony.contract import HangUpCall, command_queue, parse_command

from .personas import Person, record_call

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class LiveCall:
    """A call as the bridge's registry holds it; `inbox` is what was posted to its queue."""

    call_id: uuid.UUID
    ended: bool = False
    inbox: list[Json] = field(default_factory=list)

    def deliver(self, event: Json) -> None:
        self.inbox.append(event)

    def channel_ids(self) -> Iterable[str]:
        return ()

    def device_ids(self) -> Iterable[int]:
        return ()

    def user_ids(self) -> Iterable[int]:
        return ()


@pytest.fixture(autouse=True)
def own_queue(settings: Any) -> None:
    """A command list of these tests' own: a bridge process of the end-to-end tests may be running."""
    settings.ARI_APP = f"istra-unit-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def bridge() -> Iterator[CallRegistry]:
    """The bridge's command reader on the test Redis, in a thread of its own; its registry."""
    redis.Redis.from_url(settings.REDIS_URL).delete(command_queue(settings.ARI_APP))
    registry = CallRegistry()
    loop = asyncio.new_event_loop()
    task = loop.create_task(serve_commands(settings.REDIS_URL, settings.ARI_APP, registry))

    def serve() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield registry
    loop.call_soon_threadsafe(task.cancel)
    thread.join(timeout=10)
    loop.close()


def client_for(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def hang_up(person: Person, call_id: uuid.UUID) -> tuple[int, object]:
    response = client_for(person).post(reverse("api:call-hangup", args=[call_id]))
    return response.status_code, response.json()


def test_i_hang_up_a_call_of_mine_in_progress_and_the_bridge_ends_it(
    bridge: CallRegistry, bob: Person, carol: Person
) -> None:
    # given bob's call to carol, in progress on the bridge
    call_id = record_call(bob, carol, at=T0, answered=True, end=False)
    live = LiveCall(call_id)
    bridge.add(live)

    # when bob asks to hang it up
    status, body = hang_up(bob, call_id)

    # then the bridge was told, and said it does
    assert (status, body) == (202, {"status": "hanging_up"})
    assert live.inbox == [{"type": "_hangup", "reason": "hung_up_from_web"}]


def test_the_callee_may_hang_up_the_call_too(bridge: CallRegistry, bob: Person, carol: Person) -> None:
    call_id = record_call(bob, carol, at=T0, answered=True, end=False)
    live = LiveCall(call_id)
    bridge.add(live)
    assert hang_up(carol, call_id)[0] == 202 and len(live.inbox) == 1


def test_nobody_hangs_up_a_call_they_take_no_part_in(
    bridge: CallRegistry, bob: Person, carol: Person, dave: Person, gina: Person
) -> None:
    call_id = record_call(bob, carol, at=T0, answered=True, end=False)
    live = LiveCall(call_id)
    bridge.add(live)
    for outsider in (dave, gina):  # a colleague; another company's user
        status, body = hang_up(outsider, call_id)
        assert status == 404 and "No call of yours" in str(body)
    assert live.inbox == []


def test_an_ended_call_cannot_be_hung_up(bridge: CallRegistry, bob: Person, carol: Person) -> None:
    call_id = record_call(bob, carol, at=T0, answered=True)
    bridge.add(LiveCall(call_id))
    assert hang_up(bob, call_id)[0] == 404


def test_a_call_the_bridge_no_longer_has_is_said_to_have_ended(
    bridge: CallRegistry, bob: Person, carol: Person
) -> None:
    call_id = record_call(bob, carol, at=T0, answered=True, end=False)  # recorded, but gone
    status, body = hang_up(bob, call_id)
    assert status == 404 and "may have just ended" in str(body)


def test_a_bridge_that_does_not_answer_is_a_clear_error(
    bob: Person, carol: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis.Redis.from_url(settings.REDIS_URL).delete(command_queue(settings.ARI_APP))
    monkeypatch.setattr(bridge_commands, "COMMAND_TIMEOUT", 0.2)
    call_id = record_call(bob, carol, at=T0, answered=True, end=False)
    status, body = hang_up(bob, call_id)
    assert status == 503 and "did not answer" in str(body)


def test_a_command_left_waiting_while_the_bridge_was_down_is_dropped_not_carried_out() -> None:
    async def scenario() -> list[Json]:
        registry = CallRegistry()
        live = LiveCall(uuid.uuid4())
        registry.add(live)
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        stale = {**HangUpCall(live.call_id, 1).as_message(), "reply_to": "", "expires_at": time.time() - 1}
        await _answer(client, json.loads(json.dumps(stale)), registry)
        await client.aclose()
        return live.inbox

    assert asyncio.run(scenario()) == []


def test_a_command_of_a_kind_the_bridge_does_not_know_is_no_command() -> None:
    assert parse_command({"command": "transfer", "call_id": str(uuid.uuid4())}) is None
    assert parse_command({"command": "hang_up_call", "call_id": "x", "user_id": 1}) is None
    call_id = uuid.uuid4()
    assert parse_command(HangUpCall(call_id, 7).as_message()) == HangUpCall(call_id, 7)
