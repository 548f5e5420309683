"""Dialogs: prompts and keys on one channel, read from the call's event queue until they are done.

A dialog (leaving a message, the voicemail menu, a dial code's confirmation, later an IVR) gets a
`DialogChannel`: the channel, the client, the event queue and who is calling, never the whole call.
It runs inside the call's task; the caller hanging up raises CallerGone out of any wait.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from ..client import AriClient, Json
from ..participants import CallerIdentity

logger = logging.getLogger(__name__)

HANGUP_EVENTS = {"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"}
KEY_TIMEOUT = 10.0


class CallerGone(Exception):
    pass


@dataclass(frozen=True)
class DialogChannel:
    """What a dialog may use of its call."""

    channel_id: str
    client: AriClient
    events: asyncio.Queue[Json]
    caller: CallerIdentity


def prompt(name: str) -> str:
    return f"sound:istra/{name}"


class Dialog:
    """Prompts and keys on one channel, read from the call's own event queue."""

    def __init__(self, channel: DialogChannel) -> None:
        self.channel = channel
        self.client = channel.client
        self.channel_id = channel.channel_id
        self.digits: list[str] = []
        self.gone = False

    async def next_event(self, timeout: float | None) -> Json | None:
        try:
            event = await asyncio.wait_for(self.channel.events.get(), timeout)
        except TimeoutError:
            return None
        kind = event["type"]
        if kind == "ChannelDtmfReceived":
            self.digits.append(event["digit"])
        elif (
            kind in HANGUP_EVENTS and event.get("channel", {}).get("id") == self.channel_id and not self.gone
        ):
            self.gone = True
            raise CallerGone
        return event

    async def play(self, media: list[str], *, interruptible: bool = True) -> bool:
        """Play prompts to the end, or until a key is pressed (the key stays for the next collect).

        False when Asterisk could not play them (a missing file, storage unreachable)."""
        if interruptible and self.digits:
            return True
        playback_id = uuid.uuid4().hex
        await self.client.play(self.channel_id, media, playback_id=playback_id)
        while True:
            event = await self.next_event(None)
            assert event is not None
            kind = event["type"]
            if kind in ("PlaybackFinished", "PlaybackFailed") and event["playback"]["id"] == playback_id:
                if kind == "PlaybackFailed" or event["playback"].get("state") == "failed":
                    logger.warning("could not play %s", media)
                    return False
                return True
            if interruptible and kind == "ChannelDtmfReceived":
                await self.client.stop_playback(playback_id)
                return True

    async def collect(self, *, max_digits: int, timeout: float = KEY_TIMEOUT, terminator: str = "#") -> str:
        """Digits until the terminator, `max_digits`, or `timeout` seconds without a key."""
        typed = ""
        while True:
            while self.digits:
                digit = self.digits.pop(0)
                if digit == terminator:
                    return typed
                typed += digit
                if len(typed) >= max_digits:
                    return typed
            if await self.next_event(timeout) is None:
                return typed

    async def key(self, allowed: str, timeout: float = KEY_TIMEOUT) -> str | None:
        """One key among `allowed` (others are ignored), or None after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self.digits:
                digit = self.digits.pop(0)
                if digit in allowed:
                    return digit
            left = deadline - loop.time()
            if left <= 0 or await self.next_event(left) is None:
                return None

    async def hangup(self) -> None:
        if not self.gone:
            await self.client.hangup(self.channel_id)
