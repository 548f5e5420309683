"""The company directory (myCompany): each colleague of one's own company with their presence, do not
disturb and phone state, on the portal page and through the API, kept live by `directory.status` events
sent to the company's browsers after each commit; and its Call button (click-to-call)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from config.asgi import application
from directory.tokens import issue_token
from telephony import events, records
from telephony.actions import call_settings as call_settings_actions
from telephony.actions import devices as device_actions
from telephony.actions import dial_plan as dial_plan_actions
from telephony.choices import CallOutcome
from telephony.events import PhoneState
from telephony.models import Call

from .personas import Person, make_person

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")

Sent = list[tuple[str, dict[str, Any]]]


@pytest.fixture(autouse=True)
def unregistered(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Asterisk reports every SIP phone of the test's users registered, but those a test puts in the
    returned set (a live Asterisk is the end-to-end tests' business)."""
    from telephony import availability
    from telephony.models import Device

    off: set[str] = set()

    def registered_endpoints() -> set[str]:
        return set(Device.objects.values_list("sip_username", flat=True)) - off

    monkeypatch.setattr(availability, "registered_endpoints", registered_endpoints)
    return off


@pytest.fixture(autouse=True)
def fresh_directory_state() -> Iterator[None]:
    """The phone states and directory lines a process has seen belong to its own calls and users."""
    events.phone_states.clear()
    events.directory_lines.clear()
    yield
    events.phone_states.clear()
    events.directory_lines.clear()


@pytest.fixture
def sent() -> Iterator[Sent]:
    """Every live event sent, as (group, event), once its transaction commits."""
    messages: Sent = []
    events.set_publisher(lambda group, message: messages.append((group, message["event"])))
    yield messages
    events.set_publisher(None)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run a test's writes and then their on-commit hooks, as the commit of their transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _directory_events(sent: Sent, person: Person) -> list[dict[str, Any]]:
    """The directory events sent to the browsers of `person`'s company."""
    assert person.user.company_id is not None
    group = events.company_group(person.user.company_id)
    return [event for to, event in sent if to == group and event["type"] == "directory.status"]


def _page(person: Person, **params: str) -> str:
    client = Client()
    client.force_login(person.user)
    response = client.get(reverse("portal:directory"), params)
    assert response.status_code == 200
    return response.content.decode()


def _rows(html: str) -> dict[str, str]:
    """Each line of the directory table by its extension: the row's tag and text."""
    rows = re.findall(r'(<tr class="colleague" data-extension="(\d*)".*?</tr>)', html, re.S)
    return {extension: unescape(row) for row, extension in rows}


def _attribute(row: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', row)
    assert match is not None, name
    return match.group(1)


def _call(caller: Person, callee: Person) -> uuid.UUID:
    call_id = uuid.uuid4()
    assert caller.user.company_id is not None
    records.start_call(
        records.NewCall(
            call_id=call_id, company_id=caller.user.company_id, asterisk_server="ast1",
            caller_user_id=caller.user.pk, caller_device_id=None, caller_number=caller.extension,
            caller_name=caller.user.display_name, dialled=callee.extension, channel_id=f"chan-{call_id}",
            endpoint=caller.sip_username, started_at=T0,
        )
    )  # fmt: skip
    records.set_callee(
        call_id, user_id=callee.user.pk, number=callee.extension, name=callee.user.display_name
    )
    return call_id


# --- the page ----------------------------------------------------------------------------------------


def test_the_directory_lists_my_company_only(
    alice: Person, bob: Person, carol: Person, gina: Person, gus: Person
) -> None:
    # when
    acme_rows = _rows(_page(bob))
    globex_rows = _rows(_page(gus))

    # then
    assert set(acme_rows) == {"100", "101", "102"}
    assert "Carol" in acme_rows["102"] and "Gus" not in "".join(acme_rows.values())
    assert set(globex_rows) == {"100", "101"}
    assert "Gus" in globex_rows["101"]
    for acme_name in ("Alice", "Bob", "Carol"):
        assert acme_name not in "".join(globex_rows.values())


def test_search_by_name_or_extension_on_the_server(alice: Person, bob: Person, carol: Person) -> None:
    # when
    by_name = _rows(_page(bob, q="car"))
    by_extension = _rows(_page(bob, q="100"))
    by_both = _rows(_page(bob, q="Carol 102"))
    nobody = _page(bob, q="zorglub")

    # then
    assert set(by_name) == {"102"}
    assert set(by_extension) == {"100"}
    assert set(by_both) == {"102"}
    assert _rows(nobody) == {} and "Nobody matches your search." in nobody


def test_a_line_shows_presence_dnd_phone_state_and_public_number(
    alice: Person, bob: Person, carol: Person
) -> None:
    # given: carol in a meeting, DND on, ringing; alice has a public number and is in a call with dave
    assert carol.user.company is not None
    call_settings_actions.set_presence(user=carol.user, presence="meeting")
    call_settings_actions.set_dnd(user=carol.user, on=True)
    dial_plan_actions.create_phone_number(
        company=carol.user.company, number="+33140000100", destination="user", user=alice.user
    )
    records.mark_ringing(_call(bob, carol), at=T0 + timedelta(seconds=1))

    # when
    rows = _rows(_page(alice))

    # then
    carol_row = rows["102"]
    assert (_attribute(carol_row, "data-presence"), _attribute(carol_row, "data-dnd")) == ("meeting", "1")
    assert _attribute(carol_row, "data-phone-state") == "ringing"
    assert "in a meeting" in carol_row and "Do not disturb" in carol_row
    assert re.search(r'class="badge off dnd-marker"\s*>', carol_row)  # shown, not hidden
    bob_row = rows["101"]
    assert (_attribute(bob_row, "data-dnd"), _attribute(bob_row, "data-phone-state")) == ("0", "in_call")
    assert re.search(r'class="badge off dnd-marker"\s+hidden', bob_row)
    assert "+33140000100" in rows["100"]
    assert _attribute(rows["100"], "data-phone-state") == "idle"


def test_i_may_call_everyone_but_myself(alice: Person, bob: Person, carol: Person) -> None:
    # when
    rows = _rows(_page(bob))

    # then
    assert "call-button" in rows["100"] and "call-button" in rows["102"]
    assert "call-button" not in rows["101"]


def test_the_page_costs_the_same_queries_however_many_colleagues(
    alice: Person, bob: Person, carol: Person
) -> None:
    # given
    assert alice.user.company is not None
    client = Client()
    client.force_login(bob.user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("portal:directory")).status_code == 200
        return len(captured)

    few = queries()

    # when: more colleagues, with settings, public numbers and calls
    for n, name in enumerate(["erin", "frank", "grace"]):
        person = make_person(alice.user.company, name, f"12{n}")
        call_settings_actions.set_presence(user=person.user, presence="at_work")
        dial_plan_actions.create_phone_number(
            company=alice.user.company, number=f"+3314000012{n}", destination="user", user=person.user
        )
        records.mark_ringing(_call(person, carol), at=T0)

    # then
    assert queries() == few


def test_the_nav_links_to_the_directory(bob: Person) -> None:
    client = Client()
    client.force_login(bob.user)
    html = client.get(reverse("portal:myistra")).content.decode()
    assert f'href="{reverse("portal:directory")}" id="directory-nav"' in html


def test_the_page_speaks_the_users_language(gina: Person, gus: Person) -> None:
    # given
    gus.user.language = "fr"
    gus.user.save(update_fields=["language"])

    # when
    html = _page(gus)

    # then
    assert "Annuaire" in html and "Appeler" in html and "disponible" in html and "Rechercher" in html


def test_the_status_snapshot_is_json_for_my_company(bob: Person, carol: Person, gus: Person) -> None:
    # given
    call_settings_actions.set_dnd(user=carol.user, on=True)
    client = Client()
    client.force_login(bob.user)

    # when
    data = client.get(reverse("portal:directory_status")).json()

    # then
    assert {line["extension"]: line for line in data["colleagues"]} == {
        "101": {"extension": "101", "presence": "available", "dnd": False, "phone_state": "idle"},
        "102": {"extension": "102", "presence": "available", "dnd": True, "phone_state": "idle"},
    }
    assert Client().get(reverse("portal:directory_status")).status_code == 401


# --- unavailable: no phone can ring ------------------------------------------------------------------


def _phones(person: Person) -> list[str]:
    from telephony.models import Device

    return list(Device.objects.filter(user=person.user).values_list("sip_username", flat=True))


def _states(person: Person) -> dict[str, str]:
    client = Client()
    client.force_login(person.user)
    data = client.get(reverse("portal:directory_status")).json()
    return {line["extension"]: line["phone_state"] for line in data["colleagues"]}


def test_a_colleague_whose_phones_are_all_unregistered_is_unavailable(
    bob: Person, carol: Person, unregistered: set[str]
) -> None:
    # given: carol's desk phone is off
    unregistered.update(_phones(carol))

    # when / then
    assert _states(bob) == {"101": "idle", "102": "unavailable"}
    row = _rows(_page(bob))["102"]
    assert _attribute(row, "data-phone-state") == "unavailable" and "unavailable" in row


def test_a_remote_terminal_keeps_a_colleague_available(
    bob: Person, carol: Person, unregistered: set[str]
) -> None:
    # given: carol's desk phone is off, but her mobile rings with it
    device_actions.add_remote_terminal(user=carol.user, number="0612345678")
    unregistered.update(_phones(carol))

    assert _states(bob)["102"] == "idle"


def test_a_colleague_without_any_phone_is_unavailable(bob: Person, carol: Person) -> None:
    from telephony.models import Device

    Device.objects.filter(user=carol.user).delete()

    assert _states(bob)["102"] == "unavailable"


def test_a_call_shows_over_unavailable(bob: Person, carol: Person, unregistered: set[str]) -> None:
    # given: carol, desk phone off, is called (her mobile would ring)
    unregistered.update(_phones(carol))
    records.mark_ringing(_call(bob, carol), at=T0 + timedelta(seconds=1))

    assert _states(bob)["102"] == "ringing"


def test_nobody_is_shown_unavailable_when_asterisk_cannot_say(
    bob: Person, carol: Person, unregistered: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from telephony import availability

    unregistered.update(_phones(carol))
    monkeypatch.setattr(availability, "registered_endpoints", lambda: None)

    assert _states(bob)["102"] == "idle"


def test_the_bridge_tells_the_directory_when_phones_go_and_come_back(
    bob: Person, carol: Person, gus: Person, sent: Sent
) -> None:
    assert bob.user.company is not None
    # when carol's phones go, then come back
    events.publish_reachability({carol.user.pk: False})
    gone = [(e["extension"], e["phone_state"]) for e in _directory_events(sent, bob)]
    sent.clear()
    events.publish_reachability({carol.user.pk: True})
    back = [(e["extension"], e["phone_state"]) for e in _directory_events(sent, bob)]

    # then
    assert gone == [("102", "unavailable")] and back == [("102", "idle")]
    assert _directory_events(sent, gus) == []


def test_a_phone_coming_back_is_told_even_to_a_directory_the_bridge_thought_knew(
    bob: Person, carol: Person, sent: Sent
) -> None:
    # the bridge never heard carol was unavailable (she was created after it started), but the page
    # bob loaded asked Asterisk and showed her so: her phone registering must still be told
    events.publish_reachability({carol.user.pk: True})

    assert [(e["extension"], e["phone_state"]) for e in _directory_events(sent, bob)] == [("102", "idle")]


def test_a_phone_coming_back_during_a_call_tells_the_call(
    bob: Person, carol: Person, sent: Sent, on_commit: Any
) -> None:
    with on_commit():
        records.mark_ringing(_call(bob, carol), at=T0 + timedelta(seconds=1))
    sent.clear()

    events.publish_reachability({carol.user.pk: True})

    assert [(e["extension"], e["phone_state"]) for e in _directory_events(sent, bob)] == [("102", "ringing")]


# --- the Call button ---------------------------------------------------------------------------------


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Click-to-call requests, as (user, number), instead of Asterisk originating them."""
    calls: list[tuple[str, str]] = []

    def place_call(*, user: Any, number: str, message_only: bool = False) -> str:
        calls.append((user.username, number))
        return "channel"

    monkeypatch.setattr("telephony.clicktocall.place_call", place_call)
    return calls


def test_call_rings_my_phone_then_the_colleague(bob: Person, carol: Person, placed: list[Any]) -> None:
    # given
    client = Client()
    client.force_login(bob.user)

    # when
    response = client.post(
        reverse("portal:directory_call"), {"extension": "102"}, headers={"HX-Request": "true"}
    )

    # then the answer is the line of feedback the page swaps in
    html = response.content.decode()
    assert response.status_code == 200 and 'id="directory-feedback"' in html
    assert "Your phone is ringing: answer it to call Carol" in html and "error" not in html
    assert placed == [("bob", "102")]


def test_call_refuses_myself_and_other_companies(
    bob: Person, carol: Person, gus: Person, gail: Person, placed: list[Any]
) -> None:
    # given
    client = Client()
    client.force_login(gus.user)

    # when
    myself = client.post(reverse("portal:directory_call"), {"extension": "101"})
    unknown = client.post(reverse("portal:directory_call"), {"extension": "103"})
    gail_call = client.post(reverse("portal:directory_call"), {"extension": "102"})

    # then: Globex's 102 is Gail, never Carol
    assert myself.status_code == 302 and unknown.status_code == 404
    assert placed == [("gus", "102")] and gail_call.status_code == 302


# --- the API -----------------------------------------------------------------------------------------


def _api_lines(client: APIClient, **params: str) -> list[dict[str, Any]]:
    response = client.get(reverse("directory-api:list"), params)
    assert response.status_code == 200
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_the_api_lists_my_colleagues_with_their_status(alice: Person, bob: Person, carol: Person) -> None:
    # given
    assert carol.user.company is not None
    call_settings_actions.set_dnd(user=carol.user, on=True)
    call_settings_actions.set_presence(user=carol.user, presence="holiday")
    dial_plan_actions.create_phone_number(
        company=carol.user.company, number="+33140000102", destination="user", user=carol.user
    )
    records.mark_answered(_call(bob, carol), channel_id="x", bridge_id="b", at=T0 + timedelta(seconds=5))
    client = APIClient()
    client.force_authenticate(alice.user)

    # when
    lines = {line["extension"]: line for line in _api_lines(client)}

    # then
    assert lines["102"] == {
        "id": carol.user.pk,
        "name": carol.user.display_name,
        "extension": "102",
        "public_numbers": ["+33140000102"],
        "presence": "holiday",
        "dnd": True,
        "phone_state": "in_call",
    }
    assert (lines["101"]["phone_state"], lines["100"]["phone_state"]) == ("in_call", "idle")
    assert [line["extension"] for line in _api_lines(client, q="bob")] == ["101"]
    assert [line["extension"] for line in _api_lines(client, q="102")] == ["102"]


def test_globex_token_gets_none_of_acme(alice: Person, bob: Person, carol: Person, gus: Person) -> None:
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(gus.user)[0]}")

    # when
    lines = _api_lines(client)
    searched = _api_lines(client, q="carol")

    # then
    assert [line["id"] for line in lines] == [gus.user.pk]
    assert searched == []


def test_the_api_wants_a_login(bob: Person) -> None:
    assert APIClient().get(reverse("directory-api:list")).status_code in (401, 403)


# --- live events: presence and DND -------------------------------------------------------------------


def test_dnd_on_tells_the_company_directory_after_commit(
    bob: Person, carol: Person, gus: Person, sent: Sent, on_commit: Any
) -> None:
    # when
    with on_commit():
        call_settings_actions.set_dnd(user=carol.user, on=True)
        assert _directory_events(sent, carol) == []  # not before the commit

    # then: to Acme's directory only (Globex's hears nothing)
    assert _directory_events(sent, carol) == [
        {
            "type": "directory.status",
            "extension": "102",
            "presence": "available",
            "dnd": True,
            "phone_state": None,
        }
    ]
    assert _directory_events(sent, gus) == []


def test_a_dnd_or_presence_change_is_told_once_and_a_non_change_not_at_all(
    bob: Person, carol: Person, gus: Person, sent: Sent, on_commit: Any
) -> None:
    # when
    with on_commit():
        call_settings_actions.set_dnd(user=carol.user, on=True)
    with on_commit():
        call_settings_actions.set_dnd(user=carol.user, on=True)  # already on
    with on_commit():
        call_settings_actions.set_presence(user=carol.user, presence="sick")

    # then
    assert [(e["extension"], e["dnd"], e["presence"]) for e in _directory_events(sent, carol)] == [
        ("102", True, "available"),
        ("102", True, "sick"),
    ]
    assert _directory_events(sent, gus) == []


def test_dnd_from_the_portal_and_the_api_tells_the_directory(
    bob: Person, carol: Person, sent: Sent, on_commit: Any
) -> None:
    # given
    portal = Client()
    portal.force_login(carol.user)
    api = APIClient()
    api.force_authenticate(carol.user)

    # when
    with on_commit():
        portal.post(reverse("portal:set_dnd"), {"dnd": "on"})
    with on_commit():
        api.patch(reverse("api:my-settings"), {"dnd": False, "presence": "training"}, format="json")

    # then
    assert [(e["dnd"], e["presence"]) for e in _directory_events(sent, carol)] == [
        (True, "available"),
        (False, "training"),
    ]


# --- live events: phone state ------------------------------------------------------------------------


def test_a_call_tells_the_directory_each_change_of_phone_state(
    bob: Person, carol: Person, gus: Person, sent: Sent, on_commit: Any
) -> None:
    # given
    with on_commit():
        call_id = _call(bob, carol)
    assert _directory_events(sent, carol) == []  # routing: nobody's phone rings yet

    def states() -> set[tuple[str, str | None]]:
        told = {(e["extension"], e["phone_state"]) for e in _directory_events(sent, carol)}
        sent.clear()
        return told

    # when / then
    with on_commit():
        records.mark_ringing(call_id, at=T0 + timedelta(seconds=1))
    assert states() == {("102", "ringing"), ("101", "in_call")}

    with on_commit():
        records.mark_ringing(call_id, at=T0 + timedelta(seconds=2))  # another phone: no change
    assert states() == set()

    with on_commit():
        records.mark_answered(call_id, channel_id="x", bridge_id="b", at=T0 + timedelta(seconds=5))
    assert states() == {("102", "in_call")}  # bob was in the call already

    with on_commit():
        records.end_call(call_id, outcome=CallOutcome.ANSWERED, at=T0 + timedelta(seconds=45))
    assert states() == {("102", "idle"), ("101", "idle")}
    assert _directory_events(sent, gus) == []


def test_phone_state_events_carry_nothing_of_presence_and_cost_no_query_per_event(
    bob: Person, carol: Person, sent: Sent, on_commit: Any, django_assert_num_queries: Any
) -> None:
    # given: the directory lines of Acme read once
    with on_commit():
        first = _call(bob, carol)
        records.mark_ringing(first, at=T0)
        records.end_call(first, outcome=CallOutcome.CANCELLED, at=T0)
    second = _call(bob, carol)
    sent.clear()

    # when: a call rings, is answered and ends, each write its own transaction
    with django_assert_num_queries(3), on_commit():  # the three writes, and nothing for the events
        records.mark_ringing(second, at=T0)
        records.mark_answered(second, channel_id="x", bridge_id="b", at=T0)
        records.end_call(second, outcome=CallOutcome.ANSWERED, at=T0)

    # then
    [event, *_others] = _directory_events(sent, carol)
    assert event["presence"] is None and event["dnd"] is None


def test_call_waiting_keeps_in_a_call_and_forwarding_stops_the_first_callee_ringing(
    bob: Person, carol: Person, dave: Person, alice: Person, sent: Sent, on_commit: Any
) -> None:
    # given: carol in a call with bob
    with on_commit():
        first = _call(bob, carol)
        records.mark_answered(first, channel_id="x", bridge_id="b", at=T0)
    sent.clear()

    # when: dave calls carol too (call waiting)
    with on_commit():
        second = _call(dave, carol)
        records.mark_ringing(second, at=T0)

    # then: carol stays in a call
    assert {(e["extension"], e["phone_state"]) for e in _directory_events(sent, carol)} == {
        ("103", "in_call")
    }
    sent.clear()

    # when: carol does not answer and her rule forwards the call to alice, who answers
    with on_commit():
        records.set_callee(second, user_id=alice.user.pk, number="100", name="Alice")
        records.mark_answered(second, channel_id="y", bridge_id="b2", at=T0)

    # then: alice is in a call; carol, in her first call, unchanged
    assert {(e["extension"], e["phone_state"]) for e in _directory_events(sent, carol)} == {
        ("100", "in_call")
    }


def test_the_rule_of_the_live_events_is_the_rule_of_the_page(
    bob: Person, carol: Person, dave: Person, alice: Person
) -> None:
    # given: dave calls carol, whose phones ring; her no-answer rule forwards the call to alice
    tracker = events.PhoneStates()
    call_id = _call(dave, carol)
    records.mark_ringing(call_id, at=T0)
    ringing = Call.objects.get(id=call_id)
    for person in (dave, carol):
        tracker.apply(person.user.pk, events.call_event_for(ringing, person.user.pk))
    records.set_callee(call_id, user_id=alice.user.pk, number="100", name="Alice")

    # when: alice hears of the call
    told = tracker.apply(alice.user.pk, events.call_event_for(Call.objects.get(id=call_id), alice.user.pk))

    # then: carol's phone stops ringing as alice's starts, as the page would show it
    assert sorted(told) == sorted([(alice.user.pk, PhoneState.RINGING), (carol.user.pk, PhoneState.IDLE)])
    rows = _rows(_page(bob))
    assert [_attribute(rows[ext], "data-phone-state") for ext in ("100", "102", "103")] == [
        "ringing",
        "idle",
        "in_call",
    ]


# --- the socket --------------------------------------------------------------------------------------


@pytest.fixture
def in_memory_channel_layer(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Channels closes "old" DB connections around its session lookup: not the test's own connection.
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def _cookie(person: Person) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(person.user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def test_only_directory_tabs_of_the_company_hear_a_colleague_change(
    in_memory_channel_layer: None,
    bob: Person,
    carol: Person,
    gus: Person,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    bob_cookie, gus_cookie = _cookie(bob), _cookie(gus)

    def carol_turns_dnd_on() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            call_settings_actions.set_dnd(user=carol.user, on=True)

    async def scenario() -> tuple[dict[str, Any], bool, bool]:
        directory_tab = WebsocketCommunicator(
            application, "/ws/live/?directory=1", headers=[ORIGIN, bob_cookie]
        )
        other_tab = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN, bob_cookie])
        globex_tab = WebsocketCommunicator(application, "/ws/live/?directory=1", headers=[ORIGIN, gus_cookie])
        for tab in (directory_tab, other_tab, globex_tab):
            assert (await tab.connect())[0]

        # when
        await sync_to_async(carol_turns_dnd_on)()

        # then
        event = await directory_tab.receive_json_from(timeout=2)
        other_heard_nothing = await other_tab.receive_nothing(timeout=0.2)
        globex_heard_nothing = await globex_tab.receive_nothing(timeout=0.2)
        for tab in (directory_tab, other_tab, globex_tab):
            await tab.disconnect()
        return event, other_heard_nothing, globex_heard_nothing

    event, other_heard_nothing, globex_heard_nothing = async_to_sync(scenario)()
    assert event == {
        "type": "directory.status",
        "extension": "102",
        "presence": "available",
        "dnd": True,
        "phone_state": None,
    }
    assert other_heard_nothing and globex_heard_nothing
