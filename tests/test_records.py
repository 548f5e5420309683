"""Call records as the bridge writes them (telephony.records), and its batches of writes
(ari_bridge.recorder): the rows, the live events that follow each change, and a failing write that must
not take others with it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError
from django.forms.models import model_to_dict
from django.utils import timezone

from ari_bridge.recorder import Write, _write_batch
from telephony import events, records
from telephony.choices import CallOutcome, CallState, LegRole
from telephony.models import Call, CallLeg, Device

from .personas import Person

T0 = datetime(2025, 3, 10, 9, 0, 0, 250000, tzinfo=UTC)

Published = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def published() -> Iterator[Published]:
    """The live events sent, as (group, message), once their transaction commits."""
    sent: Published = []
    # Only the users' own: the company directory's phone state events are tests/test_directory.py's.
    events.set_publisher(
        lambda group, message: sent.append((group, message)) if group.startswith("user.") else None
    )
    yield sent
    events.set_publisher(None)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run a test's writes and then their on-commit hooks, as the commit of their transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _new_call(caller: Person, *, dialled: str = "101", caller_leg: bool = True) -> records.NewCall:
    call_id = uuid.uuid4()
    assert caller.user.company_id is not None
    return records.NewCall(
        call_id=call_id,
        company_id=caller.user.company_id,
        asterisk_server="ast1",
        caller_user_id=caller.user.pk,
        caller_device_id=Device.objects.get(user=caller.user).pk,
        caller_number=caller.extension,
        caller_name=caller.user.display_name,
        dialled=dialled,
        channel_id=f"chan-{call_id}",
        endpoint=caller.sip_username,
        started_at=T0,
        caller_leg=caller_leg,
    )


def _ringing_call(caller: Person, callee: Person, *, callee_name: str = "Bob") -> uuid.UUID:
    """dave calls bob: both bob's phones are rung (one of them a remote terminal)."""
    new = _new_call(caller)
    records.start_call(new)
    records.set_callee(new.call_id, user_id=callee.user.pk, number=callee.extension, name=callee_name)
    records.add_callee_leg(
        new.call_id,
        device_id=Device.objects.get(user=callee.user).pk,
        channel_id=f"chan-{new.call_id}-0",
        endpoint=callee.sip_username,
        at=T0 + timedelta(seconds=1),
    )
    records.add_callee_leg(
        new.call_id,
        device_id=None,
        channel_id=f"chan-{new.call_id}-1",
        endpoint="0612345678@carrier",
        at=T0 + timedelta(seconds=1),
    )
    records.mark_ringing(new.call_id, at=T0 + timedelta(seconds=2))
    return new.call_id


def _legs(call_id: uuid.UUID) -> dict[str, CallLeg]:
    return {
        leg.channel_id.removeprefix(f"chan-{call_id}"): leg for leg in CallLeg.objects.filter(call_id=call_id)
    }


def _events_from_the_rows(call_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """The events each user of the call should have received last, from the call row as the ORM reads it."""
    call = Call.objects.get(id=call_id)
    users = {call.caller_user_id, call.callee_user_id} - {None}
    return {
        events.user_group(user_id): events.call_event_for(call, user_id).as_message()
        for user_id in users
        if user_id is not None
    }


def _fields(instance: Call | CallLeg) -> dict[str, Any]:
    return {name: value for name, value in model_to_dict(instance).items() if name not in ("id", "call")}


# --- the rows ------------------------------------------------------------------------------------------


def test_a_new_call_is_recorded_as_the_orm_would_record_it(dave: Person) -> None:
    # given
    new = _new_call(dave)

    # when
    records.start_call(new)

    # then: the same rows as Model.objects.create with the same values (every other field at its default)
    reference = Call.objects.create(
        id=uuid.uuid4(),
        company_id=new.company_id,
        asterisk_server=new.asterisk_server,
        caller_user_id=new.caller_user_id,
        caller_device_id=new.caller_device_id,
        caller_number=new.caller_number,
        caller_name=new.caller_name,
        dialled_number=new.dialled,
        started_at=new.started_at,
    )
    reference_leg = CallLeg.objects.create(
        call=reference,
        role=LegRole.CALLER,
        device_id=new.caller_device_id,
        channel_id=new.channel_id + "-reference",
        endpoint=new.endpoint,
        started_at=new.started_at,
        answered_at=new.started_at,
    )
    call = Call.objects.get(id=new.call_id)
    assert _fields(call) == _fields(reference)
    assert call.state == CallState.ROUTING
    [leg] = call.legs.all()
    assert {**_fields(leg), "channel_id": "-"} == {**_fields(reference_leg), "channel_id": "-"}
    assert (leg.channel_id, leg.role, leg.answered_at) == (new.channel_id, LegRole.CALLER, T0)


def test_a_naive_time_is_taken_in_the_default_time_zone_as_the_orm_takes_it(dave: Person) -> None:
    # given
    naive = datetime(2025, 7, 1, 9, 0)  # noqa: DTZ001 - what the test is about
    new = dataclasses.replace(_new_call(dave), started_at=naive)

    # when
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        records.start_call(new)

    # then
    expected = timezone.make_aware(naive)
    assert Call.objects.get(id=new.call_id).started_at == expected
    assert CallLeg.objects.get(call_id=new.call_id).started_at == expected


def test_a_new_call_may_name_its_callee_at_once(dave: Person, bob: Person) -> None:
    # given
    new = _new_call(dave)
    separately = _new_call(dave)

    # when
    records.start_call(
        dataclasses.replace(new, callee_user_id=bob.user.pk, callee_number="101", callee_name="Bob")
    )
    records.start_call(separately)
    records.set_callee(separately.call_id, user_id=bob.user.pk, number="101", name="Bob")

    # then
    assert _fields(Call.objects.get(id=new.call_id)) == _fields(Call.objects.get(id=separately.call_id))


def test_a_call_back_on_a_recorded_channel_adds_no_caller_leg(dave: Person) -> None:
    # when
    new = _new_call(dave, caller_leg=False)
    records.start_call(new)

    # then
    assert Call.objects.filter(id=new.call_id).exists()
    assert not CallLeg.objects.filter(call_id=new.call_id).exists()


def test_callee_legs_and_forwarding_are_recorded(dave: Person, bob: Person) -> None:
    # when
    call_id = _ringing_call(dave, bob)
    records.set_forwarded(call_id, by_user_id=bob.user.pk)

    # then
    call = Call.objects.get(id=call_id)
    assert (call.callee_user_id, call.callee_number, call.callee_name) == (bob.user.pk, "101", "Bob")
    assert call.forwarded_by_id == bob.user.pk
    legs = _legs(call_id)
    assert (legs["-0"].role, legs["-0"].endpoint, legs["-0"].started_at) == (
        LegRole.CALLEE,
        bob.sip_username,
        T0 + timedelta(seconds=1),
    )
    assert (legs["-1"].device_id, legs["-1"].answered_at, legs["-1"].ended_at, legs["-1"].outcome) == (
        None,
        None,
        None,
        "",
    )


def test_a_call_rings_once_only_from_routing(dave: Person, bob: Person) -> None:
    # given
    call_id = _ringing_call(dave, bob)

    # when: the other phone rings a moment later, then the call is answered and a ringing comes late
    records.mark_ringing(call_id, at=T0 + timedelta(seconds=3))
    records.mark_answered(
        call_id, channel_id=f"chan-{call_id}-0", bridge_id="b1", at=T0 + timedelta(seconds=5)
    )
    records.mark_ringing(call_id, at=T0 + timedelta(seconds=6))

    # then
    call = Call.objects.get(id=call_id)
    assert (call.state, call.ringing_at) == (CallState.ANSWERED, T0 + timedelta(seconds=2))


def test_ringing_or_answering_an_unknown_call_fails_and_changes_nothing(dave: Person, bob: Person) -> None:
    # given
    call_id = _ringing_call(dave, bob)
    unknown = uuid.uuid4()

    # when / then
    with pytest.raises(Call.DoesNotExist):
        records.mark_ringing(unknown, at=T0)
    with pytest.raises(Call.DoesNotExist):
        records.mark_answered(unknown, channel_id=f"chan-{call_id}-0", bridge_id="b1", at=T0)
    assert _legs(call_id)["-0"].answered_at is None


def test_answering_records_the_call_and_the_leg_that_answered(dave: Person, bob: Person) -> None:
    # given
    call_id = _ringing_call(dave, bob)

    # when
    records.mark_answered(
        call_id, channel_id=f"chan-{call_id}-0", bridge_id="b1", at=T0 + timedelta(seconds=5)
    )

    # then
    call = Call.objects.get(id=call_id)
    assert (call.state, call.answered_at, call.bridge_id) == (
        CallState.ANSWERED,
        T0 + timedelta(seconds=5),
        "b1",
    )
    legs = _legs(call_id)
    assert (legs["-0"].answered_at, legs["-1"].answered_at) == (T0 + timedelta(seconds=5), None)


def test_a_leg_ends_once(dave: Person, bob: Person) -> None:
    # given
    call_id = _ringing_call(dave, bob)

    # when
    records.end_leg(f"chan-{call_id}-1", at=T0 + timedelta(seconds=3), outcome=CallOutcome.BUSY, cause=17)
    records.end_leg(f"chan-{call_id}-1", at=T0 + timedelta(seconds=4), outcome=CallOutcome.NO_ANSWER)

    # then
    leg = _legs(call_id)["-1"]
    assert (leg.ended_at, leg.outcome, leg.hangup_cause) == (T0 + timedelta(seconds=3), CallOutcome.BUSY, 17)


def test_ending_a_call_closes_the_legs_still_open_answered_or_not(dave: Person, bob: Person) -> None:
    # given: the remote terminal was busy; bob's phone still rings; dave's own leg is up since the start
    call_id = _ringing_call(dave, bob)
    records.end_leg(f"chan-{call_id}-1", at=T0 + timedelta(seconds=3), outcome=CallOutcome.BUSY, cause=17)

    # when
    records.end_call(
        call_id, outcome=CallOutcome.NO_ANSWER, at=T0 + timedelta(seconds=20), reason="no_answer"
    )

    # then
    call = Call.objects.get(id=call_id)
    assert (call.state, call.outcome, call.reason, call.ended_at) == (
        CallState.ENDED,
        CallOutcome.NO_ANSWER,
        "no_answer",
        T0 + timedelta(seconds=20),
    )
    ends = {suffix: (leg.ended_at, leg.outcome, leg.hangup_cause) for suffix, leg in _legs(call_id).items()}
    assert ends == {
        "": (T0 + timedelta(seconds=20), CallOutcome.ANSWERED, None),
        "-0": (T0 + timedelta(seconds=20), CallOutcome.NO_ANSWER, None),
        "-1": (T0 + timedelta(seconds=3), CallOutcome.BUSY, 17),
    }


def test_an_answered_call_ends_with_its_answered_legs_answered(dave: Person, bob: Person) -> None:
    # given
    call_id = _ringing_call(dave, bob)
    records.end_leg(f"chan-{call_id}-1", at=T0 + timedelta(seconds=4), outcome=CallOutcome.NO_ANSWER)
    records.mark_answered(
        call_id, channel_id=f"chan-{call_id}-0", bridge_id="b1", at=T0 + timedelta(seconds=5)
    )

    # when
    records.end_call(call_id, outcome=CallOutcome.ANSWERED, at=T0 + timedelta(seconds=45))

    # then
    call = Call.objects.get(id=call_id)
    assert (call.outcome, call.reason, call.duration_seconds) == (CallOutcome.ANSWERED, "", 40)
    outcomes = {suffix: (leg.outcome, leg.ended_at) for suffix, leg in _legs(call_id).items()}
    assert outcomes == {
        "": (CallOutcome.ANSWERED, T0 + timedelta(seconds=45)),
        "-0": (CallOutcome.ANSWERED, T0 + timedelta(seconds=45)),
        "-1": (CallOutcome.NO_ANSWER, T0 + timedelta(seconds=4)),
    }


def test_ending_a_call_again_changes_nothing(
    dave: Person, bob: Person, published: Published, on_commit: Any
) -> None:
    # given
    call_id = _ringing_call(dave, bob)
    records.end_call(call_id, outcome=CallOutcome.CANCELLED, at=T0 + timedelta(seconds=9))
    before = (_fields(Call.objects.get(id=call_id)), {s: _fields(leg) for s, leg in _legs(call_id).items()})

    # when: reconciliation closes it again, as lost
    with on_commit():
        records.end_call(call_id, outcome=CallOutcome.FAILED, at=T0 + timedelta(seconds=60), reason="lost")
        records.end_call(uuid.uuid4(), outcome=CallOutcome.FAILED, at=T0 + timedelta(seconds=60))

    # then
    assert (
        _fields(Call.objects.get(id=call_id)),
        {s: _fields(leg) for s, leg in _legs(call_id).items()},
    ) == before
    assert published == []


# --- the live events -----------------------------------------------------------------------------------


@pytest.mark.parametrize("callee_name", ["Bob", ""], ids=["named", "name from the directory"])
def test_each_change_tells_both_users_what_the_row_says(
    dave: Person, bob: Person, published: Published, on_commit: Any, callee_name: str
) -> None:
    # given
    with on_commit():
        call_id = _ringing_call(dave, bob, callee_name=callee_name)
    assert published and dict(published) == _events_from_the_rows(call_id)
    published.clear()

    # when / then, at each change
    with on_commit():
        records.mark_ringing(call_id, at=T0 + timedelta(seconds=3))
    assert published == []

    with on_commit():
        records.mark_answered(
            call_id, channel_id=f"chan-{call_id}-0", bridge_id="b1", at=T0 + timedelta(seconds=5)
        )
    assert len(published) == 2 and dict(published) == _events_from_the_rows(call_id)
    assert {m["event"]["state"] for _, m in published} == {"answered"}
    published.clear()

    with on_commit():
        records.end_call(call_id, outcome=CallOutcome.ANSWERED, at=T0 + timedelta(seconds=45))
    assert len(published) == 2 and dict(published) == _events_from_the_rows(call_id)
    event = dict(published)[events.user_group(dave.user.pk)]["event"]
    assert event == {
        "type": "call.state",
        "call_id": str(call_id),
        "state": "ended",
        "direction": "outgoing",
        "peer_name": callee_name or bob.user.display_name,
        "peer_number": "101",
        "started_at": T0.isoformat(),
        "answered_at": (T0 + timedelta(seconds=5)).isoformat(),
        "ended_at": (T0 + timedelta(seconds=45)).isoformat(),
        "outcome": "answered",
    }


def test_no_event_is_sent_before_the_write_commits(dave: Person, bob: Person, published: Published) -> None:
    # when: inside the test's transaction, never committed
    _ringing_call(dave, bob)

    # then
    assert published == []


# --- batches of writes (their own transactions, committed) -----------------------------------------------


def _batch_of_two_calls(dave: Person, bob: Person, carol: Person) -> tuple[list[Write], uuid.UUID, uuid.UUID]:
    first, second = _new_call(dave), _new_call(carol)
    writes: list[Write] = []
    for new, callee in ((first, bob), (second, bob)):
        writes += [
            (records.start_call, (new,), {}),
            (
                records.set_callee,
                (new.call_id,),
                {"user_id": callee.user.pk, "number": callee.extension, "name": "Bob"},
            ),
            (records.mark_ringing, (new.call_id,), {"at": T0 + timedelta(seconds=1)}),
        ]
    return writes, first.call_id, second.call_id


@pytest.mark.django_db(transaction=True)
def test_a_batch_lands_whole_and_tells_each_change_once(
    dave: Person, bob: Person, carol: Person, published: Published
) -> None:
    # given
    writes, first, second = _batch_of_two_calls(dave, bob, carol)

    # when
    outcomes = _write_batch(writes)

    # then
    assert outcomes == [None] * len(writes)
    assert Call.objects.filter(id__in=[first, second], state=CallState.RINGING).count() == 2
    assert sorted((m["event"]["call_id"], group) for group, m in published) == sorted(
        (str(call_id), events.user_group(user.user.pk))
        for call_id, caller in ((first, dave), (second, carol))
        for user in (caller, bob)
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", ["unknown call", "duplicate call", "leg of a call not recorded"])
def test_a_failing_write_of_a_batch_loses_no_other(
    dave: Person, bob: Person, carol: Person, published: Published, failure: str
) -> None:
    # given
    writes, first, second = _batch_of_two_calls(dave, bob, carol)
    if failure == "unknown call":
        failing: Write = (records.mark_ringing, (uuid.uuid4(),), {"at": T0})
    elif failure == "duplicate call":
        failing = writes[0]
    else:  # its foreign key fails only at commit, unless the batch checks it at once
        failing = (
            records.add_callee_leg,
            (uuid.uuid4(),),
            {"device_id": None, "channel_id": "chan-nowhere", "endpoint": "x", "at": T0},
        )
    writes.insert(3, failing)

    # when
    outcomes = _write_batch(writes)

    # then
    assert [o is None for o in outcomes] == [True, True, True, False, True, True, True]
    assert isinstance(outcomes[3], Call.DoesNotExist if failure == "unknown call" else IntegrityError)
    assert Call.objects.filter(id__in=[first, second], state=CallState.RINGING).count() == 2
    assert CallLeg.objects.filter(call_id__in=[first, second]).count() == 2
    assert len(published) == 4  # ringing, to caller and callee of each call: once, though replayed


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_one_failing_write_reports_it(dave: Person, published: Published) -> None:
    # given
    new = _new_call(dave)
    assert _write_batch([(records.start_call, (new,), {})]) == [None]

    # when
    [outcome] = _write_batch([(records.start_call, (new,), {})])

    # then
    assert isinstance(outcome, IntegrityError)
    assert Call.objects.filter(id=new.call_id).count() == 1
