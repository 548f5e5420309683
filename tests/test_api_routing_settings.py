"""The API of call settings: a user's own settings, forwarding rules and remote terminals; the
company's speed dials, barring rules, public numbers and routing policy, which only its admins change."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from directory.models import Company
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.choices import DeviceKind
from telephony.models import BarringRule, CallSettings, Device, ForwardingRule, PhoneNumber, SpeedDial

from .conftest import PublishedEvents
from .personas import Person


def _client_for(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def _company(person: Person) -> Company:
    assert person.user.company is not None
    return person.user.company


# --- /api/me/settings/ -----------------------------------------------------------------------------


def test_my_settings_start_available_with_nothing_set(bob: Person) -> None:
    # when
    response = _client_for(bob).get(reverse("api:my-settings"))

    # then
    assert response.status_code == 200
    assert response.json() == {
        "dnd": False,
        "presence": "available",
        "home_number": "",
        "mobile_number": "",
        "caller_id": "auto",
        "caller_id_number": None,
        "screening": "off",
        "reject_anonymous": False,
        "screened_numbers": [],
        "extension": "101",
        "public_numbers": [],
    }


def test_patching_dnd_and_presence_tells_my_browsers_once(
    bob: Person, published: PublishedEvents, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _client_for(bob).patch(
            reverse("api:my-settings"), {"dnd": True, "presence": "meeting"}, format="json"
        )

    # then
    assert response.status_code == 200
    assert (response.json()["dnd"], response.json()["presence"]) == (True, "meeting")
    assert published.to(bob) == [{"type": "settings.changed", "dnd": True, "presence": "meeting"}]


def test_patching_my_numbers_and_black_list(bob: Person) -> None:
    # when
    response = _client_for(bob).patch(
        reverse("api:my-settings"),
        {
            "mobile_number": "06 12 34 56 78",
            "screening": "blacklist",
            "screened_numbers": ["103", "+44 20 7946 0000"],
        },
        format="json",
    )

    # then
    assert response.status_code == 200
    call_settings = CallSettings.objects.get(user=bob.user)
    assert call_settings.mobile_number == "0612345678"
    assert call_settings.screened_numbers == ["103", "+442079460000"]


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"presence": "asleep"}, "presence", "is not a valid choice"),
        ({"home_number": "01 AB"}, "home_number", "Digits only, with an optional leading +."),
        ({"screening": "whitelist"}, "screened_numbers", "A white list with nobody on it"),
        ({"screened_numbers": ["spam"]}, "screened_numbers", "“spam” is not a phone number."),
        ({"caller_id": "number"}, "caller_id_number", "Choose which of your public numbers to show."),
    ],
)
def test_my_settings_refuse_what_cannot_work(
    bob: Person, patch: dict[str, Any], field: str, message: str
) -> None:
    # when
    response = _client_for(bob).patch(reverse("api:my-settings"), patch, format="json")

    # then
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])


def test_i_can_show_my_own_public_number_but_not_a_colleagues(bob: Person, carol: Person) -> None:
    # given
    company = _company(bob)
    dial_plan_actions.create_phone_number(
        company=company, number="+33140000101", destination="user", user=bob.user
    )
    dial_plan_actions.create_phone_number(
        company=company, number="+33140000102", destination="user", user=carol.user
    )
    client = _client_for(bob)

    # when
    mine = client.patch(
        reverse("api:my-settings"), {"caller_id": "number", "caller_id_number": "+33140000101"}, format="json"
    )
    theirs = client.patch(reverse("api:my-settings"), {"caller_id_number": "+33140000102"}, format="json")

    # then
    assert mine.status_code == 200
    assert mine.json()["caller_id_number"] == "+33140000101"
    assert mine.json()["public_numbers"] == ["+33140000101"]
    assert theirs.status_code == 400


# --- /api/me/forwarding-rules/ -------------------------------------------------------------------------


def test_creating_listing_and_moving_my_rules(bob: Person, carol: Person, dave: Person) -> None:
    # given
    client = _client_for(bob)
    url = reverse("api:forwarding-rule-list")

    # when
    first = client.post(
        url, {"condition": "busy", "destination": "number", "destination_number": "102"}, format="json"
    )
    second = client.post(
        url,
        {
            "label": "Evenings",
            "condition": "always",
            "destination": "number",
            "destination_number": "103",
            "days": [0, 1, 2, 3, 4],
            "time_from": "18:00",
            "time_to": "08:00",
            "presences": ["unreachable"],
        },
        format="json",
    )
    moved = client.post(reverse("api:forwarding-rule-move", args=[second.json()["id"]]), {"direction": "up"})

    # then
    assert (first.status_code, second.status_code, moved.status_code) == (201, 201, 200)
    assert second.json()["time_from"] == "18:00:00"
    assert [rule["label"] for rule in moved.json()] == ["Evenings", ""]
    listed = client.get(url).json()["results"]
    assert [rule["destination_number"] for rule in listed] == ["103", "102"]


def test_a_forward_to_a_barred_number_is_refused_with_why(alice: Person, bob: Person) -> None:
    # given
    dial_plan_actions.create_barring_rule(company=_company(bob), direction="out", number_class="premium")

    # when
    response = _client_for(bob).post(
        reverse("api:forwarding-rule-list"),
        {"condition": "always", "destination": "number", "destination_number": "0899123456"},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "destination_number": ["You are not allowed to call 0899123456, so calls cannot be forwarded there."]
    }


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        (
            {"destination_number": "199"},
            "destination_number",
            "Extension 199 does not exist in your company.",
        ),
        ({"origin": "listed"}, "callers", "List the numbers of the callers this rule is for."),
        ({"origin": "listed", "callers": ["boss"]}, "callers", "“boss” is not a phone number."),
        ({"time_from": "09:00"}, "time_to", "Give both the start and the end"),
        ({"days": [7]}, "days", "less than or equal to 6"),
        ({"destination": "home"}, "destination", "Your home number is not set"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_with_why(
    bob: Person, carol: Person, rule: dict[str, Any], field: str, message: str
) -> None:
    # when
    data = {"condition": "always", "destination": "number", "destination_number": "102", **rule}
    response = _client_for(bob).post(reverse("api:forwarding-rule-list"), data, format="json")

    # then
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not ForwardingRule.objects.exists()


def test_patching_and_deleting_my_rule_tells_my_browsers(
    bob: Person, carol: Person, published: PublishedEvents, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    rule = forwarding_actions.create_forwarding_rule(user=bob.user, condition="busy", destination="voicemail")
    client = _client_for(bob)
    url = reverse("api:forwarding-rule-detail", args=[rule.pk])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        patched = client.patch(url, {"enabled": False, "label": "Off for now"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.delete(url)

    # then
    assert patched.json()["enabled"] is False
    assert deleted.status_code == 204
    assert [event["type"] for event in published.to(bob)] == ["settings.changed", "settings.changed"]


@pytest.mark.parametrize("viewer", ["carol", "gus"])
def test_someone_elses_rule_is_not_found(bob: Person, carol: Person, gus: Person, viewer: str) -> None:
    # given
    rule = forwarding_actions.create_forwarding_rule(user=bob.user, condition="busy", destination="voicemail")
    client = _client_for({"carol": carol, "gus": gus}[viewer])
    url = reverse("api:forwarding-rule-detail", args=[rule.pk])

    # when
    answers = [
        client.get(url),
        client.patch(url, {"enabled": False}, format="json"),
        client.delete(url),
        client.post(reverse("api:forwarding-rule-move", args=[rule.pk]), {"direction": "up"}),
    ]

    # then
    assert [answer.status_code for answer in answers] == [404, 404, 404, 404]
    assert client.get(reverse("api:forwarding-rule-list")).json()["results"] == []
    assert ForwardingRule.objects.get(pk=rule.pk).enabled is True


# --- Phones: call waiting, remote terminals ---------------------------------------------------------


def test_call_waiting_of_my_phone_through_the_devices_api(bob: Person) -> None:
    # given
    device = Device.objects.get(user=bob.user)

    # when
    response = _client_for(bob).patch(
        reverse("api:device-detail", args=[device.pk]), {"max_calls": 2}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["max_calls"] == 2
    assert Device.objects.get(pk=device.pk).max_calls == 2


def test_adding_changing_and_removing_a_remote_terminal(bob: Person) -> None:
    # given
    client = _client_for(bob)

    # when
    created = client.post(
        reverse("api:remote-terminal-list"),
        {"number": "06 12 34 56 78", "ring_delay": 10, "avoid_voicemail": True},
        format="json",
    )
    url = reverse("api:remote-terminal-detail", args=[created.json()["id"]])
    patched = client.patch(url, {"ring_delay": 5, "enabled": False}, format="json")
    renumbered = client.patch(url, {"number": "0698765432"}, format="json")

    # then
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "label": "Mobile",
        "number": "0612345678",
        "ring_delay": 10,
        "enabled": True,
        "avoid_voicemail": True,
    }
    assert (patched.json()["ring_delay"], patched.json()["enabled"]) == (5, False)
    assert renumbered.status_code == 400
    assert client.delete(url).status_code == 204
    assert not Device.objects.filter(user=bob.user, kind=DeviceKind.REMOTE).exists()


def test_an_extension_is_not_a_remote_terminal(bob: Person) -> None:
    response = _client_for(bob).post(reverse("api:remote-terminal-list"), {"number": "102"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"number": ["A remote terminal is an outside number, e.g. 0612345678."]}


def test_my_desk_phone_is_not_a_remote_terminal(bob: Person) -> None:
    desk_phone = Device.objects.get(user=bob.user)
    response = _client_for(bob).delete(reverse("api:remote-terminal-detail", args=[desk_phone.pk]))
    assert response.status_code == 404


# --- The company's routing: admins write, everyone of the company reads (barring: admins only) ------------


def test_an_admin_manages_speed_dials(alice: Person, bob: Person) -> None:
    # given
    client = _client_for(alice)

    # when
    created = client.post(
        reverse("api:speed-dial-list"), {"short_number": "230", "number": "0612345678", "label": "Jones"}
    )
    url = reverse("api:speed-dial-detail", args=[created.json()["id"]])
    patched = client.patch(url, {"number": "101"}, format="json")
    duplicate = client.post(reverse("api:speed-dial-list"), {"short_number": "230", "number": "0698765432"})
    malformed = client.post(reverse("api:speed-dial-list"), {"short_number": "231", "number": "06 AB"})

    # then
    assert created.status_code == 201
    assert patched.json() == {
        "id": created.json()["id"],
        "short_number": "230",
        "number": "101",
        "label": "Jones",
    }
    assert duplicate.json() == {"short_number": ["230 is already a speed dial."]}
    assert malformed.json() == {"number": ["“06AB” is not a phone number."]}
    assert client.delete(url).status_code == 204


def test_an_admin_manages_barring_rules(alice: Person, bob: Person) -> None:
    # given
    client = _client_for(alice)

    # when
    created = client.post(
        reverse("api:barring-rule-list"),
        {"direction": "out", "prefix": "06", "user": bob.user.pk},
        format="json",
    )
    both = client.post(
        reverse("api:barring-rule-list"), {"direction": "out", "prefix": "06", "number_class": "mobile"}
    )
    url = reverse("api:barring-rule-detail", args=[created.json()["id"]])
    patched = client.patch(url, {"allow": True}, format="json")

    # then
    assert created.status_code == 201
    assert created.json()["user"] == bob.user.pk
    assert both.status_code == 400
    assert "Choose a class of numbers or type a number" in both.json()["prefix"][0]
    assert patched.json()["allow"] is True
    assert client.delete(url).status_code == 204


def test_an_admin_manages_public_numbers(alice: Person, bob: Person, gina: Person) -> None:
    # given
    dial_plan_actions.create_phone_number(
        company=_company(gina), number="+33150000000", destination="voicemail"
    )
    client = _client_for(alice)

    # when
    created = client.post(
        reverse("api:phone-number-list"),
        {"number": "+33140000101", "destination": "user", "user": bob.user.pk},
        format="json",
    )
    taken = client.post(
        reverse("api:phone-number-list"), {"number": "+33150000000", "destination": "voicemail"}
    )
    to_voicemail = client.patch(
        reverse("api:phone-number-detail", args=[created.json()["id"]]),
        {"destination": "voicemail"},
        format="json",
    )

    # then
    assert created.status_code == 201
    assert taken.json() == {"number": ["+33150000000 is already in use."]}
    assert to_voicemail.json()["user"] is None


def test_a_user_of_another_company_cannot_be_given_a_number(alice: Person, gus: Person) -> None:
    response = _client_for(alice).post(
        reverse("api:phone-number-list"),
        {"number": "+33140000101", "destination": "user", "user": gus.user.pk},
    )
    assert response.status_code == 400
    assert "user" in response.json()
    assert not PhoneNumber.objects.exists()


def test_the_company_routing_policy_reads_with_every_dial_code(bob: Person) -> None:
    # when
    response = _client_for(bob).get(reverse("api:company-routing"))

    # then
    data = response.json()
    assert response.status_code == 200
    assert (data["outside_prefix"], data["country_code"], data["receptionist"]) == ("0", "33", None)
    assert data["dial_codes"]["dnd_on"] == "*8"
    assert data["default_dial_codes"]["forward_busy_on"] == "*2*"


def test_an_admin_patches_the_routing_policy_and_one_dial_code(alice: Person, carol: Person) -> None:
    # when
    response = _client_for(alice).patch(
        reverse("api:company-routing"),
        {"main_number": "+33140000000", "receptionist": carol.user.pk, "dial_codes": {"dnd_on": "*78"}},
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["dial_codes"]["dnd_on"] == "*78"
    assert response.json()["dial_codes"]["dnd_off"] == "*9"
    company = Company.objects.get(pk=_company(alice).pk)
    assert (company.main_number, company.receptionist, company.dial_codes) == (
        "+33140000000",
        carol.user,
        {"dnd_on": "*78"},
    )


def test_a_conflicting_dial_code_is_refused_by_feature(alice: Person) -> None:
    # when
    response = _client_for(alice).patch(
        reverse("api:company-routing"), {"dial_codes": {"dnd_on": "*9"}}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"dial_codes": {"dnd_on": ["*9 is already the code of “Do not disturb off”."]}}


WRITES = [
    ("post", "api:speed-dial-list", {"short_number": "231", "number": "0612345678"}),
    ("patch", "api:speed-dial-detail", {"label": "mine"}),
    ("delete", "api:speed-dial-detail", {}),
    ("post", "api:barring-rule-list", {"direction": "out", "number_class": "premium"}),
    ("patch", "api:barring-rule-detail", {"allow": True}),
    ("delete", "api:barring-rule-detail", {}),
    ("post", "api:phone-number-list", {"number": "+33140000199", "destination": "voicemail"}),
    ("patch", "api:phone-number-detail", {"destination": "voicemail"}),
    ("delete", "api:phone-number-detail", {}),
    ("patch", "api:company-routing", {"outside_prefix": "9"}),
]


@pytest.fixture
def acme_routing(alice: Person, bob: Person) -> dict[str, int]:
    company = _company(alice)
    return {
        "speed-dial": dial_plan_actions.create_speed_dial(
            company=company, short_number="230", number="0612345678"
        ).pk,
        "barring-rule": dial_plan_actions.create_barring_rule(
            company=company, direction="out", number_class="premium"
        ).pk,
        "phone-number": dial_plan_actions.create_phone_number(
            company=company, number="+33140000101", destination="user", user=bob.user
        ).pk,
    }


def _url(name: str, objects: dict[str, int]) -> str:
    if name.endswith("-detail"):
        return reverse(name, args=[objects[name.removeprefix("api:").removesuffix("-detail")]])
    return reverse(name)


@pytest.mark.parametrize(("method", "name", "data"), WRITES)
def test_a_user_who_is_not_an_admin_may_not_change_routing(
    bob: Person, acme_routing: dict[str, int], method: str, name: str, data: dict[str, Any]
) -> None:
    # when
    response = getattr(_client_for(bob), method)(_url(name, acme_routing), data, format="json")

    # then
    assert response.status_code == 403
    assert SpeedDial.objects.count() == BarringRule.objects.count() == PhoneNumber.objects.count() == 1
    assert Company.objects.get(pk=_company(bob).pk).outside_prefix == "0"


def test_barring_rules_are_not_shown_to_users_who_are_not_admins(
    bob: Person, acme_routing: dict[str, int]
) -> None:
    assert _client_for(bob).get(reverse("api:barring-rule-list")).status_code == 403


@pytest.mark.parametrize("kind", ["speed-dial", "barring-rule", "phone-number"])
def test_another_companys_admin_finds_none_of_acmes_routing(
    gina: Person, acme_routing: dict[str, int], kind: str
) -> None:
    # given
    client = _client_for(gina)
    url = reverse(f"api:{kind}-detail", args=[acme_routing[kind]])

    # when
    answers = [client.get(url), client.patch(url, {}, format="json"), client.delete(url)]

    # then
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert client.get(reverse(f"api:{kind}-list")).json()["results"] == []


def test_the_schema_still_builds(tmp_path: Any, db: None) -> None:
    call_command("spectacular", "--file", str(tmp_path / "schema.yml"), "--fail-on-warn")
    schema = (tmp_path / "schema.yml").read_text()
    for path in (
        "/api/me/settings/",
        "/api/me/forwarding-rules/",
        "/api/speed-dials/",
        "/api/company/routing/",
    ):
        assert path in schema
