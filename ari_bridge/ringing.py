"""Ringing: one attempt at reaching a callee's devices, as a `RingDevices` plan says.

Each device rings after its delay; a remote terminal that answers must press a key first (A7); the
first device to answer takes the call. The attempt ends with an outcome (answered by this leg, busy,
unreachable, no answer) that its owner acts on: a call connects or follows its plan, and later a
blind transfer, a queue, an intercom or a pickup rings the same way.

It runs inside its owner's task, on its owner's event queue: the owner hands it the events of its
legs and its timers (tagged with its generation, so that a later attempt ignores an earlier one's),
and reads `outcome` after each.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils import timezone

from telephony import records
from telephony.choices import CallOutcome, LegRole
from telephony.contract import Dialled
from telephony.routing import RingDevices, RingTarget

from .client import AriClient, AriError, Json, event_time
from .participants import Leg
from .recorder import CallRecorder
from .state import LegStatus, hangup_cause

logger = logging.getLogger(__name__)

FAILED_DIALSTATUS = {"BUSY", "CONGESTION", "CHANUNAVAIL", "NOANSWER", "CANCEL", "INVALIDARGS"}
UNREACHABLE_DIALSTATUS = {"CHANUNAVAIL", "CONGESTION"}
HANGUP_EVENTS = {"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"}
TIMER_EVENTS = {"_dial", "_ring_timeout", "_confirm_timeout"}


class RingOutcome(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    UNREACHABLE = "unreachable"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class RingResult:
    outcome: RingOutcome
    # The leg that answered, and the other legs still up, which its owner releases.
    leg: Leg | None = None
    others: tuple[Leg, ...] = ()
    # When the leg answered, as Asterisk says (None: now).
    at: datetime | None = None


class Ringing:
    def __init__(
        self,
        plan: RingDevices,
        *,
        generation: int,
        call_id: uuid.UUID,
        caller_channel_id: str,
        client: AriClient,
        app: str,
        watch: Callable[[str], None],
        recorder: CallRecorder,
        later: Callable[[float, Json], None],
    ) -> None:
        self.plan = plan
        self.generation = generation
        self.call_id = call_id
        self.caller_channel_id = caller_channel_id
        self.client = client
        self.app = app
        self.watch = watch
        self.recorder = recorder
        self.later = later
        self.legs: dict[str, Leg] = {}
        self.pending: set[int] = set(range(len(plan.targets)))
        # True until the attempt has an outcome or is stopped; legs answering after that are released.
        self.active = True
        self.outcome: RingResult | None = None

    # --- starting -----------------------------------------------------------------------------------

    async def start(self, *with_first: Awaitable[Any]) -> None:
        """Ring the devices without a delay at once (together with `with_first`, the caller's ringback:
        set-up time is on the caller's ear), and the others when their delay is up."""
        await asyncio.gather(
            *with_first, *(self.dial_target(i) for i, t in enumerate(self.plan.targets) if t.delay == 0)
        )
        if not self.active:
            return  # every device failed at once: the outcome is known
        # Delays count from the moment the first phones were rung, so a phone with a 3 s delay never
        # starts ringing less than 3 s after them.
        for index, target in enumerate(self.plan.targets):
            if target.delay > 0:
                self.later(target.delay, {"type": "_dial", "index": index, "generation": self.generation})
        self.later(self.plan.timeout, {"type": "_ring_timeout", "generation": self.generation})

    def channel_id_for(self, index: int) -> str:
        suffix = str(index) if self.generation == 1 else f"{self.generation}.{index}"
        return f"{self.app}-{self.call_id}-{suffix}"

    def presented_identity(self, target: RingTarget) -> tuple[str, str]:
        """The caller's number and name `target` is shown: its own (a remote terminal), or the plan's."""
        if target.caller_id_number:
            return target.caller_id_number, target.caller_id_name
        return self.plan.caller_id_number, self.plan.caller_id_name

    async def dial_target(self, index: int) -> None:
        self.pending.discard(index)
        if not self.active:
            return
        target = self.plan.targets[index]
        channel_id = self.channel_id_for(index)
        leg = Leg(
            channel_id=channel_id,
            role=LegRole.CALLEE,
            endpoint=target.endpoint,
            device_id=target.device_id,
            generation=self.generation,
            confirm=target.confirm,
            outside=bool(target.number),
        )
        self.legs[channel_id] = leg
        # Register before asking: Asterisk sends the channel's first events before its HTTP reply.
        self.watch(channel_id)
        self.recorder.submit(
            records.add_callee_leg,
            self.call_id,
            device_id=target.device_id,
            channel_id=channel_id,
            endpoint=f"{target.number}@{target.endpoint}" if target.number else target.endpoint,
            at=timezone.now(),
        )
        number, name = self.presented_identity(target)
        variables = {"CALLERID(num)": number, "CALLERID(name)": name}
        if target.number:
            # Outside, the carrier sees the connected line Asterisk sends (From). Inside, Dial copies
            # the caller's (setting it here would re-INVITE the phone after answer).
            variables.update({"CONNECTEDLINE(num)": number, "CONNECTEDLINE(name)": name})
            if number == "anonymous":
                variables["CALLERID(pres)"] = "prohib"
                variables["CONNECTEDLINE(pres)"] = "prohib"
        # An outside number (a dialled one, a forward, a remote terminal) goes out through the trunk.
        endpoint = f"PJSIP/{target.number}@{target.endpoint}" if target.number else f"PJSIP/{target.endpoint}"
        try:
            await self.client.create_channel(
                endpoint=endpoint,
                channel_id=channel_id,
                app_args=Dialled(self.call_id).args(),
                originator=self.caller_channel_id,
                variables=variables,
            )
        except AriError as exc:
            logger.info("call %s: could not create a channel to %s: %s", self.call_id, endpoint, exc)
            await self.leg_failed(leg, "CHANUNAVAIL")
            return
        leg.created = True
        await self._dial_when_ready(leg)

    async def _dial_when_ready(self, leg: Leg) -> None:
        if not (leg.created and leg.in_stasis) or leg.dial_sent or leg.status != LegStatus.DIALING:
            return
        leg.dial_sent = True
        try:
            # Inside, Dial copies the caller channel's identity (set to what the plan shows) and the
            # phones get no re-INVITE after answer. Outside, the identity presented is the plan's own
            # (the number shown outside, or anonymity), so nothing is copied.
            caller = "" if leg.outside else self.caller_channel_id
            await self.client.dial(leg.channel_id, caller=caller, timeout=self.plan.timeout + 5)
        except AriError as exc:
            logger.info("call %s: could not ring %s: %s", self.call_id, leg.endpoint, exc)
            await self.client.hangup(leg.channel_id)
            await self.leg_failed(leg, "CHANUNAVAIL")

    # --- events ------------------------------------------------------------------------------------

    def owns(self, event: Json) -> bool:
        """Whether `event` is for this attempt: one of its timers or one of its legs."""
        kind = event["type"]
        if kind in TIMER_EVENTS:
            return bool(event.get("generation") == self.generation)
        return self.leg_of(event) is not None

    def leg_of(self, event: Json) -> Leg | None:
        if event["type"] == "Dial":
            return self.legs.get(event.get("peer", {}).get("id", ""))
        return self.legs.get(event.get("channel", {}).get("id", ""))

    async def handle(self, event: Json) -> None:
        kind = event["type"]
        if kind == "_dial":
            await self.dial_target(event["index"])
            return
        if kind == "_ring_timeout":
            if self.active:
                await self.stop(reason="no_answer")
                self.outcome = RingResult(RingOutcome.NO_ANSWER)
            return
        if kind == "_confirm_timeout":
            leg = self.legs.get(event["channel_id"])
            if leg is not None and leg.status == LegStatus.CONFIRMING:
                # Nobody pressed a key: a mobile's own voicemail answered, not its owner.
                await self.client.hangup(leg.channel_id)
                await self.leg_failed(leg, "NOANSWER")
            return
        leg = self.leg_of(event)
        if leg is None:
            return
        at = event_time(event)
        if kind == "ChannelDtmfReceived":
            if leg.status == LegStatus.CONFIRMING:
                await self.client.stop_playback(f"confirm-{leg.channel_id}")
                await self.on_answer(leg, confirmed=True, at=at)
        elif kind == "StasisStart":
            leg.in_stasis = True
            await self._dial_when_ready(leg)
        elif kind == "Dial":
            await self.on_dial_status(leg, event.get("dialstatus", ""), at=at)
        elif kind == "ChannelStateChange":
            if event["channel"].get("state") == "Up":
                await self.on_answer(leg, at=at)
        elif kind in HANGUP_EVENTS and leg.status not in (LegStatus.FAILED, LegStatus.ANSWERED):
            cause = hangup_cause(event)
            await self.leg_failed(leg, "BUSY" if cause == 17 else "CHANUNAVAIL", at=at)

    async def on_dial_status(self, leg: Leg, status: str, *, at: datetime | None = None) -> None:
        leg.dialstatus = status or leg.dialstatus
        if status == "RINGING" and leg.status == LegStatus.DIALING:
            leg.status = LegStatus.RINGING
            if self.active:
                self.recorder.submit(records.mark_ringing, self.call_id, at=at or timezone.now())
        elif status == "ANSWER":
            await self.on_answer(leg, at=at)
        elif status in FAILED_DIALSTATUS:
            await self.leg_failed(leg, status, at=at)

    async def on_answer(self, leg: Leg, *, confirmed: bool = False, at: datetime | None = None) -> None:
        if leg.status == LegStatus.ANSWERED or (leg.status == LegStatus.CONFIRMING and not confirmed):
            return
        if not self.active or leg.status == LegStatus.FAILED:
            # Answered a moment too late: another device took the call, or the caller left.
            leg.status = LegStatus.FAILED
            await self.client.hangup(leg.channel_id, reason="answered_elsewhere")
            return
        if leg.confirm and not confirmed:
            # A remote terminal answered: it may be its own voicemail. Connect only on a key press (A7).
            leg.status = LegStatus.CONFIRMING
            await self.client.play(
                leg.channel_id, ["sound:istra/remote-confirm"] * 3, playback_id=f"confirm-{leg.channel_id}"
            )
            self.later(
                settings.REMOTE_CONFIRM_TIMEOUT,
                {"type": "_confirm_timeout", "channel_id": leg.channel_id, "generation": self.generation},
            )
            return
        leg.status = LegStatus.ANSWERED
        self.active = False
        self.pending.clear()
        others = tuple(o for o in self.legs.values() if o is not leg and o.status != LegStatus.FAILED)
        for other in others:
            other.status = LegStatus.FAILED
        self.outcome = RingResult(RingOutcome.ANSWERED, leg=leg, others=others, at=at)

    async def leg_failed(self, leg: Leg, status: str, *, at: datetime | None = None) -> None:
        if leg.status in (LegStatus.FAILED, LegStatus.ANSWERED):
            return
        leg.status = LegStatus.FAILED
        leg.dialstatus = status
        outcome = CallOutcome.BUSY if status == "BUSY" else CallOutcome.NO_ANSWER
        self.recorder.submit(records.end_leg, leg.channel_id, at=at or timezone.now(), outcome=outcome)
        if not self.active or self.pending:
            return
        legs = list(self.legs.values())
        if all(other.status == LegStatus.FAILED for other in legs):
            self.active = False
            if any(other.dialstatus == "BUSY" for other in legs):
                self.outcome = RingResult(RingOutcome.BUSY)
            elif legs and all(other.dialstatus in UNREACHABLE_DIALSTATUS for other in legs):
                self.outcome = RingResult(RingOutcome.UNREACHABLE)
            else:
                self.outcome = RingResult(RingOutcome.NO_ANSWER)

    # --- ending ------------------------------------------------------------------------------------

    def live_legs(self) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.status != LegStatus.FAILED]

    async def stop(self, *, reason: str) -> None:
        """End the attempt: hang up every leg still ringing (or confirming)."""
        self.active = False
        self.pending.clear()
        live = [leg for leg in self.live_legs() if leg.status != LegStatus.ANSWERED]
        for leg in live:
            leg.status = LegStatus.FAILED
        await asyncio.gather(
            *(self.client.hangup(leg.channel_id, reason=reason) for leg in live), return_exceptions=True
        )
