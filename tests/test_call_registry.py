"""The bridge's registry of live calls: lookups, device counts, and messages between calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from ari_bridge.client import Json
from ari_bridge.registry import CallRegistry


@dataclass
class FakeCall:
    channels: list[str]
    devices: list[int] = field(default_factory=list)
    users: set[int] = field(default_factory=set)
    call_id: uuid.UUID = field(default_factory=uuid.uuid4)
    ended: bool = False
    inbox: list[Json] = field(default_factory=list)

    def deliver(self, event: Json) -> None:
        self.inbox.append(event)

    def channel_ids(self) -> Iterable[str]:
        return self.channels

    def device_ids(self) -> Iterable[int]:
        return self.devices

    def user_ids(self) -> Iterable[int]:
        return self.users


def test_a_call_is_found_by_its_id_and_by_each_of_its_channels() -> None:
    registry = CallRegistry()
    call = FakeCall(["a", "b"])
    registry.add(call)
    assert registry.get(call.call_id) is call
    assert registry.of_channel("a") is call and registry.of_channel("b") is call
    registry.watch("c", call)
    assert registry.of_channel("c") is call and registry.channels() == {"a", "b", "c"}


def test_a_forgotten_call_keeps_nothing_but_the_channels_it_handed_on() -> None:
    registry = CallRegistry()
    first = FakeCall(["caller"])
    registry.add(first)
    second = FakeCall(["caller"])  # a call-back: the same leg, a new call
    registry.add(second)
    registry.forget(first)
    assert registry.get(first.call_id) is None
    assert registry.of_channel("caller") is second and len(registry) == 1


def test_device_counts_add_up_every_live_call_of_each_phone() -> None:
    registry = CallRegistry()
    registry.add(FakeCall(["a"], devices=[1, 2]))
    registry.add(FakeCall(["b"], devices=[2]))
    registry.add(FakeCall(["c"], devices=[3], ended=True))
    assert dict(registry.device_call_counts()) == {1: 1, 2: 2}


def test_the_calls_of_a_user_are_those_they_take_part_in_and_still_live() -> None:
    registry = CallRegistry()
    mine, theirs, over = FakeCall(["a"], users={11}), FakeCall(["b"], users={12}), FakeCall(["c"], users={11})
    over.ended = True
    for call in (mine, theirs, over):
        registry.add(call)
    assert registry.of_user(11) == [mine]


def test_a_message_posted_to_another_call_reaches_its_queue_and_none_reaches_an_ended_one() -> None:
    registry = CallRegistry()
    target = FakeCall(["a"])
    registry.add(target)
    assert registry.post(target.call_id, {"type": "_hangup"})
    assert target.inbox == [{"type": "_hangup"}]
    target.ended = True
    assert not registry.post(target.call_id, {"type": "_hangup"})
    assert not registry.post(uuid.uuid4(), {"type": "_hangup"})
