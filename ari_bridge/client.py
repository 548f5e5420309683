"""A thin typed asyncio client for the Asterisk REST Interface, on aiohttp.

REST requests carry a timeout and raise AriError on an error status. The event WebSocket is read by
`events()`; when it drops, the iterator raises ConnectionLost and the caller reconnects.

While the event WebSocket is open (`attach`), requests travel over it as RESTRequest messages and their
answers come back as RESTResponse events (Asterisk 22.4+): no HTTP request to build, send and parse per
call step, on either side, which is most of what a request costs. The owner of the WebSocket hands
each RESTResponse to `resolve`. Before it opens, and for binary bodies (recordings), plain HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp

from .timers import PatientTimer

logger = logging.getLogger(__name__)

Json = dict[str, Any]


def event_time(event: Json) -> datetime:
    """When Asterisk says the event happened (its `timestamp`), else now: records keep the time
    things happened, not the time a busy (or frozen) bridge got round to them."""
    try:
        return datetime.fromisoformat(str(event["timestamp"]))
    except (KeyError, ValueError):
        return datetime.now(UTC)


class AriError(Exception):
    def __init__(self, status: int, method: str, path: str, text: str) -> None:
        super().__init__(f"ARI {method} {path} -> {status}: {text[:200]}")
        self.status = status
        self.text = text

    @property
    def gone(self) -> bool:
        """What Asterisk says of a channel (or playback, bridge) that is no more, as when one side of
        a call hangs up under a request: 404, or "Channel not found" on a bridge (400, 422)."""
        return self.status == 404 or "not found" in self.text.lower()


class ConnectionLost(Exception):
    pass


@dataclass(frozen=True)
class AriConfig:
    base_url: str
    username: str
    password: str
    app: str
    request_timeout: float = 5.0
    # Send requests over the event WebSocket while it is open (see the module's docstring).
    rest_over_websocket: bool = True


class AriClient:
    def __init__(self, config: AriConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[Json]] = {}
        self._request_ids = itertools.count(1)

    async def __aenter__(self) -> AriClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                auth=aiohttp.BasicAuth(self.config.username, self.config.password),
                connector=aiohttp.TCPConnector(limit=64),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("AriClient is not open")
        return self._session

    # --- transport -------------------------------------------------------------------------------

    def attach(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Send requests over this event WebSocket from now on."""
        if self.config.rest_over_websocket:
            self._ws = ws

    def detach(self) -> None:
        """The WebSocket is gone: requests waiting on it fail, the next ones go over HTTP."""
        self._ws = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ConnectionLost("ARI event WebSocket closed"))

    def resolve(self, event: Json) -> None:
        """A RESTResponse event: the answer to one of our requests."""
        future = self._pending.pop(str(event.get("request_id", "")), None)
        if future is not None and not future.done():
            future.set_result(event)

    def _expire(self, request_id: str) -> None:
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.set_exception(TimeoutError(f"ARI request {request_id} timed out"))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Json | None = None,
        timeout: float | None = None,
    ) -> Any:
        ws = self._ws
        if ws is not None and not ws.closed:
            return await self._request_over_websocket(ws, method, path, params, body, timeout)
        url = f"{self.config.base_url}/ari{path}"
        client_timeout = aiohttp.ClientTimeout(total=timeout or self.config.request_timeout)
        async with self.session.request(
            method, url, params=dict(params or {}), json=body, timeout=client_timeout
        ) as response:
            text = await response.text()
            if response.status >= 300:
                raise AriError(response.status, method, path, text)
            return json.loads(text) if text else None

    async def _request_over_websocket(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        body: Json | None,
        timeout: float | None,
    ) -> Any:
        request_id = str(next(self._request_ids))
        uri = path.lstrip("/")
        if params:
            uri = f"{uri}?{urlencode(params)}"
        message: Json = {"type": "RESTRequest", "request_id": request_id, "method": method, "uri": uri}
        if body is not None:
            message["content_type"] = "application/json"
            message["message_body"] = json.dumps(body)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Json] = loop.create_future()
        self._pending[request_id] = future
        # Patient: after a freeze, an answer waiting unread on the WebSocket is read first (timers.py).
        expiry = PatientTimer(timeout or self.config.request_timeout, self._expire, request_id)
        try:
            await ws.send_str(json.dumps(message))
            response = await future
        finally:
            expiry.cancel()
            self._pending.pop(request_id, None)
        status = int(response.get("status_code") or 500)
        content = response.get("message_body")
        if status >= 300:
            text = content if isinstance(content, str) else json.dumps(content or response)
            raise AriError(status, method, path, text)
        if isinstance(content, str):
            return json.loads(content) if content else None
        return content

    def connect_events(self) -> Any:
        """The application's event WebSocket (an async context manager yielding aiohttp messages)."""
        ws_url = self.config.base_url.replace("http", "ws", 1) + "/ari/events"
        params = {"app": self.config.app, "subscribeAll": "false"}
        return self.session.ws_connect(ws_url, params=params, heartbeat=10, max_msg_size=0)

    # --- resources ---------------------------------------------------------------------------------

    async def asterisk_info(self) -> Json:
        result: Json = await self.request("GET", "/asterisk/info", timeout=2)
        return result

    async def list_channels(self) -> list[Json]:
        result: list[Json] = await self.request("GET", "/channels")
        return result

    async def list_bridges(self) -> list[Json]:
        result: list[Json] = await self.request("GET", "/bridges")
        return result

    async def create_channel(
        self,
        *,
        endpoint: str,
        channel_id: str,
        app_args: str,
        originator: str = "",
        variables: Json | None = None,
    ) -> Json:
        params: dict[str, str | int] = {
            "endpoint": endpoint,
            "app": self.config.app,
            "appArgs": app_args,
            "channelId": channel_id,
        }
        if originator:
            params["originator"] = originator
        result: Json = await self.request(
            "POST", "/channels/create", params=params, body={"variables": variables or {}}
        )
        return result

    async def dial(self, channel_id: str, *, caller: str = "", timeout: int = 0) -> None:
        params: dict[str, str | int] = {}
        if caller:
            params["caller"] = caller
        if timeout:
            params["timeout"] = timeout
        await self.request("POST", f"/channels/{channel_id}/dial", params=params)

    async def endpoint_state(self, resource: str, tech: str = "PJSIP") -> str:
        """online, offline or unknown: a PJSIP endpoint is online while a contact is registered."""
        try:
            result: Json = await self.request("GET", f"/endpoints/{tech}/{resource}")
        except AriError as exc:
            if exc.status == 404:
                return "offline"
            raise
        return str(result.get("state", "unknown"))

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/ring")

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def hangup(self, channel_id: str, *, reason: str = "normal") -> bool:
        """Hang a channel up; False when it was already gone."""
        try:
            await self.request("DELETE", f"/channels/{channel_id}", params={"reason": reason})
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def continue_in_dialplan(
        self, channel_id: str, *, context: str, extension: str, priority: int = 1
    ) -> bool:
        try:
            await self.request(
                "POST",
                f"/channels/{channel_id}/continue",
                params={"context": context, "extension": extension, "priority": priority},
            )
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def play(self, channel_id: str, media: list[str], *, playback_id: str, lang: str = "") -> None:
        # One media parameter, comma-separated: Asterisk keeps only the last of repeated ones.
        params: list[tuple[str, str]] = [("media", ",".join(media)), ("playbackId", playback_id)]
        if lang:
            params.append(("lang", lang))
        url = f"{self.config.base_url}/ari/channels/{channel_id}/play"
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        async with self.session.post(url, params=params, timeout=timeout) as response:
            if response.status >= 300:
                raise AriError(response.status, "POST", f"/channels/{channel_id}/play", await response.text())

    async def stop_playback(self, playback_id: str) -> None:
        try:
            await self.request("DELETE", f"/playbacks/{playback_id}")
        except AriError as exc:
            if exc.status != 404:
                raise

    async def record(self, channel_id: str, *, name: str, max_seconds: int, terminate_on: str = "#") -> None:
        await self.request(
            "POST",
            f"/channels/{channel_id}/record",
            params={
                "name": name,
                "format": "wav",
                "maxDurationSeconds": max_seconds,
                "terminateOn": terminate_on,
                "ifExists": "overwrite",
                "beep": "false",
            },
        )

    async def stored_recording(self, name: str) -> bytes | None:
        """The file of a finished recording, or None when Asterisk has no such recording."""
        url = f"{self.config.base_url}/ari/recordings/stored/{name}/file"
        timeout = aiohttp.ClientTimeout(total=30)
        async with self.session.get(url, timeout=timeout) as response:
            if response.status == 404:
                return None
            if response.status >= 300:
                raise AriError(
                    response.status, "GET", f"/recordings/stored/{name}/file", await response.text()
                )
            return await response.read()

    async def delete_stored_recording(self, name: str) -> None:
        try:
            await self.request("DELETE", f"/recordings/stored/{name}")
        except AriError as exc:
            if exc.status != 404:
                raise

    async def live_recording_exists(self, name: str) -> bool:
        try:
            await self.request("GET", f"/recordings/live/{name}")
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        await self.request(
            "POST", f"/channels/{channel_id}/variable", params={"variable": variable, "value": value}
        )

    async def create_bridge(self, bridge_id: str, *, kind: str = "mixing") -> Json:
        result: Json = await self.request("POST", f"/bridges/{bridge_id}", params={"type": kind})
        return result

    async def add_to_bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        # Phones already know whom they talk to (caller ID, the number dialled): connected-line
        # updates would only re-INVITE both right after answer, which simple SIP clients mishandle.
        await self.request(
            "POST",
            f"/bridges/{bridge_id}/addChannel",
            params={"channel": ",".join(channel_ids), "inhibitConnectedLineUpdates": "true"},
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        try:
            await self.request("DELETE", f"/bridges/{bridge_id}")
        except AriError as exc:
            if exc.status != 404:
                raise

    async def filter_events(self, allowed: list[str]) -> None:
        """Have Asterisk send this application only these event types (it sends ~70 a call otherwise)."""
        await self.request(
            "PUT",
            f"/applications/{self.config.app}/eventFilter",
            body={"allowed": [{"type": kind} for kind in allowed]},
        )

    async def subscribe(self, sources: list[str]) -> None:
        """Make sure this application hears the events of channels/bridges it adopted after a restart."""
        if sources:
            await self.request(
                "POST",
                f"/applications/{self.config.app}/subscription",
                params={"eventSource": ",".join(sources)},
            )


async def wait_for_asterisk(client: AriClient, timeout: float) -> Json:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await client.asterisk_info()
        except (TimeoutError, aiohttp.ClientError, OSError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
