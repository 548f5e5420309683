"""The Stasis application: connection to ARI, event routing to calls, reconnection, startup work.

The event pump only routes events to the queue of the call they belong to; it never awaits a REST
request. When the WebSocket drops (Asterisk or network restart), the application reconnects with
backoff, pushes every device to Asterisk again and reconciles its calls with the channels Asterisk
reports (reconcile.py), so that no call stays stuck in Stasis and no record stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Coroutine
from typing import Any

import aiohttp

from telephony import provisioning
from telephony.contract import ClickToCall, FromCarrier, Inbound, parse_entry
from telephony.listeners import ListenerSet

from .availability import watch_availability
from .call import Call, CallServices
from .client import AriClient, AriConfig, ConnectionLost, Json, event_time
from .commands import serve_commands
from .notifier import install_publisher
from .orm import db
from .reconcile import reconcile
from .recorder import RecordBatcher
from .recordings import sweep_forever
from .registry import CallRegistry
from .routing_cache import RoutingCache

logger = logging.getLogger(__name__)


# Every event type the call actor and the dialogs act on; Asterisk drops the rest
# (ChannelVarset alone is over half of a call's events).
EVENTS_USED = [
    "StasisStart",
    "StasisEnd",
    "ChannelStateChange",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "Dial",
    "ChannelDtmfReceived",
    "PlaybackStarted",
    "PlaybackFinished",
    "RecordingStarted",
    "RecordingFinished",
    "RecordingFailed",
    "ApplicationReplaced",
    "RESTResponse",
]


class StasisApp:
    def __init__(self, config: AriConfig, *, server_id: str, reconnect_max_delay: float = 5.0) -> None:
        from django.conf import settings

        self.config = config
        self.app = config.app
        self.server_id = server_id
        self.client = AriClient(config)
        self.reconnect_max_delay = reconnect_max_delay
        self.registry = CallRegistry()
        self.tasks: set[asyncio.Future[Any]] = set()
        self.startup_time: str | None = None
        self.connected = asyncio.Event()
        self._stopping = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.ready_file = os.environ.get("BRIDGE_READY_FILE", "")
        self._sweeper: asyncio.Task[None] | None = None
        self._availability: asyncio.Task[None] | None = None
        self.batcher = RecordBatcher(linger=settings.BRIDGE_RECORD_LINGER_MS / 1000)
        self.availability_poll = float(settings.BRIDGE_AVAILABILITY_POLL)
        self.redis_url = settings.REDIS_URL
        self.cache = RoutingCache(server_id=server_id, enabled=settings.BRIDGE_ROUTING_CACHE)
        # Live events go only to groups a browser listens to (telephony/listeners.py).
        self.listeners = ListenerSet(settings.REDIS_URL) if settings.BRIDGE_SKIP_UNLISTENED else None
        self.services = CallServices(
            client=self.client,
            registry=self.registry,
            cache=self.cache,
            batcher=self.batcher,
            server_id=server_id,
            app=self.app,
            spawn=self.start_call,
        )

    # --- calls ------------------------------------------------------------------------------------------

    def start_call(self, call: Call) -> None:
        self.registry.add(call)
        self._background(call.run(), f"call-{call.call_id}")

    def _background(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A task of the application's, kept until it ends (the event loop holds tasks weakly)."""
        task = asyncio.create_task(work, name=name)
        self._keep(task)
        return task

    def _keep(self, task: asyncio.Future[Any]) -> None:
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- event pump -----------------------------------------------------------------------------------

    def dispatch(self, event: Json) -> None:
        """Route one event to its call; never blocks."""
        kind = event.get("type")
        if kind == "RESTResponse":
            self.client.resolve(event)
            return
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("event %s %s %s", kind, event.get("channel", {}).get("id"), event.get("args"))
        if kind == "StasisStart" and self._new_call(event):
            return
        channel_id = ""
        if kind == "Dial":
            channel_id = event.get("peer", {}).get("id", "")
        elif "channel" in event:
            channel_id = event["channel"].get("id", "")
        elif "playback" in event or "recording" in event:
            # Playbacks and recordings name their channel in target_uri ("channel:<id>").
            target = (event.get("playback") or event.get("recording") or {}).get("target_uri", "")
            channel_id = target.partition(":")[2] if target.startswith("channel:") else ""
        call = self.registry.of_channel(channel_id)
        if call is not None:
            call.deliver(event)

    def _new_call(self, event: Json) -> bool:
        """A channel entering Stasis as a new call's caller: its call, started. False for a channel
        one of our calls created (`Dialled`), or one we already follow."""
        channel = event["channel"]
        if self.registry.knows_channel(channel["id"]):
            return False
        entry = parse_entry(event.get("args") or [], exten=channel.get("dialplan", {}).get("exten", ""))
        at = event_time(event)
        if isinstance(entry, Inbound):
            call = Call(self.services, uuid.uuid4(), channel, entry.dialled, started_at=at)
        elif isinstance(entry, FromCarrier):
            # From the PSTN trunk to one of our public numbers.
            call = Call(self.services, uuid.uuid4(), channel, entry.number, from_carrier=True, started_at=at)
        elif isinstance(entry, ClickToCall):
            # The user answered their own phone: now place their call.
            call = Call(self.services, uuid.uuid4(), channel, entry.dialled, originated=True, started_at=at)
        else:
            return False
        self.start_call(call)
        return True

    # --- connection loop ------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        if self._ws is not None:
            self._keep(asyncio.ensure_future(self._ws.close()))

    async def run(self) -> None:
        install_publisher(self.listeners, self._keep)
        if self.listeners is not None:
            self.listeners.start()
        self.cache.start_listening()
        commands = self._background(serve_commands(self.redis_url, self.app, self.registry), "commands")
        await self.client.open()
        delay = 0.2
        try:
            while not self._stopping.is_set():
                try:
                    await self._connect_once()
                    delay = 0.2
                except (aiohttp.ClientError, OSError, TimeoutError, ConnectionLost) as exc:
                    logger.warning("ARI unreachable (%s); retrying in %.1fs", exc, delay)
                except Exception as exc:  # keep the application up whatever happens
                    logger.exception("bridge loop error: %s", exc)
                self.connected.clear()
                if self.ready_file and os.path.exists(self.ready_file):
                    os.unlink(self.ready_file)
                if self._stopping.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                delay = min(delay * 2, self.reconnect_max_delay)
        finally:
            commands.cancel()
            await self.client.close()
            await self.cache.close()
            if self.listeners is not None:
                await self.listeners.stop()

    async def _connect_once(self) -> None:
        info = await self.client.asterisk_info()
        startup = info.get("status", {}).get("startup_time")
        async with self.client.connect_events() as ws:
            self._ws = ws
            self.client.attach(ws)
            restarted = self.startup_time is not None and startup != self.startup_time
            self.startup_time = startup
            logger.info("connected to ARI app %s (Asterisk started %s)", self.app, startup)
            # The WebSocket is open, so the application exists and no new call can slip between the
            # channel list reconciliation reads and the event stream.
            connected = asyncio.create_task(self._on_connected(restarted))
            try:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self.dispatch(json.loads(message.data))
                    elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
            finally:
                self._ws = None
                self.client.detach()
                connected.cancel()
                if self._sweeper is not None:
                    self._sweeper.cancel()
                if self._availability is not None:
                    self._availability.cancel()
        if not self._stopping.is_set():
            raise ConnectionLost("ARI event WebSocket closed")

    async def _on_connected(self, asterisk_restarted: bool) -> None:
        """The startup work of each connection. Each step's failure is logged and the next steps still
        run: whatever reconciliation meets, the application goes on serving and says it is ready."""
        try:
            await self.client.filter_events(EVENTS_USED)
        except Exception:
            logger.exception("could not set the application's event filter")
        try:
            pushed = await db(provisioning.push_all)
            logger.info("pushed %d devices to Asterisk", pushed)
        except Exception:
            logger.exception("could not push the devices to Asterisk")
        try:
            await reconcile(self.services, asterisk_restarted=asterisk_restarted)
        except Exception:
            logger.exception("reconciliation failed")
        self._sweeper = self._background(sweep_forever(self.client, self.server_id), "voicemail-sweeper")
        if self.availability_poll > 0:
            self._availability = self._background(
                watch_availability(self.client, self.availability_poll), "availability"
            )
        self.connected.set()
        if self.ready_file:
            # Lets supervisors and tests know the application is connected and reconciled.
            with open(self.ready_file, "w") as handle:
                handle.write(str(self.startup_time))
        if asterisk_restarted:
            logger.warning("Asterisk restarted: calls it carried were lost and are closed")


def app_from_settings() -> StasisApp:
    from django.conf import settings

    config = AriConfig(
        base_url=settings.ARI_URL,
        username=settings.ARI_USERNAME,
        password=settings.ARI_PASSWORD,
        app=settings.ARI_APP,
        request_timeout=settings.ARI_REQUEST_TIMEOUT,
        rest_over_websocket=settings.ARI_REST_OVER_WEBSOCKET,
    )
    return StasisApp(
        config, server_id=settings.ASTERISK_SERVER_ID, reconnect_max_delay=settings.ARI_RECONNECT_MAX_DELAY
    )
