"""The ARI client's REST-over-WebSocket transport: requests out as RESTRequest messages, answers matched
back by request id. (End to end, every call of the e2e suite goes through it.)"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from ari_bridge.client import AriClient, AriConfig, AriError, ConnectionLost


class FakeSocket:
    """Stands for the event WebSocket: keeps what the client sends."""

    closed = False

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_str(self, data: str) -> None:
        self.sent.append(json.loads(data))


def client_on(ws: FakeSocket, **options: Any) -> AriClient:
    client = AriClient(AriConfig("http://127.0.0.1:1", "u", "p", "app", **options))
    client.attach(ws)  # type: ignore[arg-type]
    return client


async def answer(client: AriClient, ws: FakeSocket, *, nth: int = 1, **response: Any) -> None:
    """Answer the nth request sent (1-based) once it is out."""
    while len(ws.sent) < nth:
        await asyncio.sleep(0)
    client.resolve({"type": "RESTResponse", "request_id": ws.sent[nth - 1]["request_id"], **response})


def test_a_request_goes_out_as_a_rest_request_and_returns_the_body() -> None:
    async def scenario() -> None:
        ws = FakeSocket()
        client = client_on(ws)
        request = asyncio.ensure_future(
            client.request(
                "POST",
                "/channels/create",
                params={"endpoint": "PJSIP/101", "app": "app"},
                body={"variables": {"CALLERID(num)": "102"}},
            )
        )
        await answer(client, ws, status_code=200, message_body='{"id": "c1"}')
        assert await request == {"id": "c1"}
        sent = ws.sent[0]
        assert sent["type"] == "RESTRequest"
        assert sent["method"] == "POST"
        assert sent["uri"] == "channels/create?endpoint=PJSIP%2F101&app=app"
        assert sent["content_type"] == "application/json"
        assert json.loads(sent["message_body"]) == {"variables": {"CALLERID(num)": "102"}}

    asyncio.run(scenario())


def test_an_empty_answer_is_none_and_an_error_status_raises() -> None:
    async def scenario() -> None:
        ws = FakeSocket()
        client = client_on(ws)
        request = asyncio.ensure_future(client.request("POST", "/channels/c1/answer"))
        await answer(client, ws, status_code=204)
        assert await request is None
        missing = asyncio.ensure_future(client.request("DELETE", "/bridges/b1"))
        await answer(client, ws, nth=2, status_code=404, message_body='{"message": "Bridge not found"}')
        with pytest.raises(AriError) as error:
            await missing
        assert error.value.status == 404
        assert "Bridge not found" in str(error.value)

    asyncio.run(scenario())


def test_answers_are_matched_by_request_id_whatever_their_order() -> None:
    async def scenario() -> None:
        ws = FakeSocket()
        client = client_on(ws)
        first = asyncio.ensure_future(client.request("GET", "/endpoints/PJSIP/101"))
        second = asyncio.ensure_future(client.request("GET", "/endpoints/PJSIP/102"))
        while len(ws.sent) < 2:
            await asyncio.sleep(0)
        one, two = ws.sent
        assert one["request_id"] != two["request_id"]
        client.resolve(
            {
                "type": "RESTResponse",
                "request_id": two["request_id"],
                "status_code": 200,
                "message_body": '{"resource": "102"}',
            }
        )
        client.resolve(
            {
                "type": "RESTResponse",
                "request_id": one["request_id"],
                "status_code": 200,
                "message_body": '{"resource": "101"}',
            }
        )
        assert await first == {"resource": "101"}
        assert await second == {"resource": "102"}

    asyncio.run(scenario())


def test_no_answer_times_out_and_a_lost_socket_fails_what_waits() -> None:
    async def scenario() -> None:
        ws = FakeSocket()
        client = client_on(ws, request_timeout=0.05)
        with pytest.raises(TimeoutError):
            await client.request("GET", "/asterisk/info")
        waiting = asyncio.ensure_future(client.request("GET", "/channels", timeout=5))
        while len(ws.sent) < 2:
            await asyncio.sleep(0)
        client.detach()
        with pytest.raises(ConnectionLost):
            await waiting
        # A late answer to a forgotten request is ignored.
        client.resolve({"type": "RESTResponse", "request_id": ws.sent[-1]["request_id"], "status_code": 200})

    asyncio.run(scenario())


def test_the_websocket_is_not_used_when_turned_off() -> None:
    ws = FakeSocket()
    client = client_on(ws, rest_over_websocket=False)
    assert client._ws is None
