"""The call actor: one Call per call, one asyncio task reading the call's own events in order.

A call starts when a caller's channel enters Stasis. It asks telephony.routing for a plan and
executes it: a ringing attempt (ringing.py) for the devices, a dialog (dialogs/) for voicemail and
dial codes, or an announcement with the SIP status the plan names. It holds its participants (legs)
and its mixers (ARI bridges); its state changes only through `_enter`, which checks the transition
table (state.py), logs, and tells the recorder. Record writes never make the call wait.

Timers are events on the call's own queue, tagged with the generation of the ringing attempt that
set them. Other calls never touch a call's fields: they post it a message (registry.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from telephony import clock, fraud, records
from telephony.choices import CallOutcome, LegRole
from telephony.routing import (
    ApplyDialCode,
    Callee,
    CallFacts,
    Forward,
    Next,
    Origin,
    Party,
    Plan,
    Policy,
    Reject,
    RejectReason,
    RerouteToDid,
    RingDevices,
    Voicemail,
    VoicemailMenu,
    callee_number,
    plan_call,
)

from . import entry
from .announcements import ANNOUNCEMENT, OUTCOME, announce
from .client import AriClient, AriError, Json, event_time
from .devices import live_device_states
from .dialogs.base import DialogChannel
from .dialogs.dial_codes import apply_dial_code
from .dialogs.voicemail import deposit, menu
from .participants import CallerIdentity, Leg, Mixer, endpoint_of
from .recorder import CallRecorder, RecordBatcher
from .registry import CallRegistry
from .ringing import HANGUP_EVENTS, TIMER_EVENTS, Ringing, RingOutcome, RingResult
from .routing_cache import RoutingCache
from .state import LegStatus, State, check_transition, end_reason, hangup_cause
from .timers import PatientTimer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallServices:
    """What a call works with, given by the application (app.py) rather than reached for."""

    client: AriClient
    registry: CallRegistry
    cache: RoutingCache
    batcher: RecordBatcher
    server_id: str
    app: str
    # Starts a call's task (a call-back from the voicemail menu is a new call on the same leg).
    spawn: Callable[[Call], None]


class Call:
    def __init__(
        self,
        services: CallServices,
        call_id: uuid.UUID,
        caller: Json,
        dialled: str,
        *,
        originated: bool = False,
        from_carrier: bool = False,
        queue: asyncio.Queue[Json] | None = None,
        started_at: datetime | None = None,
    ) -> None:
        self.services = services
        # When the caller's channel entered Stasis, as Asterisk says (None: when the call is routed).
        self.started_at = started_at
        self.client = services.client
        self.call_id = call_id
        self.dialled = dialled
        self.state = State.ROUTING
        self.caller = Leg(channel_id=caller["id"], role=LegRole.CALLER, endpoint=endpoint_of(caller))
        # Everyone in the call apart from legs still ringing: the caller, then whoever answered.
        self.participants: dict[str, Leg] = {self.caller.channel_id: self.caller}
        self.mixers: dict[str, Mixer] = {}
        self.queue: asyncio.Queue[Json] = queue if queue is not None else asyncio.Queue()
        self.timers: list[PatientTimer] = []
        self.recorder = CallRecorder(call_id, services.batcher)
        # Ringing attempts: the first, then one per forward. Only the last one is current.
        self.attempts: list[Ringing] = []
        self.ringing: Ringing | None = None
        self.policy: Policy | None = None
        self.origin = Origin.INTERNAL
        # Users whose forwarding rules sent this call on, in order.
        self.forwarded_by: tuple[int, ...] = ()
        self.ringing_sent = False
        # Channels Asterisk told us are hanging up or gone.
        self.gone: set[str] = set()
        # Who is calling, once known (start()): what dialogs and call-backs need.
        self.identity = CallerIdentity(endpoint=self.caller.endpoint)
        self.caller_party: Party | None = None
        self.callee_user_id: int | None = None
        # The caller's channel has a leg row already (a call-back's record has none of its own).
        self.caller_leg_recorded = False
        self.recorded = False
        # Whether the caller's channel is answered (a connected call, voicemail, click-to-call) or not.
        self.caller_up = originated
        self.from_carrier = from_carrier
        # The identity the carrier presented (an outside caller), for calls from the trunk.
        self.presented = caller.get("caller", {}) or {}

    # --- what the registry reads ----------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.state == State.ENDED

    def channel_ids(self) -> list[str]:
        ids = dict.fromkeys(self.participants)
        for attempt in self.attempts:
            ids.update(dict.fromkeys(attempt.legs))
        return list(ids)

    def legs(self) -> list[Leg]:
        legs = {id(leg): leg for leg in self.participants.values()}
        for attempt in self.attempts:
            legs.update({id(leg): leg for leg in attempt.legs.values()})
        return list(legs.values())

    def device_ids(self) -> Iterable[int]:
        """The phones this call occupies: the caller's, and each device ringing or talking (once)."""
        ids = [self.caller.device_id] if self.caller.device_id is not None else []
        ids.extend(
            {
                leg.device_id
                for leg in self.legs()
                if leg is not self.caller and leg.device_id is not None and leg.status != LegStatus.FAILED
            }
        )
        return ids

    def user_ids(self) -> Iterable[int]:
        return {u for u in (self.identity.user_id, self.callee_user_id) if u is not None}

    # --- plumbing ----------------------------------------------------------------------------------

    def deliver(self, event: Json) -> None:
        self.queue.put_nowait(event)

    def _later(self, delay: float, event: Json) -> None:
        # Patient: after a freeze, the events Asterisk sent meanwhile come first (timers.py).
        self.timers.append(PatientTimer(delay, self.queue.put_nowait, event))

    def _cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()

    def _enter(self, new: State, **facts: Any) -> None:
        """The one way a call changes state: checked against the table, logged, and recorded."""
        check_transition(self.state, new)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("call %s: %s -> %s %s", self.call_id, self.state, new, facts or "")
        self.state = new
        self.recorder.entered(new, **facts)

    def _finish(self, outcome: str | None, *, reason: str = "", at: datetime | None = None) -> None:
        """End the call (`at` when it ended, by default now); `outcome` None: it was never recorded."""
        if self.state == State.ENDED:
            return
        if outcome is None:
            self._enter(State.ENDED)
        else:
            self._enter(State.ENDED, outcome=outcome, reason=reason, at=at)

    def dialog_channel(self) -> DialogChannel:
        return DialogChannel(self.caller.channel_id, self.client, self.queue, self.identity)

    async def run(self) -> None:
        try:
            if self.state == State.ROUTING:  # not an adopted call: route it first
                await self._step(self.start())
            while self.state != State.ENDED:
                event = await self.queue.get()
                await self._step(self.handle(event))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("call %s failed; hanging it up", self.call_id)
            await self._hangup_all(reason="normal")
            self._finish(CallOutcome.FAILED, reason="internal_error")
        finally:
            self._cancel_timers()
            self.services.registry.forget(self)
            await self.recorder.close()

    async def _step(self, work: Awaitable[None]) -> None:
        try:
            await work
        except AriError as exc:
            # A channel vanished under us (the other side hung up at the same moment): a normal end
            # of a call, which the hang-up events that follow finish.
            if exc.gone:
                logger.info("call %s: a channel left during a request (%s)", self.call_id, exc)
            else:
                logger.warning("call %s: %s", self.call_id, exc)

    # --- start: route the call ----------------------------------------------------------------------

    async def start(self) -> None:
        if self.recorded:
            # A call-back: a new call from the same, answered, channel.
            await self.route(self.dialled, answered=True)
            return
        endpoint = self.caller.endpoint
        cache = self.services.cache
        if self.from_carrier:
            known = await entry.from_carrier(
                cache, number=self.dialled, presented=self.presented, endpoint=endpoint
            )
        else:
            known = await entry.from_phone(
                cache, endpoint=endpoint, dialled=self.dialled, answered=self.caller_up
            )
        if isinstance(known, str):
            if known == "unavailable":
                logger.warning("call from unknown device %s", endpoint)
            self._finish(None)
            await announce(self.client, self.caller.channel_id, known)
            return
        self.policy, self.caller_party, self.identity = known.policy, known.party, known.identity
        self.origin, self.caller.device_id = known.origin, known.device_id
        if known.caller_id is not None:
            await self.client.set_variable(self.caller.channel_id, *known.caller_id)
        looked_up = not self.from_carrier
        await self.route(known.dial, answered=self.caller_up, callee=known.callee, looked_up=looked_up)

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
        cache = self.services.cache
        self.dialled = dialled
        if not looked_up:
            callee = await cache.callee(caller_party.company_id, callee_number(dialled, policy), policy)
        if callee is not None:
            counts = self.services.registry.device_call_counts()
            callee = await live_device_states(callee, client=self.client, calls_here=counts)
        facts = CallFacts(
            caller=caller_party, dialled=dialled, origin=self.origin, forwarded_by=self.forwarded_by
        )
        plan = plan_call(facts, callee, clock.now(), policy)
        if new_record:
            self.recorder.started(
                company_id=caller_party.company_id,
                asterisk_server=self.services.server_id,
                caller=caller_party,
                caller_device_id=self.caller.device_id,
                dialled=dialled,
                channel_id=self.caller.channel_id,
                endpoint=self.caller.endpoint,
                # A call-back from the voicemail menu reuses a channel already recorded.
                caller_leg=not self.caller_leg_recorded,
                at=self.started_at,
            )
            self.recorded = self.caller_leg_recorded = True
        if callee is not None:
            self.callee_user_id = callee.user_id
            self.recorder.submit(
                records.set_callee,
                self.call_id,
                user_id=callee.user_id,
                number=callee.extension,
                name=callee.name,
            )
        if isinstance(plan, RingDevices) and plan.external and callee is None:
            self.recorder.submit(
                records.set_callee, self.call_id, user_id=None, number=plan.targets[0].number, name=""
            )
        if fraud.rings_outside(plan):
            # Toll-fraud limits (telephony.fraud): over one, a refusal or fewer outside numbers rung.
            plan = await cache.within_fraud_limits(plan, company_id=caller_party.company_id, policy=policy)
        await self.execute(plan, answered=answered)

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
            await self.dial_code(plan)
        elif isinstance(plan, RerouteToDid):
            # One of the company's own public numbers: the same call, routed again on the platform.
            await self.route(plan.dial, answered=answered, new_record=False)
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
        self._cancel_timers()
        self.ringing = None
        self.forwarded_by = (*self.forwarded_by, plan.by_user_id)
        self.recorder.submit(records.set_forwarded, self.call_id, by_user_id=plan.by_user_id)
        if plan.external:
            assert self.caller_party is not None
            # Outside, the caller is shown as the rule decided (their own number, or the forwarder's).
            self.caller_party = dataclasses.replace(
                self.caller_party, outside_number=plan.caller_outside_number
            )
        if self.state != State.ROUTING:
            self._enter(State.ROUTING)
        await self.route(plan.number, answered=self.caller_up, new_record=False)

    async def dial_code(self, plan: ApplyDialCode) -> None:
        """A dial code (*8, *2 103, ...): the platform answers, changes the setting, says so."""
        self.caller_up = True
        await self.client.answer(self.caller.channel_id)
        self._enter(State.DIALOG, channel_id=self.caller.channel_id)
        try:
            await apply_dial_code(self.dialog_channel(), plan)
        finally:
            self._finish(CallOutcome.ANSWERED, reason=f"dial_code:{plan.feature}")

    async def ring(self, plan: RingDevices, *, answered: bool) -> None:
        if self.state != State.RINGING:
            self._enter(State.RINGING)
        ringback: list[Awaitable[Any]] = []
        if answered:
            # An answered channel (a call-back from voicemail) hears ringback as a tone.
            ringback_id = f"ringback-{self.call_id}"
            ringback.append(self.client.play(self.caller.channel_id, ["tone:ring"], playback_id=ringback_id))
        elif not self.ringing_sent:
            self.ringing_sent = True
            ringback.append(self.client.ring(self.caller.channel_id))  # ringback: 180 Ringing
        attempt = Ringing(
            plan,
            generation=len(self.attempts) + 1,
            call_id=self.call_id,
            caller_channel_id=self.caller.channel_id,
            client=self.client,
            app=self.services.app,
            watch=lambda channel_id: self.services.registry.watch(channel_id, self),
            recorder=self.recorder,
            later=self._later,
        )
        self.attempts.append(attempt)
        self.ringing = attempt
        await attempt.start(*ringback)
        await self._after(attempt)

    async def voicemail(self, plan: Voicemail, *, answered: bool) -> None:
        """Send the caller to the callee's mailbox to leave a message (no answer, no phone, or E10)."""
        self._enter(State.DIALOG)
        self._cancel_timers()
        try:
            await deposit(
                self.dialog_channel(),
                plan.mailbox_id,
                answered=answered or self.caller_up,
                asterisk_server=self.services.server_id,
                call_id=self.call_id if self.recorded else None,
            )
            self.caller_up = True
        finally:
            self._finish(CallOutcome.NO_ANSWER, reason="voicemail")

    async def voicemail_menu(self, plan: VoicemailMenu) -> None:
        self._enter(State.DIALOG)
        self.caller_up = True  # the menu answers
        callback = await menu(self.dialog_channel(), plan.owner_user_id)
        self._finish(CallOutcome.ANSWERED, reason="voicemail_service")
        if callback:
            # From a message's details, 3 calls its sender back: a new call on the same leg.
            self.services.spawn(self.call_back(callback))

    def call_back(self, number: str) -> Call:
        """A new call from this call's caller, whose channel is answered already, to `number`. It
        takes over the caller's channel and what is left on this call's queue."""
        new = Call(
            self.services,
            uuid.uuid4(),
            {"id": self.caller.channel_id, "name": ""},
            number,
            originated=True,
            queue=self.queue,
        )
        new.caller = dataclasses.replace(self.caller)
        new.participants = {new.caller.channel_id: new.caller}
        new.policy, new.origin = self.policy, self.origin
        new.identity, new.caller_party = self.identity, self.caller_party
        new.caller_leg_recorded = new.recorded = True
        new.gone = set(self.gone)
        return new

    async def reject(self, reason: RejectReason) -> None:
        self._finish(OUTCOME[reason], reason=str(reason))
        await announce(self.client, self.caller.channel_id, ANNOUNCEMENT[reason])

    # --- events ------------------------------------------------------------------------------------

    async def handle(self, event: Json) -> None:
        kind = event["type"]
        if kind in HANGUP_EVENTS:
            channel_id = event["channel"]["id"]
            self.gone.add(channel_id)
            reason, at = end_reason(event), event_time(event)
            if channel_id == self.caller.channel_id:
                await self.on_caller_gone(reason=reason, at=at)
                return
            participant = self.participants.get(channel_id)
            if participant is not None:
                await self.on_participant_gone(participant, hangup_cause(event), reason=reason, at=at)
                return
        command = COMMANDS.get(kind)
        if command is not None:
            await command(self, event)
            return
        attempt = self._attempt_for(event)
        if attempt is not None:
            await attempt.handle(event)
            await self._after(attempt)

    def _attempt_for(self, event: Json) -> Ringing | None:
        if event["type"] in TIMER_EVENTS:
            # Only the current attempt's timers count: an earlier one's (before a forward) are stale.
            current = self.ringing
            return current if current is not None and current.owns(event) else None
        for attempt in reversed(self.attempts):
            if attempt.leg_of(event) is not None:
                return attempt
        return None

    async def _after(self, attempt: Ringing) -> None:
        """Act on the attempt's outcome, if it has one now."""
        result, attempt.outcome = attempt.outcome, None
        if result is None or attempt is not self.ringing or self.state != State.RINGING:
            return
        if result.outcome == RingOutcome.ANSWERED:
            await self.connect(result)
            return
        self._cancel_timers()
        plan = attempt.plan
        if result.outcome == RingOutcome.BUSY:
            await self.follow(plan.on_busy)
        elif result.outcome == RingOutcome.UNREACHABLE:
            await self.follow(plan.on_unreachable)
        else:
            await self.follow(plan.on_no_answer)

    async def connect(self, result: RingResult) -> None:
        """A device answered: join it and the caller in the call's mixer."""
        leg = result.leg
        assert leg is not None
        self._cancel_timers()
        self.participants[leg.channel_id] = leg
        mixer = Mixer(f"{self.services.app}-{self.call_id}")
        self.mixers[mixer.bridge_id] = mixer
        # Both sides are answered now, whether or not the mixer joins them: when one side hangs up
        # first (the bridge request then fails), the record still says who answered and when.
        self._enter(State.CONNECTED, channel_id=leg.channel_id, bridge_id=mixer.bridge_id, at=result.at)
        await asyncio.gather(
            self.client.create_bridge(mixer.bridge_id),
            self._answer_caller(),
            *(self.client.hangup(other.channel_id, reason="answered_elsewhere") for other in result.others),
        )
        mixer.channel_ids.update((self.caller.channel_id, leg.channel_id))
        await self.client.add_to_bridge(mixer.bridge_id, [self.caller.channel_id, leg.channel_id])

    async def _answer_caller(self) -> None:
        if not self.caller_up:
            self.caller_up = True
            await self.client.answer(self.caller.channel_id)
        else:
            await self.client.stop_playback(f"ringback-{self.call_id}")

    async def on_participant_gone(
        self, leg: Leg, cause: int | None, *, reason: str = "", at: datetime | None = None
    ) -> None:
        if self.state == State.CONNECTED and leg.status == LegStatus.ANSWERED:
            # The callee hung up: end the caller's side too.
            at = at or timezone.now()
            self.recorder.submit(
                records.end_leg, leg.channel_id, at=at, outcome=CallOutcome.ANSWERED, cause=cause
            )
            self._finish(CallOutcome.ANSWERED, reason=reason, at=at)
            await self._teardown()

    async def on_caller_gone(self, *, reason: str = "", at: datetime | None = None) -> None:
        if self.state == State.ENDED:
            return
        outcome = CallOutcome.ANSWERED if self.state == State.CONNECTED else CallOutcome.CANCELLED
        self._finish(outcome, reason=reason, at=at)
        await self._teardown()

    # --- commands: messages other calls and the web post to this call ---------------------------------

    async def on_hangup_command(self, event: Json) -> None:
        """Hang the whole call up (from MyIstra, or another call)."""
        if self.state == State.ENDED:
            return
        self._finish(
            CallOutcome.ANSWERED if self.state == State.CONNECTED else CallOutcome.CANCELLED,
            reason=str(event.get("reason") or "hung_up_from_web"),
        )
        await self._teardown()

    # --- ending ------------------------------------------------------------------------------------

    async def _hangup_all(self, *, reason: str) -> None:
        await asyncio.gather(
            *(self.client.hangup(cid, reason=reason) for cid in self.channel_ids()), return_exceptions=True
        )

    async def _teardown(self) -> None:
        # Channels already hanging up, or legs this call hung up itself, need no request.
        hung_up = {leg.channel_id for leg in self.legs() if leg.status == LegStatus.FAILED}
        live = [cid for cid in self.channel_ids() if cid not in self.gone and cid not in hung_up]
        results: list[Any] = await asyncio.gather(
            *(self.client.hangup(cid) for cid in live),
            *(self.client.destroy_bridge(bridge_id) for bridge_id in self.mixers),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                logger.debug("call %s teardown: %s", self.call_id, result)

    # --- adoption after a bridge restart ---------------------------------------------------------------

    @classmethod
    def adopt(
        cls,
        services: CallServices,
        *,
        call_id: uuid.UUID,
        caller: Json,
        answered: list[Leg],
        mixers: list[Mixer],
    ) -> Call:
        """A connected call found on Asterisk after our own restart: follow it until it ends."""
        call = cls(services, call_id, caller, dialled="", originated=True)
        # Not a transition: the call was connected before we restarted, and its record says so.
        call.state = State.CONNECTED
        call.recorded = call.caller_leg_recorded = True
        for leg in answered:
            call.participants[leg.channel_id] = leg
        call.mixers = {mixer.bridge_id: mixer for mixer in mixers}
        return call


COMMANDS: dict[str, Callable[[Call, Json], Awaitable[None]]] = {
    "_hangup": Call.on_hangup_command,
}
