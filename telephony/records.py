"""Call records (J1): the bridge reports what happens on Asterisk, these functions write it down.

One Call row per call, one CallLeg row per channel. Each change is one transaction, and the users the
call involves hear of it on their live channel after that transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from .choices import CallOutcome, CallState, LegRole
from .events import call_event_for, publish_on_commit
from .models import Call, CallLeg


@dataclass(frozen=True)
class NewCall:
    call_id: uuid.UUID
    company_id: int
    asterisk_server: str
    caller_user_id: int | None
    caller_device_id: int | None
    caller_number: str
    caller_name: str
    dialled: str
    channel_id: str
    endpoint: str
    started_at: datetime
    # False for a second call placed on a channel already recorded (a call-back from voicemail).
    caller_leg: bool = True


def _publish(call: Call) -> None:
    """Tell each user of the call (caller and callee) how it stands now, from their own side."""
    for user_id in {call.caller_user_id, call.callee_user_id} - {None}:
        assert user_id is not None
        publish_on_commit(user_id, call_event_for(call, user_id))


@transaction.atomic
def start_call(new: NewCall) -> None:
    Call.objects.create(
        id=new.call_id,
        company_id=new.company_id,
        asterisk_server=new.asterisk_server,
        caller_user_id=new.caller_user_id,
        caller_device_id=new.caller_device_id,
        caller_number=new.caller_number,
        caller_name=new.caller_name,
        dialled_number=new.dialled,
        started_at=new.started_at,
    )
    if not new.caller_leg:
        return
    CallLeg.objects.create(
        call_id=new.call_id,
        role=LegRole.CALLER,
        device_id=new.caller_device_id,
        channel_id=new.channel_id,
        endpoint=new.endpoint,
        started_at=new.started_at,
        answered_at=new.started_at,
    )


@transaction.atomic
def set_callee(call_id: uuid.UUID, *, user_id: int | None, number: str, name: str) -> None:
    Call.objects.filter(id=call_id).update(callee_user_id=user_id, callee_number=number, callee_name=name)


@transaction.atomic
def set_forwarded(call_id: uuid.UUID, *, by_user_id: int) -> None:
    """A forwarding rule of this user sent the call on: it shows in their history too."""
    Call.objects.filter(id=call_id).update(forwarded_by_id=by_user_id)


@transaction.atomic
def add_callee_leg(
    call_id: uuid.UUID, *, device_id: int | None, channel_id: str, endpoint: str, at: datetime
) -> None:
    CallLeg.objects.create(
        call_id=call_id,
        role=LegRole.CALLEE,
        device_id=device_id,
        channel_id=channel_id,
        endpoint=endpoint,
        started_at=at,
    )


@transaction.atomic
def mark_ringing(call_id: uuid.UUID, *, at: datetime) -> None:
    call = Call.objects.select_for_update().get(id=call_id)
    if call.state != CallState.ROUTING:
        return
    call.state = CallState.RINGING
    call.ringing_at = at
    call.save(update_fields=["state", "ringing_at"])
    _publish(call)


@transaction.atomic
def mark_answered(call_id: uuid.UUID, *, channel_id: str, bridge_id: str, at: datetime) -> None:
    call = Call.objects.select_for_update().get(id=call_id)
    call.state = CallState.ANSWERED
    call.answered_at = at
    call.bridge_id = bridge_id
    call.save(update_fields=["state", "answered_at", "bridge_id"])
    CallLeg.objects.filter(channel_id=channel_id).update(answered_at=at)
    _publish(call)


@transaction.atomic
def end_leg(channel_id: str, *, at: datetime, outcome: str, cause: int | None = None) -> None:
    CallLeg.objects.filter(channel_id=channel_id, ended_at__isnull=True).update(
        ended_at=at, outcome=outcome, hangup_cause=cause
    )


@transaction.atomic
def end_call(call_id: uuid.UUID, *, outcome: str, at: datetime, reason: str = "") -> None:
    """Close the call and every leg still open; idempotent, so reconciliation may call it again."""
    call = Call.objects.select_for_update().filter(id=call_id).first()
    if call is None or call.state == CallState.ENDED:
        return
    call.state = CallState.ENDED
    call.outcome = outcome
    call.reason = reason or call.reason
    call.ended_at = at
    call.save(update_fields=["state", "outcome", "reason", "ended_at"])
    leg_outcome = CallOutcome.ANSWERED if outcome == CallOutcome.ANSWERED else outcome
    for leg in call.legs.filter(ended_at__isnull=True):
        leg.ended_at = at
        leg.outcome = CallOutcome.ANSWERED if leg.answered_at else leg_outcome
        leg.save(update_fields=["ended_at", "outcome"])
    _publish(call)


def active_calls(asterisk_server: str) -> list[tuple[Call, list[CallLeg]]]:
    """Calls this server carried that are not closed yet, with their legs: what reconciliation checks."""
    calls = list(Call.objects.active().filter(asterisk_server=asterisk_server).prefetch_related("legs"))
    return [(call, list(call.legs.all())) for call in calls]


def devices_in_call(device_ids: list[int]) -> set[int]:
    return set(
        CallLeg.objects.filter(device_id__in=device_ids, ended_at__isnull=True).values_list(
            "device_id", flat=True
        )
    )
