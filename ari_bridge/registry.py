"""The live calls of this bridge: by call, by channel, by user, and the phones they occupy.

Each call is an actor reading its own queue (call.py); the registry only finds it. One call never
touches another call's fields: a cross-call operation (pickup, barge-in, attended transfer, park
retrieve) posts a message to the other call's queue (`post`), and that call acts on it in order with
its own events.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Protocol

from .client import Json


class LiveCall(Protocol):
    """What the registry needs of a call (ari_bridge.call.Call)."""

    @property
    def call_id(self) -> uuid.UUID: ...

    @property
    def ended(self) -> bool: ...

    def deliver(self, event: Json) -> None: ...

    def channel_ids(self) -> Iterable[str]: ...

    def device_ids(self) -> Iterable[int]: ...

    def user_ids(self) -> Iterable[int]: ...


class CallRegistry:
    def __init__(self) -> None:
        self._by_call: dict[uuid.UUID, LiveCall] = {}
        self._by_channel: dict[str, LiveCall] = {}

    def __len__(self) -> int:
        return len(self._by_call)

    def __iter__(self) -> Iterator[LiveCall]:
        return iter(list(self._by_call.values()))

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._by_call

    def add(self, call: LiveCall) -> None:
        """A new call, and every channel it has so far (a channel moves to its newest call)."""
        self._by_call[call.call_id] = call
        for channel_id in call.channel_ids():
            self._by_channel[channel_id] = call

    def watch(self, channel_id: str, call: LiveCall) -> None:
        """The events of `channel_id` go to `call` from now on (register before creating a channel:
        Asterisk sends its first events before its HTTP reply)."""
        self._by_channel[channel_id] = call

    def forget(self, call: LiveCall) -> None:
        """The call is over: drop it, and the channels still pointing at it (not those handed on)."""
        if self._by_call.get(call.call_id) is call:
            del self._by_call[call.call_id]
        for channel_id in call.channel_ids():
            if self._by_channel.get(channel_id) is call:
                del self._by_channel[channel_id]

    def get(self, call_id: uuid.UUID) -> LiveCall | None:
        return self._by_call.get(call_id)

    def of_channel(self, channel_id: str) -> LiveCall | None:
        return self._by_channel.get(channel_id)

    def knows_channel(self, channel_id: str) -> bool:
        return channel_id in self._by_channel

    def channels(self) -> set[str]:
        return set(self._by_channel)

    def of_user(self, user_id: int) -> list[LiveCall]:
        """The live calls `user_id` takes part in (placing, ringing or talking)."""
        return [call for call in self._by_call.values() if not call.ended and user_id in call.user_ids()]

    def post(self, call_id: uuid.UUID, message: Json) -> bool:
        """Hand `message` to another call, to act on in its own order; False if it is gone."""
        call = self._by_call.get(call_id)
        if call is None or call.ended:
            return False
        call.deliver(message)
        return True

    def device_call_counts(self) -> Counter[int]:
        """How many calls each phone has on this bridge right now (placing one, ringing, or talking).

        The records say the same a moment later; routing must not wait for them."""
        counts: Counter[int] = Counter()
        for call in self._by_call.values():
            if not call.ended:
                counts.update(call.device_ids())
        return counts
