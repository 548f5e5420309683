"""MyIstra's presence bar (presence, do not disturb) and forwarding rules, as a browser sees them."""

from __future__ import annotations

import re
from datetime import time
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from directory.models import Company
from telephony.actions import call_settings as call_settings_actions
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.choices import BarringDirection, NumberClass, Presence, RuleCondition, RuleDestination
from telephony.models import CallSettings, ForwardingRule

from .conftest import PublishedEvents
from .personas import Person


def _logged_in(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


def _rule_form(**overrides: Any) -> dict[str, Any]:
    """What the "add a rule" form posts for "always forward to 102", changed by `overrides`."""
    data: dict[str, Any] = {
        "label": "",
        "condition": "always",
        "no_answer_after": "15",
        "origin": "all",
        "callers": "",
        "destination": "number",
        "destination_number": "102",
        "time_from": "",
        "time_to": "",
        "enabled": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _errors_of(html: str) -> str:
    """The text of the page's error lists, to check what the user is told."""
    return unescape(" ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)))


# --- Presence and do not disturb --------------------------------------------------------------------


def test_myistra_shows_my_presence_and_that_i_am_available_for_calls(client: Client, bob: Person) -> None:
    # when
    html = _logged_in(client, bob).get(reverse("portal:myistra")).content.decode()

    # then
    assert 'id="presence"' in html
    assert '<option value="available" selected>' in html
    assert 'data-dnd="off"' in html
    assert "Available for calls" in html
    assert 'id="dnd-toggle"' in html


def test_myistra_shows_do_not_disturb_when_it_is_on(client: Client, bob: Person) -> None:
    # given
    call_settings_actions.set_dnd(user=bob.user, on=True)
    call_settings_actions.set_presence(user=bob.user, presence=Presence.MEETING)

    # when
    html = _logged_in(client, bob).get(reverse("portal:myistra")).content.decode()

    # then
    assert 'data-dnd="on"' in html
    assert "Do not disturb" in html
    assert '<option value="meeting" selected>' in html


def test_turning_dnd_on_in_myistra_saves_it_and_tells_my_browsers(
    client: Client, bob: Person, published: PublishedEvents, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    _logged_in(client, bob)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:set_dnd"), {"dnd": "on", "next": "/me/forwarding/"})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/me/forwarding/"
    assert CallSettings.objects.get(user=bob.user).dnd is True
    assert published.to(bob) == [{"type": "settings.changed", "dnd": True, "presence": "available"}]


def test_the_page_gets_its_presence_bar_back_showing_the_new_state(client: Client, bob: Person) -> None:
    # given
    _logged_in(client, bob)

    # when
    response = client.post(
        reverse("portal:set_presence"), {"presence": "holiday"}, headers={"HX-Request": "true"}
    )

    # then
    html = response.content.decode()
    assert html.lstrip().startswith("<section") and 'id="status-bar"' in html
    assert '<option value="holiday" selected>' in html
    assert "<html" not in html


def test_an_unknown_presence_is_refused(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(reverse("portal:set_presence"), {"presence": "asleep"})

    # then
    assert response.status_code == 400
    assert call_settings_actions.call_settings_for(bob.user).presence == Presence.AVAILABLE


def test_a_redirect_after_a_status_change_never_leaves_the_site(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:set_dnd"), {"dnd": "off", "next": "https://evil.example/"}
    )

    # then
    assert response["Location"] == reverse("portal:myistra")


def test_the_status_snapshot_is_my_dnd_and_presence(client: Client, bob: Person) -> None:
    # given
    call_settings_actions.set_dnd(user=bob.user, on=True)

    # when
    response = _logged_in(client, bob).get(reverse("portal:status_snapshot"))

    # then
    assert response.json() == {"dnd": True, "presence": "available"}


def test_the_status_snapshot_answers_401_once_logged_out(client: Client, db: None) -> None:
    assert client.get(reverse("portal:status_snapshot")).status_code == 401


def test_myistra_speaks_french_for_a_french_company(client: Client, gus: Person) -> None:
    # given
    Company.objects.filter(users=gus.user).update(language="fr")
    call_settings_actions.set_dnd(user=gus.user, on=True)

    # when
    html = _logged_in(client, gus).get(reverse("portal:myistra")).content.decode()

    # then
    assert "Ne pas déranger" in html
    assert "Ma présence" in html


# --- The forwarding rules page ----------------------------------------------------------------------


def test_forwarding_page_lists_my_rules_in_order_in_words(client: Client, bob: Person) -> None:
    # given
    call_settings_actions.update_call_settings(user=bob.user, mobile_number="0612345678")
    forwarding_actions.create_forwarding_rule(
        user=bob.user,
        label="Lunch",
        condition=RuleCondition.NO_ANSWER,
        no_answer_after=20,
        origin="listed",
        callers=["103", "06 98 76 54 32"],
        presences=[Presence.MEETING, Presence.AT_WORK],
        days=[1, 0],
        time_from=time(12, 0),
        time_to=time(14, 0),
        destination=RuleDestination.MOBILE,
    )
    forwarding_actions.create_forwarding_rule(
        user=bob.user, label="Holidays", condition=RuleCondition.ALWAYS, destination=RuleDestination.VOICEMAIL
    )

    # when
    html = _logged_in(client, bob).get(reverse("portal:forwarding")).content.decode()

    # then
    rows = re.findall(r'<tr class="rule-row[^"]*" data-rule-id="\d+"', html)
    assert len(rows) == 2
    assert html.index("Lunch") < html.index("Holidays")
    assert "when I do not answer within 20 s" in html
    assert "these callers only: 103, 0698765432" in html
    assert "at work, in a meeting" in html
    assert "Mon, Tue" in html
    assert "12:00 - 14:00" in html
    assert "my mobile number (0612345678)" in html
    assert "my voicemail" in html


def test_forwarding_page_explains_which_rule_wins(client: Client, bob: Person) -> None:
    # when
    html = _logged_in(client, bob).get(reverse("portal:forwarding")).content.decode()

    # then
    precedence = html[html.index('id="precedence"') :]
    for words in (
        "always",
        "do not disturb",
        "unreachable",
        "busy",
        "do not answer",
        "the first in this list wins",
    ):
        assert words in precedence


def test_adding_a_rule_lists_it_and_tells_my_browsers(
    client: Client,
    bob: Person,
    carol: Person,
    published: PublishedEvents,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    _logged_in(client, bob)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:forwarding_create"), _rule_form(label="To Carol", destination_number="102")
        )

    # then
    assert response.status_code == 302
    rule = ForwardingRule.objects.get(user=bob.user)
    assert (rule.label, rule.condition, rule.destination_number, rule.enabled) == (
        "To Carol",
        "always",
        "102",
        True,
    )
    assert [e["type"] for e in published.to(bob)] == ["settings.changed"]
    assert "To Carol" in client.get(reverse("portal:forwarding")).content.decode()


def test_an_outside_destination_is_kept_in_international_form(client: Client, bob: Person) -> None:
    # when
    _logged_in(client, bob).post(
        reverse("portal:forwarding_create"), _rule_form(destination_number="06 12 34 56 78")
    )

    # then
    assert ForwardingRule.objects.get(user=bob.user).destination_number == "+33612345678"


def test_a_forward_to_a_number_i_may_not_call_is_refused_with_why_and_keeps_my_input(
    client: Client, alice: Person, bob: Person
) -> None:
    # given
    assert bob.user.company is not None
    dial_plan_actions.create_barring_rule(
        company=bob.user.company, direction=BarringDirection.OUTGOING, number_class=NumberClass.INTERNATIONAL
    )
    _logged_in(client, bob)

    # when
    response = client.post(
        reverse("portal:forwarding_create"), _rule_form(label="Abroad", destination_number="0044207946000")
    )

    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert "You are not allowed to call 0044207946000, so calls cannot be forwarded there." in _errors_of(
        html
    )
    assert 'value="0044207946000"' in html
    assert 'value="Abroad"' in html
    assert not ForwardingRule.objects.filter(user=bob.user).exists()


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("199", "Extension 199 does not exist in your company."),
        ("101", "Calls cannot be forwarded to your own extension."),
        ("12ab", "“12ab” is not a phone number."),
        ("", "Enter the number to forward calls to."),
    ],
)
def test_a_forward_to_a_number_that_cannot_be_reached_is_refused(
    client: Client, bob: Person, number: str, message: str
) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:forwarding_create"), _rule_form(destination_number=number)
    )

    # then
    assert response.status_code == 400
    assert message in _errors_of(response.content.decode())


def test_a_rule_for_listed_callers_needs_their_numbers(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(reverse("portal:forwarding_create"), _rule_form(origin="listed"))

    # then
    assert response.status_code == 400
    assert "List the numbers of the callers this rule is for." in _errors_of(response.content.decode())


def test_a_malformed_caller_number_is_refused_by_name(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:forwarding_create"), _rule_form(origin="listed", callers="103, boss")
    )

    # then
    assert response.status_code == 400
    assert "“boss” is not a phone number." in _errors_of(response.content.decode())
    assert 'value="103, boss"' in response.content.decode()


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ("mobile", "Your mobile number is not set: add it in your settings first."),
        ("home", "Your home number is not set: add it in your settings first."),
        ("receptionist", "Your company has no receptionist: ask your administrator."),
    ],
)
def test_a_rule_to_a_destination_that_is_not_set_says_so(
    client: Client, bob: Person, destination: str, message: str
) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:forwarding_create"), _rule_form(destination=destination, destination_number="")
    )

    # then
    assert response.status_code == 400
    assert message in _errors_of(response.content.decode())


def test_the_receptionist_cannot_forward_to_herself(client: Client, alice: Person, carol: Person) -> None:
    # given
    assert carol.user.company is not None
    dial_plan_actions.update_routing_policy(
        company=carol.user.company,
        outside_prefix="0",
        country_code="33",
        main_number="",
        receptionist=carol.user,
    )

    # when
    response = _logged_in(client, carol).post(
        reverse("portal:forwarding_create"), _rule_form(destination="receptionist", destination_number="")
    )

    # then
    assert "You are the company's receptionist" in _errors_of(response.content.decode())


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"time_from": "09:00"}, "Give both the start and the end of the time window, or neither."),
        ({"time_to": "18:00"}, "Give both the start and the end of the time window, or neither."),
        ({"time_from": "09:00", "time_to": "09:00"}, "The time window ends when it starts"),
    ],
)
def test_a_time_window_needs_a_start_and_a_different_end(
    client: Client, bob: Person, window: dict[str, str], message: str
) -> None:
    # when
    response = _logged_in(client, bob).post(reverse("portal:forwarding_create"), _rule_form(**window))

    # then
    assert response.status_code == 400
    assert message in _errors_of(response.content.decode())


def test_a_rule_on_weekdays_in_office_hours_is_saved_with_its_window(
    client: Client, bob: Person, carol: Person
) -> None:
    # when
    data = _rule_form(time_from="09:00", time_to="18:00", presences=["meeting"])
    data["days"] = ["0", "1", "2", "3", "4"]
    response = _logged_in(client, bob).post(reverse("portal:forwarding_create"), data)

    # then
    assert response.status_code == 302
    rule = ForwardingRule.objects.get(user=bob.user)
    assert (rule.days, rule.presences, rule.time_from, rule.time_to) == (
        [0, 1, 2, 3, 4],
        ["meeting"],
        time(9, 0),
        time(18, 0),
    )


# --- Changing rules ------------------------------------------------------------------------------------


@pytest.fixture
def bobs_rules(bob: Person, carol: Person, dave: Person) -> list[ForwardingRule]:
    to_carol = forwarding_actions.create_forwarding_rule(
        user=bob.user, label="First", condition="busy", destination="number", destination_number="102"
    )
    to_dave = forwarding_actions.create_forwarding_rule(
        user=bob.user, label="Second", condition="busy", destination="number", destination_number="103"
    )
    return [to_carol, to_dave]


def test_the_edit_page_shows_the_rule_as_it_is(
    client: Client, bob: Person, bobs_rules: list[ForwardingRule]
) -> None:
    # when
    response = _logged_in(client, bob).get(reverse("portal:forwarding_edit", args=[bobs_rules[1].pk]))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Second"' in html
    assert 'value="103"' in html
    assert '<option value="busy" selected>' in html


def test_editing_a_rule_changes_it(client: Client, bob: Person, bobs_rules: list[ForwardingRule]) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:forwarding_edit", args=[bobs_rules[0].pk]),
        _rule_form(label="Renamed", condition="no_answer", no_answer_after="25", destination="voicemail"),
    )

    # then
    assert response.status_code == 302
    rule = ForwardingRule.objects.get(pk=bobs_rules[0].pk)
    assert (rule.label, rule.condition, rule.no_answer_after, rule.destination, rule.destination_number) == (
        "Renamed",
        "no_answer",
        25,
        "voicemail",
        "",
    )


def test_a_refused_edit_shows_the_error_and_changes_nothing(
    client: Client, bob: Person, bobs_rules: list[ForwardingRule]
) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:forwarding_edit", args=[bobs_rules[0].pk]), _rule_form(destination_number="199")
    )

    # then
    assert response.status_code == 400
    assert "Extension 199 does not exist in your company." in _errors_of(response.content.decode())
    assert ForwardingRule.objects.get(pk=bobs_rules[0].pk).destination_number == "102"


def test_switching_a_rule_off_and_on_again(
    client: Client, bob: Person, bobs_rules: list[ForwardingRule]
) -> None:
    # given
    _logged_in(client, bob)
    url = reverse("portal:forwarding_enabled", args=[bobs_rules[0].pk])

    # when / then
    client.post(url, {"enabled": "off"})
    assert ForwardingRule.objects.get(pk=bobs_rules[0].pk).enabled is False
    assert 'data-enabled="false"' in client.get(reverse("portal:forwarding")).content.decode()
    client.post(url, {"enabled": "on"})
    assert ForwardingRule.objects.get(pk=bobs_rules[0].pk).enabled is True


def test_a_rule_whose_destination_went_away_can_be_switched_off_but_not_on(
    client: Client, bob: Person
) -> None:
    # given: a rule to bob's mobile, whose number he then removed
    call_settings_actions.update_call_settings(user=bob.user, mobile_number="0612345678")
    rule = forwarding_actions.create_forwarding_rule(user=bob.user, condition="always", destination="mobile")
    call_settings_actions.update_call_settings(user=bob.user, mobile_number="")
    _logged_in(client, bob)
    url = reverse("portal:forwarding_enabled", args=[rule.pk])

    # when
    client.post(url, {"enabled": "off"})
    response = client.post(url, {"enabled": "on"}, follow=True)

    # then
    assert ForwardingRule.objects.get(pk=rule.pk).enabled is False
    assert "This rule cannot be switched on: Your mobile number is not set" in response.content.decode()


def test_moving_the_second_rule_up_makes_it_first(
    client: Client, bob: Person, bobs_rules: list[ForwardingRule]
) -> None:
    # when
    _logged_in(client, bob).post(
        reverse("portal:forwarding_move", args=[bobs_rules[1].pk]), {"direction": "up"}
    )

    # then
    labels = list(
        ForwardingRule.objects.filter(user=bob.user)
        .order_by("position", "id")
        .values_list("label", flat=True)
    )
    assert labels == ["Second", "First"]


def test_the_first_rule_does_not_move_further_up(
    client: Client, bob: Person, bobs_rules: list[ForwardingRule]
) -> None:
    # when
    _logged_in(client, bob).post(
        reverse("portal:forwarding_move", args=[bobs_rules[0].pk]), {"direction": "up"}
    )

    # then
    labels = list(
        ForwardingRule.objects.filter(user=bob.user)
        .order_by("position", "id")
        .values_list("label", flat=True)
    )
    assert labels == ["First", "Second"]


def test_deleting_a_rule_removes_it(client: Client, bob: Person, bobs_rules: list[ForwardingRule]) -> None:
    # when
    response = _logged_in(client, bob).post(reverse("portal:forwarding_delete", args=[bobs_rules[0].pk]))

    # then
    assert response.status_code == 302
    assert list(ForwardingRule.objects.filter(user=bob.user)) == [bobs_rules[1]]


def test_every_change_to_my_rules_tells_my_browsers(
    client: Client,
    bob: Person,
    bobs_rules: list[ForwardingRule],
    published: PublishedEvents,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    _logged_in(client, bob)
    first = bobs_rules[0].pk

    # when
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:forwarding_edit", args=[first]), _rule_form())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:forwarding_enabled", args=[first]), {"enabled": "off"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:forwarding_move", args=[first]), {"direction": "down"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:forwarding_delete", args=[first]))

    # then
    assert [event["type"] for event in published.to(bob)] == ["settings.changed"] * 4


def test_the_list_fragment_is_just_the_rules_table(
    client: Client, bob: Person, bobs_rules: list[ForwardingRule], django_assert_max_num_queries: Any
) -> None:
    # given
    _logged_in(client, bob)
    for n in range(10):
        forwarding_actions.create_forwarding_rule(
            user=bob.user, label=f"More {n}", condition="busy", destination="voicemail"
        )

    # when
    with django_assert_max_num_queries(8):
        response = client.get(reverse("portal:forwarding_list"))

    # then
    html = response.content.decode()
    assert html.lstrip().startswith("<table") or html.lstrip().startswith('<table id="forwarding-rules"')
    assert html.count('class="rule-row') == 12


# --- Nobody else's rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["carol", "gus"])
@pytest.mark.parametrize(
    ("url_name", "method", "data"),
    [
        ("portal:forwarding_edit", "get", {}),
        ("portal:forwarding_edit", "post", _rule_form()),
        ("portal:forwarding_enabled", "post", {"enabled": "off"}),
        ("portal:forwarding_move", "post", {"direction": "up"}),
        ("portal:forwarding_delete", "post", {}),
    ],
)
def test_someone_elses_rule_is_not_found(
    client: Client,
    bob: Person,
    carol: Person,
    gus: Person,
    bobs_rules: list[ForwardingRule],
    viewer: str,
    url_name: str,
    method: str,
    data: dict[str, Any],
) -> None:
    # given
    _logged_in(client, {"carol": carol, "gus": gus}[viewer])

    # when
    response = getattr(client, method)(reverse(url_name, args=[bobs_rules[0].pk]), data)

    # then
    assert response.status_code == 404
    assert ForwardingRule.objects.filter(user=bob.user).count() == 2
