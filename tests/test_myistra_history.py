"""MyIstra's call history: bob pages through it, shows only missed, received or placed calls, searches
it by name or number, and calls back from a row; the live refresh keeps what he chose; a page costs
the same queries however long the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from portal import calls
from tests.personas import Person, record_call

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls_made: list[tuple[str, str]] = []

    def place_call(*, user: Any, number: str, message_only: bool = False) -> str:
        calls_made.append((user.username, number))
        return "channel"

    monkeypatch.setattr("telephony.clicktocall.place_call", place_call)
    return calls_made


@pytest.fixture
def history(bob: Person, carol: Person, dave: Person) -> None:
    """Oldest first: bob calls carol, dave calls bob (answered), carol calls bob (missed), 30 more missed."""
    record_call(bob, carol, at=T0, answered=True)
    record_call(dave, bob, at=T0 + timedelta(minutes=1), answered=True)
    for n in range(31):
        record_call(carol, bob, at=T0 + timedelta(minutes=2 + n), answered=False)


def _directions(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('data-direction="')[1:]]


def test_each_filter_shows_only_its_calls(client: Client, bob: Person, history: None) -> None:
    client.force_login(bob.user)
    assert set(_directions(client.get(reverse("portal:history"), {"kind": "missed"}).content.decode())) == {
        "missed"
    }
    assert _directions(client.get(reverse("portal:history"), {"kind": "received"}).content.decode()) == [
        "received"
    ]
    assert _directions(client.get(reverse("portal:history"), {"kind": "placed"}).content.decode()) == [
        "placed"
    ]


def test_the_history_pages_newest_first(client: Client, bob: Person, history: None) -> None:
    client.force_login(bob.user)
    first = client.get(reverse("portal:myistra")).content.decode()
    assert len(_directions(first)) == calls.HISTORY_PAGE and 'id="history-older"' in first
    assert 'id="history-newer"' not in first
    second = client.get(reverse("portal:myistra"), {"page": "2"}).content.decode()
    assert _directions(second)[-2:] == ["received", "placed"]  # the oldest two, last
    assert 'id="history-newer"' in second and 'id="history-older"' not in second


def test_searching_finds_calls_by_name_or_number(client: Client, bob: Person, history: None) -> None:
    client.force_login(bob.user)
    assert _directions(client.get(reverse("portal:history"), {"q": "dave"}).content.decode()) == ["received"]
    assert _directions(client.get(reverse("portal:history"), {"q": "103"}).content.decode()) == ["received"]
    nothing = client.get(reverse("portal:history"), {"q": "nobody"}).content.decode()
    assert "No call matches." in nothing


def test_the_live_refresh_keeps_the_filter_and_search(client: Client, bob: Person, history: None) -> None:
    client.force_login(bob.user)
    html = client.get(reverse("portal:history"), {"kind": "missed", "q": "car"}).content.decode()
    assert 'hx-get="/me/history/?kind=missed&amp;q=car"' in html


def test_bob_calls_back_from_a_row(client: Client, bob: Person, history: None, placed: list[Any]) -> None:
    # given
    client.force_login(bob.user)
    html = client.get(reverse("portal:history"), {"kind": "received"}).content.decode()
    assert 'name="number" value="103"' in html

    # when he presses Call back on dave's call
    response = client.post(reverse("portal:place_call"), {"number": "103"}, follow=True)

    # then his phone rings first, to call dave
    assert placed == [("bob", "103")]
    assert "Your phone is ringing: answer it to call 103." in response.content.decode()


def test_a_page_of_history_costs_the_same_queries_however_long_it_is(
    client: Client, bob: Person, history: None, django_assert_max_num_queries: Any
) -> None:
    client.force_login(bob.user)
    with django_assert_max_num_queries(
        5
    ):  # session, user, company (its time zone), the calls, their messages
        response = client.get(reverse("portal:history"), {"kind": "missed", "page": "2"})
    assert len(_directions(response.content.decode())) == 31 - calls.HISTORY_PAGE


def test_the_home_says_first_how_many_calls_were_missed_this_week_and_new_messages(
    client: Client, bob: Person, carol: Person
) -> None:
    from django.utils import timezone

    now = timezone.now()
    record_call(carol, bob, at=now - timedelta(days=1), answered=False)
    record_call(carol, bob, at=now - timedelta(days=2), answered=False)
    record_call(carol, bob, at=now - timedelta(days=9), answered=False)  # last week's
    record_call(carol, bob, at=now - timedelta(days=1), answered=True)
    client.force_login(bob.user)
    html = client.get(reverse("portal:myistra")).content.decode()
    assert ">2 missed calls this week</a>" in html
    assert ">0 new messages</a>" in html


def test_a_call_that_left_a_message_links_to_it(client: Client, bob: Person, carol: Person) -> None:
    from tests.voicemails import Recorder, leave_message

    call_id = record_call(carol, bob, at=T0, answered=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("voicemail.mwi.publish", Recorder())
        patch.setattr("voicemail.tasks.notify_new_message", Recorder())
        message = leave_message(bob, seconds=2, at=T0)
    from voicemail.models import Message

    Message.objects.filter(pk=message.id).update(call_id=call_id)
    record_call(carol, bob, at=T0 + timedelta(minutes=5), answered=False)  # left nothing
    client.force_login(bob.user)
    html = client.get(reverse("portal:history")).content.decode()
    assert html.count('class="left-message"') == 1
    assert f'href="/me/voicemail/#message-{message.id}"' in html
