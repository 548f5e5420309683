"""The callee's devices as they are this instant, for routing: what the records cannot say yet."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

from telephony.routing import Callee, DeviceKind

from .client import AriClient


async def live_device_states(callee: Callee, *, client: AriClient, calls_here: Counter[int]) -> Callee:
    """The callee's phones as they are this instant: calls this bridge carries (`calls_here`; its
    records may lag), and whether each SIP phone that would ring after a delay is registered
    (Asterisk's endpoint state). A phone that rings at once is not asked about first: ringing it
    tells as much (an unregistered phone fails at once, and when every phone fails the plan's
    "unreachable" step follows), one request and one round trip sooner for every call. A delayed
    phone is asked, so that a call whose only phones are off goes on at once rather than after
    the delay."""
    sip = [d for d in callee.devices if d.enabled and d.kind == DeviceKind.SIP and d.ring_delay > 0]
    states = await asyncio.gather(*(client.endpoint_state(d.endpoint) for d in sip))
    offline = {d.device_id for d, state in zip(sip, states, strict=True) if state == "offline"}
    return dataclasses.replace(
        callee,
        devices=tuple(
            dataclasses.replace(
                d,
                active_calls=d.active_calls + calls_here.get(d.device_id, 0),
                reachable=d.device_id not in offline,
            )
            for d in callee.devices
        ),
    )
