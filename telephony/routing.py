"""Call routing: a pure function from the facts of a call and the callee's settings to a plan.

No I/O happens here. The ARI bridge gathers the facts, asks `plan_call` what to do, and executes the
plan it gets back; it holds no routing rule of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class RejectReason(StrEnum):
    UNKNOWN_NUMBER = "unknown_number"
    BUSY = "busy"
    NO_DEVICE = "no_device"
    NO_ANSWER = "no_answer"


# SIP-facing hang-up causes (Q.850) that Asterisk turns into the SIP final response the caller sees.
CAUSE_UNALLOCATED = 1  # 404 Not Found
CAUSE_USER_BUSY = 17  # 486 Busy Here
CAUSE_NO_ANSWER = 19  # 480 Temporarily Unavailable
CAUSE_NO_CIRCUIT = 34  # 503 Service Unavailable (the platform cannot take the call)

REJECT_CAUSES: dict[RejectReason, int] = {
    RejectReason.UNKNOWN_NUMBER: CAUSE_UNALLOCATED,
    RejectReason.BUSY: CAUSE_USER_BUSY,
    RejectReason.NO_DEVICE: CAUSE_NO_ANSWER,
    RejectReason.NO_ANSWER: CAUSE_NO_ANSWER,
}


@dataclass(frozen=True, slots=True)
class Party:
    """Who places the call, as the callee will see them."""

    company_id: int
    user_id: int | None
    number: str
    name: str


@dataclass(frozen=True, slots=True)
class CallFacts:
    caller: Party
    dialled: str
    # The caller's company's voicemail service number (e.g. 555).
    voicemail_number: str = ""


# Dial code to leave a message in a colleague's mailbox without ringing them (E10): *86 + extension.
VOICEMAIL_DROP_CODE = "*86"


@dataclass(frozen=True, slots=True)
class DeviceState:
    device_id: int
    endpoint: str
    ring_delay: int
    enabled: bool
    in_call: bool


@dataclass(frozen=True, slots=True)
class Callee:
    """A user reachable by extension in the caller's company, with what routing needs to know."""

    company_id: int
    user_id: int
    extension: str
    name: str
    ring_timeout: int
    devices: tuple[DeviceState, ...] = field(default=())
    # The callee's voicemail box, when it is on: where unanswered calls go.
    mailbox_id: int | None = None


@dataclass(frozen=True, slots=True)
class RingTarget:
    device_id: int
    endpoint: str
    delay: int


@dataclass(frozen=True, slots=True)
class RingDevices:
    """Ring these devices, each after its delay; the first to answer takes the call."""

    callee: Callee
    targets: tuple[RingTarget, ...]
    # Seconds from the start of ringing after which nobody answering means "no answer".
    timeout: int
    caller_id_number: str
    caller_id_name: str
    # What happens when nobody answers in time or no phone can ring: voicemail, or a refusal.
    on_no_answer: Voicemail | Reject = field(default_factory=lambda: Reject(RejectReason.NO_ANSWER))


@dataclass(frozen=True, slots=True)
class Voicemail:
    """Answer and let the caller leave a message in the callee's mailbox."""

    mailbox_id: int
    callee: Callee


@dataclass(frozen=True, slots=True)
class VoicemailMenu:
    """The voicemail service: log in to a mailbox (the caller's own, unless they name another) and listen."""

    owner_user_id: int | None


@dataclass(frozen=True, slots=True)
class Reject:
    """End the call for the caller with an announcement and the SIP status of `cause`."""

    reason: RejectReason
    callee: Callee | None = None

    @property
    def cause(self) -> int:
        return REJECT_CAUSES[self.reason]


Plan = RingDevices | Reject | Voicemail | VoicemailMenu


def plan_call(facts: CallFacts, callee: Callee | None, now: datetime) -> Plan:
    """Decide what happens to a call to an extension of the caller's company.

    `callee` is the user the dialled number names *in the caller's company*, or None when it names
    nobody there: a phone of one company can never reach another company's extensions.
    """
    del now  # Time-dependent rules (business hours, presence) arrive with the routing engine issue.
    if facts.voicemail_number and facts.dialled == facts.voicemail_number:
        return VoicemailMenu(owner_user_id=facts.caller.user_id)
    if callee is None or callee.company_id != facts.caller.company_id:
        return Reject(RejectReason.UNKNOWN_NUMBER)
    no_answer: Voicemail | Reject = (
        Voicemail(callee.mailbox_id, callee)
        if callee.mailbox_id is not None
        else Reject(RejectReason.NO_ANSWER, callee)
    )
    if facts.dialled.startswith(VOICEMAIL_DROP_CODE):
        # Straight to the mailbox, without ringing (E10); no mailbox means nothing to drop into.
        return no_answer if isinstance(no_answer, Voicemail) else Reject(RejectReason.UNKNOWN_NUMBER)
    enabled = [d for d in callee.devices if d.enabled]
    if not enabled:
        return no_answer if isinstance(no_answer, Voicemail) else Reject(RejectReason.NO_DEVICE, callee)
    free = [d for d in enabled if not d.in_call]
    if not free:
        return Reject(RejectReason.BUSY, callee)
    targets = tuple(
        RingTarget(device_id=d.device_id, endpoint=d.endpoint, delay=max(0, min(d.ring_delay, 30)))
        for d in sorted(free, key=lambda d: (d.ring_delay, d.device_id))
        # A device whose delay is past the ring timeout would never ring: leave it out.
        if d.ring_delay < callee.ring_timeout
    )
    if not targets:
        return no_answer
    return RingDevices(
        callee=callee,
        targets=targets,
        timeout=callee.ring_timeout,
        caller_id_number=facts.caller.number,
        caller_id_name=facts.caller.name,
        on_no_answer=no_answer,
    )


def callee_number(dialled: str) -> str:
    """The extension a dialled string names: the number itself, or what follows a dial code."""
    if dialled.startswith(VOICEMAIL_DROP_CODE):
        return dialled[len(VOICEMAIL_DROP_CODE) :]
    return dialled
