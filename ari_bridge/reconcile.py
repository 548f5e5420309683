"""Reconciliation: after a (re)connection, match open call records with what Asterisk really has.

A call Asterisk still carries, connected, is adopted: rebuilt from its record (who called, who
answered, its mixer) and from Asterisk's channels and bridges, then followed until it ends. Any
other open record is closed, its channels hung up. Channels of ours that no call owns are hung up
too: they would wait in silence forever.

Calls are reconciled concurrently, a bounded number at once, and each on its own: a call that ends
while we look at it (its channel gone before we subscribe: 404, 422 "Event source does not exist")
is that call's end, not the reconciliation's.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Iterable
from typing import Any

from django.utils import timezone

from telephony import records
from telephony.choices import CallOutcome, CallState, LegRole
from telephony.models import Call as CallRecord
from telephony.models import CallLeg

from .call import Call, CallServices
from .client import AriError, Json
from .orm import db
from .participants import Leg, Mixer
from .state import ASTERISK_RESTART, LegStatus

logger = logging.getLogger(__name__)

# Calls adopted or closed at once: enough to take 2,000 calls in seconds, few enough that Asterisk
# answers each request promptly.
CONCURRENCY = 32


async def bounded(works: Iterable[Awaitable[None]], limit: int | None = None) -> None:
    """Await `works`, at most `limit` (CONCURRENCY) at a time."""
    semaphore = asyncio.Semaphore(limit or CONCURRENCY)

    async def one(work: Awaitable[None]) -> None:
        async with semaphore:
            await work

    await asyncio.gather(*(one(work) for work in works))


async def reconcile(services: CallServices, *, asterisk_restarted: bool = False) -> None:
    """Adopt the live calls, close the others' records, hang up the orphan channels."""
    client = services.client
    registry = services.registry
    # The calls this process still follows (an ARI reconnect, not our restart), and their channels,
    # as they were before the channel list: calls and channels started since are not in doubt.
    followed = [(live, list(live.channel_ids())) for live in registry]
    channels: dict[str, Json] = {c["id"]: c for c in await client.list_channels()}
    bridges: dict[str, Json] = {b["id"]: b for b in await client.list_bridges()}
    # Channels that went away while we were not listening: their calls hear it now, as their
    # hang-up events would have told them.
    for live, channel_ids in followed:
        for channel_id in channel_ids:
            if channel_id not in channels:
                live.deliver(gone_event(channel_id, ASTERISK_RESTART if asterisk_restarted else ""))
    active = await db(records.active_calls, services.server_id)
    await bounded(
        _alone(
            record.id,
            reconcile_call(services, record, legs, channels, bridges, asterisk_restarted=asterisk_restarted),
        )
        for record, legs in active
        if record.id not in registry
    )
    known = registry.channels()
    orphans = [cid for cid, channel in channels.items() if cid not in known and _ours(services.app, channel)]
    await bounded(_hang_up_orphan(services, cid) for cid in orphans)


def gone_event(channel_id: str, reason: str = "") -> Json:
    """What a call hears of a channel that went while we were not listening."""
    return {"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause": 16, "_reason": reason}


def _ours(app: str, channel: Json) -> bool:
    dialplan = channel.get("dialplan", {})
    return str(channel.get("id", "")).startswith(f"{app}-") or (
        dialplan.get("app_name") == "Stasis" and str(dialplan.get("app_data", "")).startswith(app)
    )


async def _hang_up_orphan(services: CallServices, channel_id: str) -> None:
    logger.info("hanging up orphan channel %s", channel_id)
    try:
        await services.client.hangup(channel_id)
    except AriError as exc:
        logger.info("could not hang up orphan channel %s: %s", channel_id, exc)


async def _alone(call_id: uuid.UUID, work: Awaitable[None]) -> None:
    try:
        await work
    except Exception:
        # This call's failure alone: the others are still adopted or closed.
        logger.exception("could not reconcile call %s", call_id)


async def reconcile_call(
    services: CallServices,
    record: CallRecord,
    legs: list[CallLeg],
    channels: dict[str, Json],
    bridges: dict[str, Json],
    *,
    asterisk_restarted: bool = False,
) -> None:
    callees = [leg for leg in legs if leg.role == LegRole.CALLEE]
    answered = [leg for leg in callees if leg.answered_at and leg.channel_id in channels]
    mixer = bridges.get(record.bridge_id) if record.bridge_id else None
    caller_id = _caller_channel(legs, mixer, {leg.channel_id for leg in callees})
    if record.state == CallState.ANSWERED and caller_id in channels and answered:
        await adopt(services, record.id, channels[caller_id], answered, mixer)
        return
    live = [leg.channel_id for leg in legs if leg.channel_id in channels]
    results = await asyncio.gather(*(services.client.hangup(cid) for cid in live), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            logger.info("call %s: could not hang up a channel: %s", record.id, result)
    outcome = CallOutcome.ANSWERED if record.answered_at else CallOutcome.FAILED
    # Asterisk's restart cut every call it carried; otherwise an unanswered call was lost with us.
    reason = ASTERISK_RESTART if asterisk_restarted else ("" if record.answered_at else "lost")
    await db(records.end_call, record.id, outcome=outcome, at=timezone.now(), reason=reason)
    logger.info("closed call %s that did not survive", record.id)


def _caller_channel(legs: list[CallLeg], mixer: Json | None, callee_ids: set[str]) -> str:
    """The caller's channel: its leg's, or, for a call-back (its record has no caller leg: the channel
    is the earlier call's), the one in the call's mixer that is not a callee's."""
    caller = next((leg for leg in legs if leg.role == LegRole.CALLER), None)
    if caller is not None:
        return caller.channel_id
    others = [cid for cid in (mixer or {}).get("channels", []) if cid not in callee_ids]
    return str(others[0]) if others else ""


async def adopt(
    services: CallServices,
    call_id: uuid.UUID,
    caller: Json,
    answered: list[CallLeg],
    mixer: Json | None,
) -> None:
    """Follow a connected call found on Asterisk after our restart until it ends."""
    legs = [
        Leg(
            channel_id=leg.channel_id,
            role=LegRole.CALLEE,
            endpoint=leg.endpoint,
            device_id=leg.device_id,
            status=LegStatus.ANSWERED,
        )
        for leg in answered
    ]
    mixers = [Mixer(mixer["id"], set(mixer.get("channels", [])))] if mixer else []
    call = Call.adopt(services, call_id=call_id, caller=caller, answered=legs, mixers=mixers)
    # Registered first: from now on its channels' events reach it.
    services.spawn(call)
    sources = [f"channel:{cid}" for cid in call.channel_ids()] + [f"bridge:{m.bridge_id}" for m in mixers]
    try:
        await services.client.subscribe(sources)
    except AriError as exc:
        if exc.status not in (404, 422):
            raise
        # Something of it ended between the channel list and now: tell the call what is gone.
        for channel_id in await _missing(services, call.channel_ids()):
            call.deliver(gone_event(channel_id))
    logger.info("adopted call %s after restart", call_id)


async def _missing(services: CallServices, channel_ids: list[str]) -> list[str]:
    async def exists(channel_id: str) -> bool:
        try:
            await services.client.request("GET", f"/channels/{channel_id}")
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    found: list[Any] = await asyncio.gather(*(exists(cid) for cid in channel_ids))
    return [cid for cid, there in zip(channel_ids, found, strict=True) if not there]
