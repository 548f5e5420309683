"""Call history through the API: newest first, filtered by direction from the requesting user's side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from telephony import records
from telephony.choices import CallOutcome

from .personas import Person

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def _call(caller: Person, callee: Person, *, at: datetime, answered: bool, end: bool = True) -> str:
    call_id = uuid.uuid4()
    assert caller.user.company_id is not None
    records.start_call(
        records.NewCall(
            call_id=call_id,
            company_id=caller.user.company_id,
            asterisk_server="ast1",
            caller_user_id=caller.user.pk,
            caller_device_id=None,
            caller_number=caller.extension,
            caller_name=caller.user.display_name,
            dialled=callee.extension,
            channel_id=f"chan-{call_id}",
            endpoint=caller.sip_username,
            started_at=at,
        )
    )
    records.set_callee(
        call_id, user_id=callee.user.pk, number=callee.extension, name=callee.user.display_name
    )
    if answered:
        records.mark_answered(
            call_id, channel_id=f"chan-{call_id}", bridge_id="b", at=at + timedelta(seconds=2)
        )
    if end:
        outcome = CallOutcome.ANSWERED if answered else CallOutcome.NO_ANSWER
        records.end_call(call_id, outcome=outcome, at=at + timedelta(seconds=42))
    return str(call_id)


@pytest.fixture
def bobs_calls(bob: Person, carol: Person, dave: Person) -> dict[str, str]:
    return {
        "placed": _call(bob, carol, at=T0, answered=True),
        "received": _call(dave, bob, at=T0 + timedelta(minutes=1), answered=True),
        "missed": _call(carol, bob, at=T0 + timedelta(minutes=2), answered=False),
    }


def _client_for(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


@pytest.mark.parametrize("direction", ["placed", "received", "missed"])
def test_calls_filter_by_direction_for_the_requesting_user(
    bobs_calls: dict[str, str], bob: Person, direction: str
) -> None:
    # when
    response = _client_for(bob).get(reverse("api:call-list"), {"direction": direction})

    # then
    results = response.json()["results"]
    assert [c["id"] for c in results] == [bobs_calls[direction]]
    assert results[0]["direction"] == direction


def test_calls_are_listed_newest_first_with_their_talk_time(bobs_calls: dict[str, str], bob: Person) -> None:
    # when
    results = _client_for(bob).get(reverse("api:call-list")).json()["results"]

    # then
    assert [c["id"] for c in results] == [bobs_calls["missed"], bobs_calls["received"], bobs_calls["placed"]]
    assert [c["duration_seconds"] for c in results] == [None, 40, 40]


def test_an_unknown_direction_is_a_clear_400(bob: Person) -> None:
    # when
    response = _client_for(bob).get(reverse("api:call-list"), {"direction": "sideways"})

    # then
    assert response.status_code == 400
    assert response.json() == {"direction": ["Choose placed, received or missed."]}


def test_calls_in_progress_are_not_history_yet(bob: Person, carol: Person) -> None:
    # given
    _call(carol, bob, at=T0, answered=True, end=False)

    # when
    response = _client_for(bob).get(reverse("api:call-list"))

    # then
    assert response.json()["count"] == 0


def test_an_admin_sees_all_company_calls_with_no_direction_on_others(
    bobs_calls: dict[str, str], alice: Person, gus: Person, gail: Person
) -> None:
    # given
    _call(gus, gail, at=T0, answered=True)

    # when
    results = _client_for(alice).get(reverse("api:call-list")).json()["results"]

    # then
    assert {c["id"] for c in results} == set(bobs_calls.values())
    assert {c["direction"] for c in results} == {None}


def test_the_call_list_costs_the_same_few_queries_however_long(
    bob: Person, carol: Person, django_assert_max_num_queries
) -> None:
    # given
    for n in range(20):
        _call(bob, carol, at=T0 + timedelta(minutes=n), answered=bool(n % 2))
    client = _client_for(bob)

    # then: count and page
    with django_assert_max_num_queries(2):
        assert client.get(reverse("api:call-list")).json()["count"] == 20
