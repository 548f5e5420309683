"""The Stasis application: connection to ARI, event routing to call sessions, reconnection, reconciliation.

The event pump only routes events to the queue of the session they belong to; it never awaits a
REST request. When the WebSocket drops (Asterisk or network restart), the bridge reconnects with
backoff, pushes every device to Asterisk again and reconciles its calls with the channels Asterisk
reports, so that no call stays stuck in Stasis and no record stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections import Counter
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import aiohttp
from channels.layers import get_channel_layer
from django.utils import timezone

from telephony import availability, events, provisioning, records
from telephony.choices import CallOutcome, CallState, LegRole
from telephony.listeners import ListenerSet
from voicemail import actions as vm_actions

from .calls import CallSession, LegStatus, State
from .client import AriClient, AriConfig, AriError, ConnectionLost, Json
from .directory import Directory
from .records import RecordBatcher, db

logger = logging.getLogger(__name__)


# Every event type the call state machine and the voicemail dialogs act on; Asterisk drops the rest
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


class Bridge:
    def __init__(self, config: AriConfig, *, server_id: str, reconnect_max_delay: float = 5.0) -> None:
        self.config = config
        self.app = config.app
        self.server_id = server_id
        self.client = AriClient(config)
        self.reconnect_max_delay = reconnect_max_delay
        self.sessions: dict[uuid.UUID, CallSession] = {}
        self.by_channel: dict[str, CallSession] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.startup_time: str | None = None
        self.connected = asyncio.Event()
        self._stopping = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.ready_file = os.environ.get("BRIDGE_READY_FILE", "")
        self._sweeper: asyncio.Task[None] | None = None
        self._availability: asyncio.Task[None] | None = None
        from django.conf import settings

        self.batcher = RecordBatcher(linger=settings.BRIDGE_RECORD_LINGER_MS / 1000)
        self.availability_poll = float(settings.BRIDGE_AVAILABILITY_POLL)
        self.directory = Directory(server_id=server_id, enabled=settings.BRIDGE_ROUTING_CACHE)
        # Live events go only to groups a browser listens to (telephony/listeners.py).
        self.listeners = ListenerSet(settings.REDIS_URL) if settings.BRIDGE_SKIP_UNLISTENED else None

    # --- session registry -----------------------------------------------------------------------------

    def watch(self, channel_id: str, session: CallSession) -> None:
        self.by_channel[channel_id] = session

    def forget(self, session: CallSession) -> None:
        self.sessions.pop(session.call_id, None)
        for channel_id in session.channel_ids:
            if self.by_channel.get(channel_id) is session:
                del self.by_channel[channel_id]

    def device_call_counts(self) -> Counter[int]:
        """How many calls each phone has on this bridge right now (placing one, ringing, or talking).

        The records say the same a moment later; routing must not wait for them."""
        counts: Counter[int] = Counter()
        for session in self.sessions.values():
            if session.state == State.ENDED:
                continue
            if session.caller.device_id is not None:
                counts[session.caller.device_id] += 1
            counts.update(
                {
                    leg.device_id
                    for leg in session.legs.values()
                    if leg.device_id is not None and leg.status != LegStatus.FAILED
                }
            )
        return counts

    def _spawn(self, session: CallSession, *, adopted: bool = False) -> None:
        self.sessions[session.call_id] = session
        for channel_id in session.channel_ids:
            self.watch(channel_id, session)
        self._background(session.run(adopted=adopted), f"call-{session.call_id}")

    def _background(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A task of the bridge's, kept until it ends (the event loop holds tasks weakly)."""
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # --- event pump -----------------------------------------------------------------------------------

    def dispatch(self, event: Json) -> None:
        """Route one event to its call; never blocks."""
        kind = event.get("type")
        if kind == "RESTResponse":
            self.client.resolve(event)
            return
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("event %s %s %s", kind, event.get("channel", {}).get("id"), event.get("args"))
        if kind == "StasisStart":
            args = event.get("args") or []
            channel = event["channel"]
            if args and args[0] == "inbound" and channel["id"] not in self.by_channel:
                dialled = args[1] if len(args) > 1 else channel.get("dialplan", {}).get("exten", "")
                self._spawn(CallSession(self, uuid.uuid4(), channel, dialled))
                return
            if args and args[0] == "carrier" and len(args) > 1 and channel["id"] not in self.by_channel:
                # From the PSTN trunk to one of our public numbers.
                self._spawn(CallSession(self, uuid.uuid4(), channel, args[1], from_carrier=True))
                return
            if args and args[0] == "clicktocall" and len(args) > 1 and channel["id"] not in self.by_channel:
                # The user answered their own phone: now place their call.
                self._spawn(CallSession(self, uuid.uuid4(), channel, args[1], originated=True))
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
        session = self.by_channel.get(channel_id)
        if session is not None:
            session.deliver(event)

    # --- connection loop ------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        if self._ws is not None:
            closing = asyncio.ensure_future(self._ws.close())
            self.tasks.add(closing)
            closing.add_done_callback(self.tasks.discard)

    def _install_publisher(self) -> None:
        """Live events leave from our event loop, fire-and-forget: a commit never waits on Redis."""
        layer = get_channel_layer()
        if layer is None:
            return
        loop = asyncio.get_running_loop()

        def publish_in_loop(group: str, message: dict[str, Any]) -> None:
            task = asyncio.ensure_future(layer.group_send(group, message))
            self.tasks.add(task)
            task.add_done_callback(self._publish_done)

        listeners = self.listeners

        def publish(group: str, message: dict[str, Any]) -> None:
            if listeners is not None and not listeners.wants(group):
                return  # no browser has this group open: nobody to tell
            loop.call_soon_threadsafe(publish_in_loop, group, message)

        events.set_publisher(publish)

    def _publish_done(self, task: asyncio.Future[Any]) -> None:
        self.tasks.discard(task)  # type: ignore[arg-type]
        if not task.cancelled() and task.exception() is not None:
            logger.warning("could not publish a live event: %s", task.exception())

    async def run(self) -> None:
        self._install_publisher()
        if self.listeners is not None:
            self.listeners.start()
        self.directory.start_listening()
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
            await self.client.close()
            await self.directory.close()
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
            reconcile = asyncio.create_task(self._on_connected(restarted))
            try:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self.dispatch(json.loads(message.data))
                    elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
            finally:
                self._ws = None
                self.client.detach()
                reconcile.cancel()
                if self._sweeper is not None:
                    self._sweeper.cancel()
                if self._availability is not None:
                    self._availability.cancel()
        if not self._stopping.is_set():
            raise ConnectionLost("ARI event WebSocket closed")

    async def _on_connected(self, asterisk_restarted: bool) -> None:
        try:
            await self.client.filter_events(EVENTS_USED)
            pushed = await db(provisioning.push_all)
            logger.info("pushed %d devices to Asterisk", pushed)
            await self.reconcile()
            self._sweeper = self._background(self._sweep_forever(), "voicemail-sweeper")
            if self.availability_poll > 0:
                self._availability = self._background(
                    self._watch_availability(self.availability_poll), "availability"
                )
            self.connected.set()
            if self.ready_file:
                # Lets supervisors and tests know the application is connected and reconciled.
                with open(self.ready_file, "w") as handle:
                    handle.write(str(self.startup_time))
            if asterisk_restarted:
                logger.warning("Asterisk restarted: calls it carried were lost and are closed")
        except Exception:
            logger.exception("reconnection work failed")

    # --- availability: whose phones can ring (the directory's "unavailable") ---------------------------

    async def _watch_availability(self, every: float) -> None:
        """Every `every` seconds, ask Asterisk which SIP phones are registered (one request for all);
        the users whose phones changed have their reachability told to their company's directories
        (telephony/availability.py). Polled rather than subscribed to: endpoint events would bring
        every channel event of every phone into the application's queue a second time."""
        known: dict[str, bool] = {}  # each endpoint seen: whether it could ring
        while True:
            try:
                endpoints = await self.client.request("GET", "/endpoints/PJSIP", timeout=5)
                online = availability.online_endpoints(endpoints or [])
                now = {str(e.get("resource")): str(e.get("resource")) in online for e in endpoints or []}
                # New phones (offline until they register), phones whose state changed, phones removed.
                changed = {name for name in now.keys() | known.keys() if now.get(name) != known.get(name)}
                known = now
                if changed:
                    await db(self._tell_availability, changed, online)
            except (AriError, ConnectionLost, TimeoutError, OSError) as exc:
                logger.info("could not check which phones are registered: %s", exc)
            except Exception:
                logger.exception("availability check failed")
            await asyncio.sleep(every)

    @staticmethod
    def _tell_availability(changed: set[str], online: set[str]) -> None:
        users = availability.users_of_endpoints(changed)
        unavailable = availability.unavailable_users(users, online)
        events.publish_reachability({user_id: user_id not in unavailable for user_id in users})

    # --- voicemail recordings ---------------------------------------------------------------------------

    async def collect_recording(self, name: str) -> bool:
        """Move a finished voicemail recording from Asterisk into our storage, then delete it there.

        Idempotent; False while Asterisk is still recording it. Asterisk keeps the file until our
        storage has it, so a failure here loses nothing: the sweeper tries again.
        """
        if await self.client.live_recording_exists(name):
            return False  # its file is on disk already, but unfinished
        audio = await self.client.stored_recording(name)
        if audio is None:
            await db(vm_actions.discard_message, recording_name=name)
            return True
        await db(vm_actions.store_message, recording_name=name, audio=audio)
        await self.client.delete_stored_recording(name)
        return True

    async def sweep_recordings(self) -> None:
        """Collect recordings left behind by a restart (ours or the caller's hang-up while we were away)."""
        started_before = timezone.now() - timedelta(seconds=10)
        for name in await db(
            vm_actions.recordings_in_progress, self.server_id, started_before=started_before
        ):
            try:
                await self.collect_recording(name)
            except Exception:
                logger.exception("could not collect voicemail recording %s; will retry", name)

    async def _sweep_forever(self, every: float = 15.0) -> None:
        while True:
            await self.sweep_recordings()
            await asyncio.sleep(every)

    # --- reconciliation -------------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Match open call records with what Asterisk really has: adopt live calls, close the rest."""
        channels = {c["id"]: c for c in await self.client.list_channels()}
        known: set[str] = set(self.by_channel)
        now = timezone.now()
        for call, legs in await db(records.active_calls, self.server_id):
            if call.id in self.sessions:
                continue
            caller_leg = next((leg for leg in legs if leg.role == LegRole.CALLER), None)
            answered = next((leg for leg in legs if leg.role == LegRole.CALLEE and leg.answered_at), None)
            if (
                call.state == CallState.ANSWERED
                and caller_leg
                and answered
                and caller_leg.channel_id in channels
                and answered.channel_id in channels
            ):
                session = CallSession.adopt(
                    self,
                    call_id=call.id,
                    caller=channels[caller_leg.channel_id],
                    callee_channel_id=answered.channel_id,
                    callee_endpoint=answered.endpoint,
                    bridge_id=call.bridge_id,
                )
                sources = [f"channel:{caller_leg.channel_id}", f"channel:{answered.channel_id}"]
                if call.bridge_id:
                    sources.append(f"bridge:{call.bridge_id}")
                await self.client.subscribe(sources)
                self._spawn(session, adopted=True)
                known.update(session.channel_ids)
                logger.info("adopted call %s after restart", call.id)
                # A hang-up that happened while we were away: check both are still there.
                still = {c["id"] for c in await self.client.list_channels()}
                for cid in session.channel_ids:
                    if cid not in still:
                        session.deliver({"type": "ChannelDestroyed", "channel": {"id": cid}, "cause": 16})
                continue
            for leg in legs:
                if leg.channel_id in channels:
                    await self.client.hangup(leg.channel_id)
            outcome = CallOutcome.ANSWERED if call.answered_at else CallOutcome.FAILED
            await db(
                records.end_call, call.id, outcome=outcome, at=now, reason="" if call.answered_at else "lost"
            )
            logger.info("closed call %s that did not survive", call.id)
        # Channels still in our application that no live call owns would wait in silence forever.
        for channel_id, channel in channels.items():
            if channel_id in known or channel_id in self.by_channel:
                continue
            dialplan = channel.get("dialplan", {})
            ours = channel_id.startswith(f"{self.app}-") or (
                dialplan.get("app_name") == "Stasis"
                and str(dialplan.get("app_data", "")).startswith(self.app)
            )
            if ours:
                logger.info("hanging up orphan channel %s", channel_id)
                await self.client.hangup(channel_id)


def bridge_from_settings() -> Bridge:
    from django.conf import settings

    config = AriConfig(
        base_url=settings.ARI_URL,
        username=settings.ARI_USERNAME,
        password=settings.ARI_PASSWORD,
        app=settings.ARI_APP,
        request_timeout=settings.ARI_REQUEST_TIMEOUT,
        rest_over_websocket=settings.ARI_REST_OVER_WEBSOCKET,
    )
    return Bridge(
        config, server_id=settings.ASTERISK_SERVER_ID, reconnect_max_delay=settings.ARI_RECONNECT_MAX_DELAY
    )
