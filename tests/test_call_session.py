"""The call state machine's own decisions, with a stand-in for Asterisk's replies (no database, no
Asterisk): what it writes when Asterisk answers a request with an error. The same behaviour on real
calls is covered by the end-to-end suite; these cases are races a real call hits only under load."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from ari_bridge.calls import CallSession, Leg, LegStatus, State

from ari_bridge.client import AriError
from telephony import records
from telephony.choices import LegRole


class StubClient:
    """Answers every request; `add_to_bridge` fails as when a channel hung up a moment before."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __getattr__(self, name: str) -> Any:
        async def request(*args: Any, **kwargs: Any) -> None:
            self.requests.append(name)
            if name == "add_to_bridge":
                raise AriError(400, "POST", "/bridges/b/addChannel", '{"message":"Channel not found"}')

        return request


class StubBatcher:
    def __init__(self) -> None:
        self.writes: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        self.writes.append((fn, args, kwargs))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class StubBridge:
    app = "istra-test"
    server_id = "ast-test"

    def __init__(self) -> None:
        self.client = StubClient()
        self.batcher = StubBatcher()


def test_an_answered_call_is_recorded_as_answered_even_when_bridging_fails() -> None:
    async def scenario() -> tuple[StubBridge, CallSession]:
        bridge = StubBridge()
        session = CallSession(bridge, uuid.uuid4(), {"id": "caller-1", "name": "PJSIP/acme-101-1"}, "102")  # type: ignore[arg-type]
        session.state = State.RINGING
        leg = Leg(channel_id="callee-1", role=LegRole.CALLEE, endpoint="acme-102", status=LegStatus.RINGING)
        session.legs[leg.channel_id] = leg
        # The session's run loop logs the error; the hang-up events that follow end the call.
        with contextlib.suppress(AriError):
            await session.on_answer(leg)
        return bridge, session

    bridge, session = asyncio.run(scenario())
    assert session.state == State.CONNECTED
    assert "add_to_bridge" in bridge.client.requests
    answered = [kwargs for fn, _, kwargs in bridge.batcher.writes if fn is records.mark_answered]
    assert len(answered) == 1
    assert answered[0]["channel_id"] == "callee-1"
