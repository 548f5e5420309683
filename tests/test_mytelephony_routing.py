"""myTelephony's call routing page: outside prefix, company number, receptionist, dial codes, speed
dials, call barring and public numbers, for a company's admins and nobody else."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from directory.models import Company
from telephony import routing
from telephony.actions import call_settings as call_settings_actions
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.choices import BarringDirection, CallerIdChoice, NumberClass
from telephony.models import BarringRule, CallSettings, PhoneNumber, SpeedDial
from telephony.queries import policy_for

from .personas import Person


def _logged_in(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


def _errors_of(html: str) -> str:
    return unescape(" ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)))


def _company(person: Person) -> Company:
    assert person.user.company is not None
    return person.user.company


def _policy_form(**overrides: Any) -> dict[str, Any]:
    data = {"outside_prefix": "0", "country_code": "33", "main_number": "", "receptionist": ""}
    data.update(overrides)
    return data


def _codes_form(**codes: str) -> dict[str, str]:
    return {str(feature): codes.get(str(feature), "") for feature in routing.DEFAULT_DIAL_CODES}


# --- The page ---------------------------------------------------------------------------------------


def test_routing_pages_show_the_companys_settings_and_default_dial_codes(
    client: Client, alice: Person
) -> None:
    # when
    response = _logged_in(client, alice).get(reverse("portal:routing"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="outside_prefix" value="0"' in html
    assert 'name="country_code" value="33"' in html
    codes = client.get(reverse("portal:routing_dial_codes")).content.decode()
    assert '<tr class="dial-code-row" data-feature="dnd_on">' in codes
    assert 'placeholder="*8"' in codes
    assert "Do not disturb on" in codes


def test_mytelephony_links_to_call_routing(client: Client, alice: Person) -> None:
    html = _logged_in(client, alice).get(reverse("portal:mytelephony")).content.decode()
    assert f'href="{reverse("portal:routing")}"' in html


def test_saving_the_prefix_company_number_and_receptionist(
    client: Client, alice: Person, carol: Person
) -> None:
    # when
    response = _logged_in(client, alice).post(
        reverse("portal:routing_policy"),
        _policy_form(outside_prefix="9", main_number="+33 1 40 00 00 00", receptionist=str(carol.user.pk)),
    )

    # then
    assert response.status_code == 302
    company = Company.objects.get(pk=_company(alice).pk)
    assert (company.outside_prefix, company.main_number, company.receptionist) == (
        "9",
        "+33140000000",
        carol.user,
    )
    assert policy_for(company).receptionist == "102"


def test_an_outside_prefix_that_begins_extensions_is_refused(
    client: Client, alice: Person, bob: Person
) -> None:
    # when
    response = _logged_in(client, alice).post(
        reverse("portal:routing_policy"), _policy_form(outside_prefix="1")
    )

    # then
    assert response.status_code == 400
    assert "Extensions 100, 101 begin with 1: choose another prefix." in _errors_of(response.content.decode())
    assert Company.objects.get(pk=_company(alice).pk).outside_prefix == "0"


def test_a_receptionist_from_another_company_cannot_be_chosen(
    client: Client, alice: Person, gus: Person
) -> None:
    # when
    response = _logged_in(client, alice).post(
        reverse("portal:routing_policy"), _policy_form(receptionist=str(gus.user.pk))
    )

    # then
    assert response.status_code == 400
    assert Company.objects.get(pk=_company(alice).pk).receptionist is None


def test_a_malformed_country_code_is_refused(client: Client, alice: Person) -> None:
    response = _logged_in(client, alice).post(
        reverse("portal:routing_policy"), _policy_form(country_code="0")
    )
    assert response.status_code == 400
    assert "1 to 3 digits, e.g. 33." in _errors_of(response.content.decode())


# --- Dial codes ---------------------------------------------------------------------------------------


def test_a_dial_code_of_the_companys_own_replaces_the_default(client: Client, alice: Person) -> None:
    # when
    response = _logged_in(client, alice).post(reverse("portal:routing_dial_codes"), _codes_form(dnd_on="*78"))

    # then
    assert response.status_code == 302
    company = Company.objects.get(pk=_company(alice).pk)
    assert company.dial_codes == {"dnd_on": "*78"}
    assert routing.interpret("*78", policy_for(company)) == routing.DialCode(routing.Feature.DND_ON)
    html = client.get(reverse("portal:routing_dial_codes")).content.decode()
    assert 'value="*78"' in html


def test_emptying_a_dial_code_puts_back_the_default(client: Client, alice: Person) -> None:
    # given
    dial_plan_actions.set_dial_codes(company=_company(alice), codes={"dnd_on": "*78"})

    # when
    _logged_in(client, alice).post(reverse("portal:routing_dial_codes"), _codes_form())

    # then
    assert Company.objects.get(pk=_company(alice).pk).dial_codes == {}


@pytest.mark.parametrize(
    ("codes", "feature", "message"),
    [
        ({"dnd_on": "*9"}, "dnd_on", "*9 is already the code of “Do not disturb off”."),
        ({"dnd_on": "*55", "dnd_off": "*55"}, "dnd_on", "*55 is already the code of “Do not disturb off”."),
        ({"dnd_on": "*21"}, "dnd_on", "*21 conflicts with *2 (“Forward every call to a number”)"),
        (
            {"forward_always_on": "*4"},
            "forward_always_on",
            "*4 conflicts with *42 (“Call waiting on for an extension”)",
        ),
        ({"dnd_on": "78"}, "dnd_on", "A code is * or # followed by 1 to 4 digits"),
    ],
)
def test_conflicting_or_malformed_dial_codes_are_refused_with_why(
    client: Client, alice: Person, codes: dict[str, str], feature: str, message: str
) -> None:
    # when
    response = _logged_in(client, alice).post(reverse("portal:routing_dial_codes"), _codes_form(**codes))

    # then
    html = response.content.decode()
    row = html[html.index(f'data-feature="{feature}"') :]
    row = row[: row.index("</tr>")]
    assert response.status_code == 400
    assert message in unescape(row)
    assert Company.objects.get(pk=_company(alice).pk).dial_codes == {}


def test_a_code_that_only_shares_a_beginning_with_one_without_number_is_fine(
    client: Client, alice: Person
) -> None:
    # *8 (do not disturb) is matched only on its own, so *87 for a code taking a number is no conflict.
    response = _logged_in(client, alice).post(
        reverse("portal:routing_dial_codes"), _codes_form(voicemail_drop="*87")
    )
    assert response.status_code == 302


# --- Speed dials -------------------------------------------------------------------------------------


def test_adding_a_speed_dial_makes_it_dialable(client: Client, alice: Person) -> None:
    # when
    response = _logged_in(client, alice).post(
        reverse("portal:speed_dial_create"),
        {"short_number": "230", "number": "06 12 34 56 78", "label": "Mr Jones"},
    )

    # then
    assert response.status_code == 302
    assert routing.interpret("230", policy_for(_company(alice))) == routing.External("+33612345678")
    assert 'data-short-number="230"' in client.get(reverse("portal:speed_dial_create")).content.decode()


@pytest.mark.parametrize(
    ("short_number", "number", "message"),
    [
        ("230", "0698765432", "230 is already a speed dial."),
        ("101", "0698765432", "101 is an extension of the company."),
        ("555", "0698765432", "555 is the voicemail service number."),
        ("231", "06-AB", "“06AB” is not a phone number."),
        ("232", "199", "Extension 199 does not exist in your company."),
        ("2", "0698765432", "2 to 6 digits."),
    ],
)
def test_a_speed_dial_that_could_not_work_is_refused(
    client: Client, alice: Person, bob: Person, short_number: str, number: str, message: str
) -> None:
    # given
    dial_plan_actions.create_speed_dial(company=_company(alice), short_number="230", number="0612345678")

    # when
    response = _logged_in(client, alice).post(
        reverse("portal:speed_dial_create"), {"short_number": short_number, "number": number, "label": ""}
    )

    # then
    assert response.status_code == 400
    assert message in _errors_of(response.content.decode())
    assert SpeedDial.objects.count() == 1


def test_editing_and_deleting_a_speed_dial(client: Client, alice: Person, bob: Person) -> None:
    # given
    speed_dial = dial_plan_actions.create_speed_dial(
        company=_company(alice), short_number="230", number="0612345678"
    )
    _logged_in(client, alice)
    url = reverse("portal:speed_dial_edit", args=[speed_dial.pk])

    # when / then
    assert 'value="0612345678"' in client.get(url).content.decode()
    assert client.post(url, {"short_number": "231", "number": "101", "label": "Bob"}).status_code == 302
    speed_dial.refresh_from_db()
    assert (speed_dial.short_number, speed_dial.number) == ("231", "101")
    client.post(reverse("portal:speed_dial_delete", args=[speed_dial.pk]))
    assert not SpeedDial.objects.exists()


# --- Call barring --------------------------------------------------------------------------------------


def _barring_form(**overrides: str) -> dict[str, str]:
    data = {"direction": "out", "allow": "false", "number_class": "", "number_prefix": "", "user": ""}
    data.update(overrides)
    return data


def test_forbidding_international_calls_stops_a_forward_abroad(
    client: Client, alice: Person, bob: Person
) -> None:
    # when
    response = _logged_in(client, alice).post(
        reverse("portal:barring_create"), _barring_form(number_class="international")
    )

    # then
    assert response.status_code == 302
    assert routing.barred("+442079460000", "out", bob.user.pk, policy_for(_company(alice)))
    with pytest.raises(Exception, match="not allowed to call"):
        forwarding_actions.check_forward_destination(user=bob.user, number="0044207946000")


def test_allowing_one_number_as_an_exception_for_one_user(client: Client, alice: Person, bob: Person) -> None:
    # given
    dial_plan_actions.create_barring_rule(
        company=_company(alice), direction="out", number_class=NumberClass.MOBILE
    )

    # when
    response = _logged_in(client, alice).post(
        reverse("portal:barring_create"),
        _barring_form(allow="true", number_prefix="06 12 34 56 78", user=str(bob.user.pk)),
    )

    # then
    assert response.status_code == 302
    rule = BarringRule.objects.get(allow=True)
    assert (rule.prefix, rule.user) == ("0612345678", bob.user)
    html = client.get(reverse("portal:barring_create")).content.decode()
    assert "<code>0612345678</code>" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"number_class": "mobile", "number_prefix": "06"}, "Choose a class of numbers or type a number"),
        ({}, "Choose a class of numbers or type a number"),
        ({"number_class": "anonymous"}, "Only incoming calls can be anonymous."),
        ({"number_prefix": "06xx"}, "Digits only, with an optional leading +."),
    ],
)
def test_a_barring_rule_that_names_no_single_thing_is_refused(
    client: Client, alice: Person, fields: dict[str, str], message: str
) -> None:
    # when
    response = _logged_in(client, alice).post(reverse("portal:barring_create"), _barring_form(**fields))

    # then
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert message in html
    assert not BarringRule.objects.exists()


def test_barring_anonymous_incoming_callers(client: Client, alice: Person) -> None:
    response = _logged_in(client, alice).post(
        reverse("portal:barring_create"), _barring_form(direction="in", number_class="anonymous")
    )
    assert response.status_code == 302
    assert BarringRule.objects.get().direction == BarringDirection.INCOMING


def test_a_barring_rule_for_a_user_of_another_company_is_refused(
    client: Client, alice: Person, gus: Person
) -> None:
    response = _logged_in(client, alice).post(
        reverse("portal:barring_create"), _barring_form(number_class="premium", user=str(gus.user.pk))
    )
    assert response.status_code == 400
    assert not BarringRule.objects.exists()


def test_editing_and_deleting_a_barring_rule(client: Client, alice: Person) -> None:
    # given
    rule = dial_plan_actions.create_barring_rule(
        company=_company(alice), direction="out", number_class="premium"
    )
    _logged_in(client, alice)

    # when / then
    client.post(reverse("portal:barring_edit", args=[rule.pk]), _barring_form(number_prefix="+44"))
    rule.refresh_from_db()
    assert (rule.number_class, rule.prefix) == ("", "+44")
    client.post(reverse("portal:barring_delete", args=[rule.pk]))
    assert not BarringRule.objects.exists()


# --- Public numbers ------------------------------------------------------------------------------------


def test_adding_a_public_number_for_a_user(client: Client, alice: Person, bob: Person) -> None:
    # when
    response = _logged_in(client, alice).post(
        reverse("portal:phone_number_create"),
        {"number": "+33 1 40 00 01 01", "destination": "user", "user": str(bob.user.pk)},
    )

    # then
    assert response.status_code == 302
    assert PhoneNumber.objects.get().number == "+33140000101"
    assert 'data-number="+33140000101"' in client.get(reverse("portal:phone_number_create")).content.decode()


def test_a_number_of_another_company_is_refused_without_saying_whose(
    client: Client, alice: Person, bob: Person, gina: Person
) -> None:
    # given
    dial_plan_actions.create_phone_number(
        company=_company(gina), number="+33140000101", destination="voicemail"
    )

    # when
    response = _logged_in(client, alice).post(
        reverse("portal:phone_number_create"),
        {"number": "+33140000101", "destination": "user", "user": str(bob.user.pk)},
    )

    # then
    errors = _errors_of(response.content.decode())
    assert response.status_code == 400
    assert "+33140000101 is already in use." in errors
    assert "Globex" not in errors


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"destination": "user"}, "Choose the user this number rings."),
        ({"number": "12"}, "Enter a valid value."),
    ],
)
def test_a_public_number_that_rings_nobody_is_refused(
    client: Client, alice: Person, fields: dict[str, str], message: str
) -> None:
    # when
    data = {"number": "+33140000101", "destination": "voicemail", "user": "", **fields}
    response = _logged_in(client, alice).post(reverse("portal:phone_number_create"), data)

    # then
    assert response.status_code == 400
    assert message in _errors_of(response.content.decode())


def test_giving_a_number_to_someone_else_stops_its_former_owner_showing_it(
    client: Client, alice: Person, bob: Person, carol: Person
) -> None:
    # given
    did = dial_plan_actions.create_phone_number(
        company=_company(alice), number="+33140000101", destination="user", user=bob.user
    )
    call_settings_actions.update_call_settings(
        user=bob.user, caller_id=CallerIdChoice.NUMBER, caller_id_number=did
    )

    # when
    response = _logged_in(client, alice).post(
        reverse("portal:phone_number_edit", args=[did.pk]),
        {"number": "+33140000101", "destination": "user", "user": str(carol.user.pk)},
    )

    # then
    assert response.status_code == 302
    bobs = CallSettings.objects.get(user=bob.user)
    assert (bobs.caller_id, bobs.caller_id_number) == (CallerIdChoice.AUTO, None)


def test_a_number_sent_to_voicemail_rings_no_user_and_can_be_deleted(
    client: Client, alice: Person, bob: Person
) -> None:
    # given
    did = dial_plan_actions.create_phone_number(
        company=_company(alice), number="+33140000101", destination="user", user=bob.user
    )
    _logged_in(client, alice)

    # when / then
    client.post(
        reverse("portal:phone_number_edit", args=[did.pk]),
        {"number": "+33140000101", "destination": "voicemail", "user": str(bob.user.pk)},
    )
    did.refresh_from_db()
    assert (did.destination, did.user) == ("voicemail", None)
    client.post(reverse("portal:phone_number_delete", args=[did.pk]))
    assert not PhoneNumber.objects.exists()


# --- Admins only, their company only ---------------------------------------------------------------------


@pytest.fixture
def acme_routing(alice: Person, bob: Person) -> dict[str, int]:
    company = _company(alice)
    return {
        "speed_dial": dial_plan_actions.create_speed_dial(
            company=company, short_number="230", number="0612345678"
        ).pk,
        "barring": dial_plan_actions.create_barring_rule(
            company=company, direction="out", number_class="premium"
        ).pk,
        "phone_number": dial_plan_actions.create_phone_number(
            company=company, number="+33140000101", destination="user", user=bob.user
        ).pk,
    }


PAGES = [
    ("portal:routing", "get", None),
    ("portal:routing_policy", "post", None),
    ("portal:routing_dial_codes", "post", None),
    ("portal:speed_dial_create", "post", None),
    ("portal:speed_dial_edit", "get", "speed_dial"),
    ("portal:speed_dial_delete", "post", "speed_dial"),
    ("portal:barring_create", "post", None),
    ("portal:barring_edit", "get", "barring"),
    ("portal:barring_delete", "post", "barring"),
    ("portal:phone_number_create", "post", None),
    ("portal:phone_number_edit", "post", "phone_number"),
    ("portal:phone_number_delete", "post", "phone_number"),
    # Each part of call routing is a page of its own, and each delete asks first (GET)
    ("portal:routing_dial_codes", "get", None),
    ("portal:speed_dial_create", "get", None),
    ("portal:barring_create", "get", None),
    ("portal:phone_number_create", "get", None),
    ("portal:speed_dial_delete", "get", "speed_dial"),
    ("portal:barring_delete", "get", "barring"),
    ("portal:phone_number_delete", "get", "phone_number"),
]


@pytest.mark.parametrize(("url_name", "method", "kind"), PAGES)
def test_a_user_who_is_not_an_admin_is_forbidden(
    client: Client, bob: Person, acme_routing: dict[str, int], url_name: str, method: str, kind: str | None
) -> None:
    # when
    args = [acme_routing[kind]] if kind else []
    response = getattr(_logged_in(client, bob), method)(reverse(url_name, args=args), {})

    # then
    assert response.status_code == 403
    assert SpeedDial.objects.count() == BarringRule.objects.count() == PhoneNumber.objects.count() == 1


@pytest.mark.parametrize(("url_name", "method", "kind"), [page for page in PAGES if page[2]])
def test_another_companys_admin_finds_none_of_acmes_routing(
    client: Client, gina: Person, acme_routing: dict[str, int], url_name: str, method: str, kind: str
) -> None:
    # when
    response = getattr(_logged_in(client, gina), method)(reverse(url_name, args=[acme_routing[kind]]), {})

    # then
    assert response.status_code == 404
    assert SpeedDial.objects.count() == BarringRule.objects.count() == PhoneNumber.objects.count() == 1


def test_another_companys_page_lists_none_of_acmes_routing(
    client: Client, gina: Person, acme_routing: dict[str, int]
) -> None:
    _logged_in(client, gina)
    html = "".join(
        client.get(reverse(name)).content.decode()
        for name in ("portal:speed_dial_create", "portal:barring_create", "portal:phone_number_create")
    )
    assert 'class="speed-dial-row"' not in html
    assert 'class="barring-row"' not in html
    assert 'class="phone-number-row"' not in html
    assert "+33140000101" not in html


@pytest.mark.parametrize(
    "name",
    [
        "portal:routing",
        "portal:routing_dial_codes",
        "portal:speed_dial_create",
        "portal:barring_create",
        "portal:phone_number_create",
    ],
)
def test_each_routing_page_costs_the_same_queries_however_many_rows(
    client: Client, alice: Person, bob: Person, name: str, django_assert_max_num_queries: Any
) -> None:
    company = _company(alice)
    for n in range(20):
        dial_plan_actions.create_speed_dial(
            company=company, short_number=f"2{n:02d}", number=f"01424242{n:02d}"
        )
        dial_plan_actions.create_barring_rule(
            company=company, direction="out", prefix=f"089{n:02d}", user=bob.user
        )
        dial_plan_actions.create_phone_number(
            company=company, number=f"+331400002{n:02d}", destination="user", user=bob.user
        )
    _logged_in(client, alice)
    with django_assert_max_num_queries(10):
        assert client.get(reverse(name)).status_code == 200
