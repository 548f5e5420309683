"""The ARI floor: the least a Stasis application must ask of Asterisk to connect one call.

`python -m bench.floor` is a bench-only Stasis application with none of the platform: no database,
no routing, no records, no live events. For each call that enters it (dialplan context
`bench-floor`) it makes exactly the ARI requests the platform's bridge makes for a plain internal
call, with the same client (`ari_bridge.client`, requests over the event WebSocket) and an event
filter of the call events it acts on (the bridge's list less its voicemail dialogs' DTMF, playback
and recording events, which a plain call does not produce): ring the caller, create the callee's
channel, dial it, and when it answers create a mixing bridge, answer the caller and put both in;
when one side hangs up, hang up the other and destroy the bridge. Eight requests a call.

Measured in the same run as the platform (path `floor`), it tells how much of the Stasis path's
cost is Asterisk's own ARI work, which no change to the platform's bridge can remove.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
from pathlib import Path

import aiohttp

from ari_bridge.client import AriClient, AriConfig, AriError, Json

logger = logging.getLogger("bench.floor")

EVENTS = [
    "StasisStart",
    "StasisEnd",
    "ChannelStateChange",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "Dial",
    "RESTResponse",
]
GONE = ("StasisEnd", "ChannelHangupRequest", "ChannelDestroyed")
FAILED = ("BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION")


class FloorCall:
    """One call: the caller's channel, the callee's, and the bridge between them."""

    def __init__(self, app: FloorApp, caller_id: str, number: str) -> None:
        self.app = app
        self.client = app.client
        self.caller_id = caller_id
        self.number = number
        self.callee_id = f"{caller_id}-callee"
        self.bridge_id = ""
        self.queue: asyncio.Queue[Json] = asyncio.Queue()
        self.ended = False

    async def run(self) -> None:
        try:
            await asyncio.gather(
                self.client.ring(self.caller_id),
                self.client.create_channel(
                    endpoint=f"PJSIP/{self.number}",
                    channel_id=self.callee_id,
                    app_args="callee",
                    originator=self.caller_id,
                ),
            )
            while not self.ended:
                await self.handle(await self.queue.get())
        except AriError as exc:
            logger.info("call %s: %s", self.caller_id, exc)
            await self.end()
        finally:
            self.app.forget(self)

    async def handle(self, event: Json) -> None:
        kind = event["type"]
        channel = event.get("channel", {}).get("id", "")
        if kind == "StasisStart" and channel == self.callee_id:
            await self.client.dial(self.callee_id, caller=self.caller_id, timeout=15)
        elif kind == "ChannelStateChange" and channel == self.callee_id and not self.bridge_id:
            if event["channel"].get("state") == "Up":
                self.bridge_id = f"floor-{self.caller_id}"
                await asyncio.gather(
                    self.client.create_bridge(self.bridge_id), self.client.answer(self.caller_id)
                )
                await self.client.add_to_bridge(self.bridge_id, [self.caller_id, self.callee_id])
        elif kind in GONE or (
            kind == "Dial" and event.get("dialstatus") in ("BUSY", "NOANSWER", "CHANUNAVAIL")
        ):
            await self.end(gone=channel)

    async def end(self, gone: str = "") -> None:
        if self.ended:
            return
        self.ended = True
        others = [cid for cid in (self.caller_id, self.callee_id) if cid != gone]
        await asyncio.gather(*(self.client.hangup(cid) for cid in others), return_exceptions=True)
        if self.bridge_id:
            with contextlib.suppress(AriError):
                await self.client.destroy_bridge(self.bridge_id)


class FloorApp:
    def __init__(self, config: AriConfig) -> None:
        self.client = AriClient(config)
        self.calls: dict[str, FloorCall] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def forget(self, call: FloorCall) -> None:
        self.calls.pop(call.caller_id, None)
        self.calls.pop(call.callee_id, None)

    def dispatch(self, event: Json) -> None:
        if event.get("type") == "RESTResponse":
            self.client.resolve(event)
            return
        channel = event.get("channel", {})
        call = self.calls.get(channel.get("id", ""))
        if call is not None:
            call.queue.put_nowait(event)
        elif event.get("type") == "StasisStart" and event.get("args", [""])[0] != "callee":
            call = FloorCall(self, channel["id"], event["args"][0])
            self.calls[call.caller_id] = self.calls[call.callee_id] = call
            task = asyncio.create_task(call.run())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def run(self, ready_file: Path | None, stop: asyncio.Event) -> None:
        async with self.client, self.client.connect_events() as ws:
            self.client.attach(ws)
            reader = asyncio.create_task(self._read(ws))
            await self.client.filter_events(EVENTS)
            if ready_file is not None:
                ready_file.write_text("ready\n")
            await asyncio.wait([reader, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
            reader.cancel()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.dispatch(json.loads(message.data))
            elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument(
        "--url", default=os.environ.get("ARI_URL", "http://127.0.0.1:8088"), help="ARI base URL"
    )
    parser.add_argument("--app", required=True, help="the Stasis application's name")
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    # Credentials from the environment (ARI_USERNAME, ARI_PASSWORD), as the platform's bridge takes them.
    config = AriConfig(
        base_url=args.url,
        username=os.environ.get("ARI_USERNAME", "istra"),
        password=os.environ["ARI_PASSWORD"],
        app=args.app,
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await FloorApp(config).run(args.ready_file, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
