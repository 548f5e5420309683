"""A frozen bridge (SIGSTOP, then SIGCONT) catches up with what Asterisk did meanwhile (issue 10, section 6).

A freeze is played by blocking the event loop (time.sleep) past a timer's time; what Asterisk sent
during it is dispatched just after, as the WebSocket reader would once the loop runs again.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from ari_bridge import timers
from ari_bridge.client import AriClient, AriConfig
from ari_bridge.state import State
from telephony import records
from telephony.choices import CallOutcome

from .stub_ari import Stage, carol, leg_id, run


@pytest.fixture(autouse=True)
def short_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timers, "LATE", 0.2)
    monkeypatch.setattr(timers, "GRACE", 0.3)


def freeze(seconds: float) -> None:
    """The bridge process stopped: nothing in it runs, time goes on."""
    time.sleep(seconds)


def test_a_callee_who_answered_during_a_freeze_is_connected_though_the_ring_timeout_passed_meanwhile() -> (
    None
):
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(ring_timeout=1)
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        freeze(1.5)
        # The loop runs again: the ring timeout, due during the freeze, is due at once...
        await asyncio.sleep(0.01)
        # ... and then the backlog is read: the callee answered during the freeze.
        await stage.dial_status(leg_id(call), "ANSWER")
        assert call.state == State.CONNECTED
        assert stage.ari.sent_to_dialplan() == []  # no "no answer" announcement
        assert leg_id(call) not in stage.ari.hung_up()
        await asyncio.sleep(0.5)  # the late timer's grace is over: it was cancelled with the ringing
        assert call.state == State.CONNECTED

    run(scenario)


def test_a_ring_timeout_late_after_a_freeze_still_ends_a_call_nobody_answered() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(ring_timeout=1)
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        freeze(1.5)
        for _ in range(100):
            if call.state == State.ENDED:
                break
            await asyncio.sleep(0.01)
        assert call.state == State.ENDED
        assert stage.ari.sent_to_dialplan() == ["noanswer"]
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.NO_ANSWER

    run(scenario)


def test_a_ring_timeout_on_time_is_not_delayed() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(ring_timeout=1)
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        started = time.monotonic()
        while call.state != State.ENDED and time.monotonic() - started < 3:
            await asyncio.sleep(0.01)
        assert call.state == State.ENDED
        assert time.monotonic() - started < 1.2
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.NO_ANSWER

    run(scenario)


class StubWebSocket:
    closed = False

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_str(self, text: str) -> None:
        self.sent.append(json.loads(text))


def test_an_ari_answer_read_after_a_freeze_longer_than_the_request_timeout_is_no_timeout() -> None:
    async def scenario() -> Any:
        client = AriClient(AriConfig(base_url="http://127.0.0.1:1", username="u", password="p", app="a"))
        ws = StubWebSocket()
        client.attach(ws)  # type: ignore[arg-type]
        request = asyncio.ensure_future(client.request("GET", "/channels", timeout=0.5))
        await asyncio.sleep(0.01)
        [sent] = ws.sent
        freeze(1.0)  # Asterisk answered at once; the answer waits unread until the loop runs again
        await asyncio.sleep(0.01)
        client.resolve(
            {
                "type": "RESTResponse",
                "request_id": sent["request_id"],
                "status_code": 200,
                "message_body": "[]",
            }
        )
        return await request

    assert asyncio.run(scenario()) == []


def test_an_ari_request_nobody_answers_still_times_out_after_a_freeze() -> None:
    async def scenario() -> None:
        client = AriClient(AriConfig(base_url="http://127.0.0.1:1", username="u", password="p", app="a"))
        client.attach(StubWebSocket())  # type: ignore[arg-type]
        request = asyncio.ensure_future(client.request("GET", "/channels", timeout=0.5))
        await asyncio.sleep(0.01)
        freeze(1.0)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(request, 2)

    asyncio.run(scenario())
