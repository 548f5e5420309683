"""Call history through the API: newest first, filtered by direction from the requesting user's side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from .personas import Person, record_call

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def bobs_calls(bob: Person, carol: Person, dave: Person) -> dict[str, str]:
    return {
        "placed": str(record_call(bob, carol, at=T0, answered=True)),
        "received": str(record_call(dave, bob, at=T0 + timedelta(minutes=1), answered=True)),
        "missed": str(record_call(carol, bob, at=T0 + timedelta(minutes=2), answered=False)),
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
    record_call(carol, bob, at=T0, answered=True, end=False)

    # when
    response = _client_for(bob).get(reverse("api:call-list"))

    # then
    assert response.json()["count"] == 0


def test_an_admin_sees_all_company_calls_with_no_direction_on_others(
    bobs_calls: dict[str, str], alice: Person, gus: Person, gail: Person
) -> None:
    # given
    record_call(gus, gail, at=T0, answered=True)

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
        record_call(bob, carol, at=T0 + timedelta(minutes=n), answered=bool(n % 2))
    client = _client_for(bob)

    # then: count and page
    with django_assert_max_num_queries(2):
        assert client.get(reverse("api:call-list")).json()["count"] == 20
