"""The call state machine: one CallSession per call, one asyncio task reading its own events in order.

A session starts when a caller's channel enters Stasis. It asks telephony.routing for a plan and
executes it: ring devices after their delays, connect the first that answers, or end the call with
an announcement and the SIP status the plan names. Record writes go through a RecordWriter so the
call never waits on the database.

States: ROUTING -> RINGING -> CONNECTED -> ENDED, or ROUTING/RINGING -> ENDED (rejected, cancelled,
no answer). Hold, transfers, conferences, pickup and park are further states and legs of the same
session: a session owns any number of legs and at most one bridge.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from telephony import clock, features, fraud, records
from telephony.choices import CallOutcome, LegRole
from telephony.records import NewCall
from telephony.routing import (
    ApplyDialCode,
    Callee,
    CallFacts,
    DeviceKind,
    Forward,
    Next,
    Origin,
    Party,
    Plan,
    Policy,
    Reject,
    RejectReason,
    RingDevices,
    Voicemail,
    VoicemailMenu,
    callee_number,
    plan_call,
)

from .client import AriError, Json
from .records import RecordWriter, db
from .voicemail import CallerGone, Dialog, deposit, menu

if TYPE_CHECKING:
    from .bridge import Bridge

logger = logging.getLogger(__name__)


class State(StrEnum):
    ROUTING = "routing"
    RINGING = "ringing"
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"  # a dialog (message deposit, voicemail menu) owns the caller's channel
    ENDED = "ended"


class LegStatus(StrEnum):
    DIALING = "dialing"
    RINGING = "ringing"
    # A remote terminal answered and must press a key before it is connected (A7).
    CONFIRMING = "confirming"
    ANSWERED = "answered"
    FAILED = "failed"


# Where the dialplan plays each rejection's announcement (templates/asterisk/extensions.conf).
ANNOUNCEMENT = {
    RejectReason.UNKNOWN_NUMBER: "unknown",
    RejectReason.BUSY: "busy",
    RejectReason.NO_DEVICE: "noanswer",
    RejectReason.NO_ANSWER: "noanswer",
    RejectReason.BARRED: "barred",
    RejectReason.REFUSED: "refused",
    RejectReason.FRAUD_LIMIT: "limit",
}
OUTCOME = {
    RejectReason.UNKNOWN_NUMBER: CallOutcome.FAILED,
    RejectReason.BUSY: CallOutcome.BUSY,
    RejectReason.NO_DEVICE: CallOutcome.NO_ANSWER,
    RejectReason.NO_ANSWER: CallOutcome.NO_ANSWER,
    RejectReason.BARRED: CallOutcome.FAILED,
    RejectReason.REFUSED: CallOutcome.FAILED,
    RejectReason.FRAUD_LIMIT: CallOutcome.FAILED,
}
# How an outside caller who withheld their number is presented by carriers.
ANONYMOUS_NUMBERS = {"", "anonymous", "unknown", "restricted", "private", "unavailable"}
FAILED_DIALSTATUS = {"BUSY", "CONGESTION", "CHANUNAVAIL", "NOANSWER", "CANCEL", "INVALIDARGS"}
UNREACHABLE_DIALSTATUS = {"CHANUNAVAIL", "CONGESTION"}
HANGUP_EVENTS = {"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"}


@dataclass
class Leg:
    channel_id: str
    role: LegRole
    endpoint: str
    device_id: int | None = None
    status: LegStatus = LegStatus.DIALING
    dialstatus: str = ""
    # A created channel can be dialled only once it is in Stasis (its StasisStart), which may come
    # before or after the HTTP reply to the create request.
    created: bool = False
    in_stasis: bool = False
    dial_sent: bool = False
    generation: int = 0
    confirm: bool = False
    # Rung through the carrier trunk (an outside number).
    outside: bool = False


def endpoint_of(channel: Json) -> str:
    """PJSIP/acme-101-00000002 -> acme-101."""
    name = str(channel.get("name", ""))
    tech, _, rest = name.partition("/")
    return rest.rsplit("-", 1)[0] if tech == "PJSIP" else rest


class CallSession:
    def __init__(
        self,
        bridge: Bridge,
        call_id: uuid.UUID,
        caller: Json,
        dialled: str,
        *,
        originated: bool = False,
        from_carrier: bool = False,
    ) -> None:
        self.bridge = bridge
        self.client = bridge.client
        self.call_id = call_id
        self.dialled = dialled
        self.state = State.ROUTING
        self.caller = Leg(channel_id=caller["id"], role=LegRole.CALLER, endpoint=endpoint_of(caller))
        self.legs: dict[str, Leg] = {}
        self.pending_targets: set[int] = set()
        self.bridge_id = ""
        self.queue: asyncio.Queue[Json] = asyncio.Queue()
        self.timers: list[asyncio.TimerHandle] = []
        self.writer = RecordWriter(str(call_id), bridge.batcher)
        self.plan: RingDevices | None = None
        self.policy: Policy | None = None
        self.origin = Origin.INTERNAL
        # Users whose forwarding rules sent this call on, in order.
        self.forwarded_by: tuple[int, ...] = ()
        # Each ringing attempt (the first, then one per forward) is a generation: late timers and
        # legs of an earlier one are ignored.
        self.generation = 0
        self.ringing_sent = False
        # Channels Asterisk told us are hanging up or gone.
        self.gone: set[str] = set()
        # Who is calling, once known (start()): what voicemail and call-backs need.
        self.company_id = 0
        self.company_timezone = "UTC"
        self.caller_number = ""
        self.caller_name = ""
        self.caller_user_id: int | None = None
        self.caller_party: Party | None = None
        self.caller_language = "en"
        self.voicemail_number = ""
        self.recorded = False
        # Whether the caller's channel is answered (a connected call, voicemail, click-to-call) or not.
        self.caller_up = originated
        self.from_carrier = from_carrier
        # The identity the carrier presented (an outside caller), for calls from the trunk.
        self.presented = caller.get("caller", {}) or {}

    # --- plumbing ----------------------------------------------------------------------------------

    @property
    def channel_ids(self) -> list[str]:
        return [self.caller.channel_id, *self.legs]

    def deliver(self, event: Json) -> None:
        self.queue.put_nowait(event)

    def _later(self, delay: float, event: Json) -> None:
        loop = asyncio.get_running_loop()
        self.timers.append(loop.call_later(delay, self.queue.put_nowait, event))

    async def run(self, *, adopted: bool = False) -> None:
        try:
            if not adopted:
                await self.start()
            while self.state != State.ENDED:
                event = await self.queue.get()
                try:
                    await self.handle(event)
                except AriError as exc:
                    # A channel vanished under us (the other side hung up at the same moment): the
                    # hang-up events that follow finish the call.
                    logger.warning("call %s: %s", self.call_id, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("call %s failed; hanging it up", self.call_id)
            await self._hangup_all(reason="normal")
            self._finish(CallOutcome.FAILED, reason="internal_error")
        finally:
            for timer in self.timers:
                timer.cancel()
            self.bridge.forget(self)
            await self.writer.close()

    def _finish(self, outcome: str, *, reason: str = "") -> None:
        if self.state == State.ENDED:
            return
        self.state = State.ENDED
        self.writer.submit(records.end_call, self.call_id, outcome=outcome, at=timezone.now(), reason=reason)

    # --- start: route the call ----------------------------------------------------------------------

    async def start(self) -> None:
        if self.from_carrier:
            await self.start_from_carrier()
            return
        inputs = await self.bridge.directory.routing_inputs(self.caller.endpoint, self.dialled)
        caller = inputs.caller
        if caller is None or inputs.policy is None:
            # Asterisk let it in, but Django no longer knows this device (deleted a moment ago).
            logger.warning("call from unknown device %s", self.caller.endpoint)
            self.state = State.ENDED
            await self.client.continue_in_dialplan(
                self.caller.channel_id, context="istra-announce", extension="unavailable"
            )
            return
        self.policy = inputs.policy
        self.caller.device_id = caller.device_id
        self.company_id = caller.party.company_id
        self.company_timezone = caller.timezone
        self.caller_number, self.caller_name = caller.party.number, caller.party.name
        self.caller_user_id = caller.party.user_id
        self.caller_party = caller.party
        self.caller_language = caller.language
        self.voicemail_number = caller.voicemail_number
        if self.caller_up:
            # Click-to-call: the channel showed the user whom they would call; from now on it carries
            # the user's own identity, which the callee's phone will display.
            name = caller.party.name.replace('"', "")
            await self.client.set_variable(
                self.caller.channel_id, "CALLERID(all)", f'"{name}" <{caller.party.number}>'
            )
        await self.route(self.dialled, answered=self.caller_up, callee=inputs.callee, looked_up=True)

    async def start_from_carrier(self) -> None:
        """An outside call to one of our public numbers: route it inside the number's company."""
        target = await self.bridge.directory.did_target(self.dialled)
        if target is None:
            self.state = State.ENDED
            await self.client.continue_in_dialplan(
                self.caller.channel_id, context="istra-announce", extension="unknown"
            )
            return
        number = str(self.presented.get("number") or "")
        anonymous = number.lower() in ANONYMOUS_NUMBERS
        if number.isdigit() and len(number) >= 8 and not number.startswith("0"):
            number = f"+{number}"  # carriers often send E.164 without its +
        self.policy = target.policy
        self.origin = Origin.EXTERNAL
        self.company_id = target.company_id
        self.company_timezone = target.timezone
        self.voicemail_number = target.voicemail_number
        self.caller_number = "" if anonymous else number
        self.caller_name = "" if anonymous else str(self.presented.get("name") or "")
        self.caller_party = Party(
            company_id=target.company_id,
            user_id=None,
            number=self.caller_number,
            name=self.caller_name,
            anonymous=anonymous,
            outside_number=self.caller_number,
        )
        if self.caller_number != str(self.presented.get("number") or "") or anonymous:
            # What the company's phones will show (Dial copies it from this channel).
            shown = self.caller_number or "anonymous"
            await self.client.set_variable(self.caller.channel_id, "CALLERID(num)", shown)
        await self.route(target.dial, answered=False)

    async def route(
        self,
        dialled: str,
        *,
        answered: bool,
        callee: Callee | None = None,
        looked_up: bool = False,
        new_record: bool = True,
    ) -> None:
        """Plan and execute a call from our caller to `dialled`.

        `callee` is the routing lookup when the caller already made it (a new call does both at once).
        A new call record is written unless the call is being forwarded (the same record follows it)."""
        assert self.caller_party is not None and self.policy is not None
        caller_party = self.caller_party
        policy = self.policy
        self.dialled = dialled
        if not looked_up:
            callee = await self.bridge.directory.callee(
                caller_party.company_id, callee_number(dialled, policy), policy
            )
        if callee is not None:
            callee = await self._live_device_states(callee)
        now = clock.now()
        facts = CallFacts(
            caller=caller_party, dialled=dialled, origin=self.origin, forwarded_by=self.forwarded_by
        )
        plan = plan_call(facts, callee, now, policy)
        if new_record:
            first_call_on_channel = not self.recorded
            self.recorded = True
            self.writer.submit(
                records.start_call,
                NewCall(
                    call_id=self.call_id,
                    company_id=caller_party.company_id,
                    asterisk_server=self.bridge.server_id,
                    caller_user_id=caller_party.user_id,
                    caller_device_id=self.caller.device_id,
                    caller_number=caller_party.number or "anonymous",
                    caller_name=caller_party.name,
                    dialled=dialled,
                    channel_id=self.caller.channel_id,
                    endpoint=self.caller.endpoint,
                    started_at=timezone.now(),
                    # A call-back from the voicemail menu reuses a channel already recorded.
                    caller_leg=first_call_on_channel,
                ),
            )
        if isinstance(plan, RingDevices) and plan.external:
            # One of the company's own public numbers: reach it on the platform, not through the
            # carrier and back, so the forwarding path (and its loop guard) stays with the call.
            did = await self.bridge.directory.did_target(plan.targets[0].number)
            if did is not None and did.company_id == caller_party.company_id:
                await self.route(did.dial, answered=answered, new_record=False)
                return
        if callee is not None:
            self.writer.submit(
                records.set_callee,
                self.call_id,
                user_id=callee.user_id,
                number=callee.extension,
                name=callee.name,
            )
        elif isinstance(plan, RingDevices) and plan.external:
            self.writer.submit(
                records.set_callee, self.call_id, user_id=None, number=plan.targets[0].number, name=""
            )
        if isinstance(plan, RingDevices) and plan.external:
            # Toll-fraud limits (telephony.fraud): a refusal instead, over one.
            plan = await db(
                fraud.admit_outside_call,
                plan,
                company_id=caller_party.company_id,
                country_code=policy.country_code,
                now=timezone.now(),
            )
        await self.execute(plan, answered=answered)

    async def _live_device_states(self, callee: Callee) -> Callee:
        """The callee's phones as they are this instant: calls this bridge carries (its records may
        lag), and whether each SIP phone that would ring after a delay is registered (Asterisk's
        endpoint state). A phone that rings at once is not asked about first: ringing it tells as
        much (an unregistered phone fails at once, and when every phone fails the plan's
        "unreachable" step follows), one request and one round trip sooner for every call. A delayed
        phone is asked, so that a call whose only phones are off goes on at once rather than after
        the delay."""
        active = self.bridge.device_call_counts()
        sip = [d for d in callee.devices if d.enabled and d.kind == DeviceKind.SIP and d.ring_delay > 0]
        states = await asyncio.gather(*(self.client.endpoint_state(d.endpoint) for d in sip))
        offline = {d.device_id for d, state in zip(sip, states, strict=True) if state == "offline"}
        return dataclasses.replace(
            callee,
            devices=tuple(
                dataclasses.replace(
                    d,
                    active_calls=d.active_calls + active.get(d.device_id, 0),
                    reachable=d.device_id not in offline,
                )
                for d in callee.devices
            ),
        )

    async def execute(self, plan: Plan, *, answered: bool) -> None:
        if isinstance(plan, Reject):
            await self.reject(plan.reason)
        elif isinstance(plan, VoicemailMenu):
            await self.voicemail_menu(plan)
        elif isinstance(plan, Voicemail):
            await self.voicemail(plan, answered=answered)
        elif isinstance(plan, Forward):
            await self.forward(plan)
        elif isinstance(plan, ApplyDialCode):
            await self.apply_dial_code(plan)
        else:
            await self.ring(plan, answered=answered)

    async def follow(self, then: Next) -> None:
        """What the plan said to do when the phones do not take the call."""
        if isinstance(then, Voicemail):
            await self.voicemail(then, answered=self.caller_up)
        elif isinstance(then, Forward):
            await self.forward(then)
        else:
            await self.reject(then.reason)

    async def forward(self, plan: Forward) -> None:
        """A forwarding rule sends the call on: the same call, decided again for its new destination."""
        logger.info(
            "call %s forwarded by user %s (%s) to %s",
            self.call_id,
            plan.by_user_id,
            plan.condition,
            plan.number,
        )
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        self.plan = None
        self.forwarded_by = (*self.forwarded_by, plan.by_user_id)
        self.writer.submit(records.set_forwarded, self.call_id, by_user_id=plan.by_user_id)
        if plan.external:
            assert self.caller_party is not None
            # Outside, the caller is shown as the rule decided (their own number, or the forwarder's).
            self.caller_party = dataclasses.replace(
                self.caller_party, outside_number=plan.caller_outside_number
            )
        self.state = State.ROUTING
        await self.route(plan.number, answered=self.caller_up, new_record=False)

    async def apply_dial_code(self, plan: ApplyDialCode) -> None:
        """A dial code (*8, *2 103, ...): change the setting, say so, hang up."""
        self.state = State.VOICEMAIL
        self.caller_up = True
        await self.client.answer(self.caller.channel_id)
        self.writer.submit(
            records.mark_answered,
            self.call_id,
            channel_id=self.caller.channel_id,
            bridge_id="",
            at=timezone.now(),
        )
        prompt = await db(features.apply_dial_code, plan.user_id, plan.feature, plan.argument)
        dialog = Dialog(self)
        try:
            await dialog.play([f"sound:istra/{prompt}"], interruptible=False)
            await dialog.hangup()
        except CallerGone:
            pass
        finally:
            self._finish(CallOutcome.ANSWERED, reason=f"dial_code:{plan.feature}")

    async def ring(self, plan: RingDevices, *, answered: bool) -> None:
        self.plan = plan
        self.state = State.RINGING
        at_once: list[Awaitable[Any]] = []
        if answered:
            # An answered channel (a call-back from voicemail) hears ringback as a tone.
            ringback_id = f"ringback-{self.call_id}"
            at_once.append(self.client.play(self.caller.channel_id, ["tone:ring"], playback_id=ringback_id))
        elif not self.ringing_sent:
            self.ringing_sent = True
            at_once.append(self.client.ring(self.caller.channel_id))  # ringback: 180 Ringing
        generation = self.generation = self.generation + 1
        self.pending_targets.update(range(len(plan.targets)))
        at_once.extend(self.dial_target(i) for i, target in enumerate(plan.targets) if target.delay == 0)
        # Ringback and the first phones' channels go out together: set-up time is on the caller's ear.
        await asyncio.gather(*at_once)
        # Delays count from the moment the first phones were rung, so a phone with a 3 s delay never
        # starts ringing less than 3 s after them.
        for index, target in enumerate(plan.targets):
            if target.delay > 0:
                self._later(target.delay, {"type": "_dial", "index": index, "generation": generation})
        self._later(plan.timeout, {"type": "_ring_timeout", "generation": generation})

    async def voicemail(self, plan: Voicemail, *, answered: bool) -> None:
        """Send the caller to the callee's mailbox to leave a message (no answer, no phone, or E10)."""
        self.state = State.VOICEMAIL
        for timer in self.timers:
            timer.cancel()
        try:
            await deposit(self, plan.mailbox_id, answered=answered or self.caller_up)
            self.caller_up = True
        finally:
            self._finish(CallOutcome.NO_ANSWER, reason="voicemail")

    async def voicemail_menu(self, plan: VoicemailMenu) -> None:
        self.state = State.VOICEMAIL
        self.caller_up = True  # the menu answers
        callback = await menu(self, plan.owner_user_id)
        self._finish(CallOutcome.ANSWERED, reason="voicemail_service")
        if callback:
            # From a message's details, 3 calls its sender back: a new call on the same channel.
            self.call_id = uuid.uuid4()
            self.state = State.ROUTING
            await self.route(callback, answered=True)

    async def reject(self, reason: RejectReason) -> None:
        self._finish(OUTCOME[reason], reason=str(reason))
        await self.client.continue_in_dialplan(
            self.caller.channel_id, context="istra-announce", extension=ANNOUNCEMENT[reason]
        )

    async def dial_target(self, index: int) -> None:
        assert self.plan is not None
        self.pending_targets.discard(index)
        if self.state != State.RINGING:
            return
        target = self.plan.targets[index]
        suffix = str(index) if self.generation == 1 else f"{self.generation}.{index}"
        channel_id = f"{self.bridge.app}-{self.call_id}-{suffix}"
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
        self.bridge.watch(channel_id, self)
        self.writer.submit(
            records.add_callee_leg,
            self.call_id,
            device_id=target.device_id,
            channel_id=channel_id,
            endpoint=f"{target.number}@{target.endpoint}" if target.number else target.endpoint,
            at=timezone.now(),
        )
        number, name = self.plan.caller_id_number, self.plan.caller_id_name
        if target.number and not self.plan.external:
            # A remote terminal is outside: it sees an outside caller's number, or an internal
            # caller's outside number, never an extension.
            party = self.caller_party
            number = (party.outside_number if party else "") or "anonymous"
            name = name if number != "anonymous" else ""
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
                app_args=f"dialled,{self.call_id}",
                originator=self.caller.channel_id,
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
        assert self.plan is not None
        try:
            # Inside, Dial copies the caller channel's identity (set to what the plan shows) and the
            # phones get no re-INVITE after answer. Outside, the identity presented is the plan's own
            # (the number shown outside, or anonymity), so nothing is copied.
            caller = "" if leg.outside else self.caller.channel_id
            await self.client.dial(leg.channel_id, caller=caller, timeout=self.plan.timeout + 5)
        except AriError as exc:
            logger.info("call %s: could not ring %s: %s", self.call_id, leg.endpoint, exc)
            await self.client.hangup(leg.channel_id)
            await self.leg_failed(leg, "CHANUNAVAIL")

    # --- events ------------------------------------------------------------------------------------

    async def handle(self, event: Json) -> None:
        kind = event["type"]
        if (
            kind in ("_dial", "_ring_timeout", "_confirm_timeout")
            and event.get("generation") != self.generation
        ):
            return  # a timer of a ringing attempt the call has moved on from (forwarded)
        if kind == "_dial":
            await self.dial_target(event["index"])
        elif kind == "_ring_timeout":
            if self.state == State.RINGING:
                await self._hangup_legs(reason="no_answer")
                await self.no_answer()
        elif kind == "_confirm_timeout":
            leg = self.legs.get(event["channel_id"])
            if leg is not None and leg.status == LegStatus.CONFIRMING:
                # Nobody pressed a key: a mobile's own voicemail answered, not its owner.
                await self.client.hangup(leg.channel_id)
                await self.leg_failed(leg, "NOANSWER")
        elif kind == "ChannelDtmfReceived":
            leg = self.legs.get(event["channel"]["id"])
            if leg is not None and leg.status == LegStatus.CONFIRMING:
                await self.client.stop_playback(f"confirm-{leg.channel_id}")
                await self.on_answer(leg, confirmed=True)
        elif kind == "StasisStart":
            leg = self.legs.get(event["channel"]["id"])
            if leg is not None:
                leg.in_stasis = True
                await self._dial_when_ready(leg)
        elif kind == "Dial":
            leg = self.legs.get(event.get("peer", {}).get("id", ""))
            if leg is not None:
                await self.on_dial_status(leg, event.get("dialstatus", ""))
        elif kind == "ChannelStateChange":
            leg = self.legs.get(event["channel"]["id"])
            if leg is not None and event["channel"].get("state") == "Up":
                await self.on_answer(leg)
        elif kind in HANGUP_EVENTS:
            channel_id = event["channel"]["id"]
            cause = event.get("cause") if kind != "StasisEnd" else None
            self.gone.add(channel_id)
            if channel_id == self.caller.channel_id:
                await self.on_caller_gone()
            elif channel_id in self.legs:
                await self.on_leg_gone(self.legs[channel_id], cause)

    async def no_answer(self) -> None:
        """Nobody answered in time, or no phone could ring: what the plan says next."""
        assert self.plan is not None
        await self.follow(self.plan.on_no_answer)

    async def on_dial_status(self, leg: Leg, status: str) -> None:
        leg.dialstatus = status or leg.dialstatus
        if status == "RINGING" and leg.status == LegStatus.DIALING:
            leg.status = LegStatus.RINGING
            if self.state == State.RINGING:
                self.writer.submit(records.mark_ringing, self.call_id, at=timezone.now())
        elif status == "ANSWER":
            await self.on_answer(leg)
        elif status in FAILED_DIALSTATUS:
            await self.leg_failed(leg, status)

    async def on_answer(self, leg: Leg, *, confirmed: bool = False) -> None:
        if leg.status == LegStatus.ANSWERED or (leg.status == LegStatus.CONFIRMING and not confirmed):
            return
        if self.state != State.RINGING or leg.status == LegStatus.FAILED:
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
            self._later(
                settings.REMOTE_CONFIRM_TIMEOUT,
                {"type": "_confirm_timeout", "channel_id": leg.channel_id, "generation": self.generation},
            )
            return
        leg.status = LegStatus.ANSWERED
        self.state = State.CONNECTED
        for timer in self.timers:
            timer.cancel()
        self.pending_targets.clear()
        others = [
            other for other in self.legs.values() if other is not leg and other.status != LegStatus.FAILED
        ]
        self.bridge_id = f"{self.bridge.app}-{self.call_id}"
        await asyncio.gather(
            self.client.create_bridge(self.bridge_id),
            self._answer_caller(),
            *(self.client.hangup(other.channel_id, reason="answered_elsewhere") for other in others),
        )
        for other in others:
            other.status = LegStatus.FAILED
        # Both sides are answered now, whether or not the bridge joins them: when one side hangs up
        # first (the bridge request then fails), the record still says who answered and when.
        self.writer.submit(
            records.mark_answered,
            self.call_id,
            channel_id=leg.channel_id,
            bridge_id=self.bridge_id,
            at=timezone.now(),
        )
        await self.client.add_to_bridge(self.bridge_id, [self.caller.channel_id, leg.channel_id])

    async def _answer_caller(self) -> None:
        if not self.caller_up:
            self.caller_up = True
            await self.client.answer(self.caller.channel_id)
        else:
            await self.client.stop_playback(f"ringback-{self.call_id}")

    async def leg_failed(self, leg: Leg, status: str) -> None:
        if leg.status in (LegStatus.FAILED, LegStatus.ANSWERED):
            return
        leg.status = LegStatus.FAILED
        leg.dialstatus = status
        outcome = CallOutcome.BUSY if status == "BUSY" else CallOutcome.NO_ANSWER
        self.writer.submit(records.end_leg, leg.channel_id, at=timezone.now(), outcome=outcome)
        if self.state != State.RINGING or self.pending_targets:
            return
        if all(other.status == LegStatus.FAILED for other in self.legs.values()):
            for timer in self.timers:
                timer.cancel()
            current = [other for other in self.legs.values() if other.generation == self.generation]
            assert self.plan is not None
            if any(other.dialstatus == "BUSY" for other in current):
                await self.follow(self.plan.on_busy)
            elif current and all(other.dialstatus in UNREACHABLE_DIALSTATUS for other in current):
                await self.follow(self.plan.on_unreachable)
            else:
                await self.no_answer()

    async def on_leg_gone(self, leg: Leg, cause: int | None) -> None:
        if leg.status == LegStatus.ANSWERED and self.state == State.CONNECTED:
            # The callee hung up: end the caller's side too.
            self.writer.submit(
                records.end_leg, leg.channel_id, at=timezone.now(), outcome=CallOutcome.ANSWERED, cause=cause
            )
            self._finish(CallOutcome.ANSWERED)
            await self._teardown()
        elif leg.status not in (LegStatus.FAILED, LegStatus.ANSWERED):
            await self.leg_failed(leg, "BUSY" if cause == 17 else "CHANUNAVAIL")

    async def on_caller_gone(self) -> None:
        if self.state == State.ENDED:
            return
        if self.state == State.CONNECTED:
            self._finish(CallOutcome.ANSWERED)
        else:
            self._finish(CallOutcome.CANCELLED)
        await self._teardown()

    # --- ending ------------------------------------------------------------------------------------

    async def _hangup_legs(self, *, reason: str) -> None:
        live = [leg for leg in self.legs.values() if leg.status != LegStatus.FAILED]
        for leg in live:
            leg.status = LegStatus.FAILED
        await asyncio.gather(
            *(self.client.hangup(leg.channel_id, reason=reason) for leg in live), return_exceptions=True
        )

    async def _hangup_all(self, *, reason: str) -> None:
        await asyncio.gather(
            *(self.client.hangup(cid, reason=reason) for cid in self.channel_ids), return_exceptions=True
        )

    async def _teardown(self) -> None:
        # Channels already hanging up, or legs this call hung up itself, need no request.
        hung_up = {leg.channel_id for leg in self.legs.values() if leg.status == LegStatus.FAILED}
        live = [cid for cid in self.channel_ids if cid not in self.gone and cid not in hung_up]
        results: list[Any] = await asyncio.gather(
            *(self.client.hangup(cid) for cid in live), return_exceptions=True
        )
        if self.bridge_id:
            results.append(
                await asyncio.gather(self.client.destroy_bridge(self.bridge_id), return_exceptions=True)
            )
        for result in results:
            if isinstance(result, Exception):
                logger.debug("call %s teardown: %s", self.call_id, result)

    # --- adoption after a bridge restart ---------------------------------------------------------------

    @classmethod
    def adopt(
        cls,
        bridge: Bridge,
        *,
        call_id: uuid.UUID,
        caller: Json,
        callee_channel_id: str,
        callee_endpoint: str,
        bridge_id: str,
    ) -> CallSession:
        """A connected call found on Asterisk after our own restart: follow it until it ends."""
        session = cls(bridge, call_id, caller, dialled="")
        session.state = State.CONNECTED
        session.bridge_id = bridge_id
        session.legs[callee_channel_id] = Leg(
            channel_id=callee_channel_id,
            role=LegRole.CALLEE,
            endpoint=callee_endpoint,
            status=LegStatus.ANSWERED,
        )
        return session
