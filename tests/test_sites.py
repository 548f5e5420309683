"""Sites of a company (A1) and the voice VPN (C5): what an admin may set, what routing reads of a
site (number shown, receptionist, time zone), and myTelephony's pages, for the company's admins only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from directory.models import Company, Site, User
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.actions import sites as site_actions
from telephony.choices import CallerIdChoice
from telephony.models import CallSettings, PhoneNumber
from telephony.queries import (
    callee_by_extension,
    caller_by_endpoint,
    did_target,
    outside_number_of,
    policy_for,
)

from .personas import Person

PARIS_NUMBER = "+33140000000"
LYON_NUMBER = "+33472000000"


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Actions speak the active language; a page of an earlier test may have left French active."""
    with translation.override("en"):
        yield


def _company(person: Person) -> Company:
    assert person.user.company is not None
    return person.user.company


@pytest.fixture
def acme_numbers(acme: Company, alice: Person) -> Company:
    """Acme's number rings alice, its receptionist."""
    acme.main_number = PARIS_NUMBER
    acme.receptionist = alice.user
    acme.save()
    return acme


@pytest.fixture
def lyon(acme_numbers: Company, carol: Person) -> Site:
    """Acme's Lyon office, with its own number, received by carol."""
    return site_actions.create_site(
        company=acme_numbers,
        name="Lyon",
        timezone="Europe/Paris",
        main_number=LYON_NUMBER,
        receptionist=carol.user,
    )


def _errors(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


# --- validation ---------------------------------------------------------------------------------


def test_a_site_name_is_unique_in_its_company_only(acme: Company, globex: Company) -> None:
    site_actions.create_site(company=acme, name="Lyon")
    site_actions.create_site(company=globex, name="Lyon")

    with pytest.raises(ValidationError) as error:
        site_actions.create_site(company=acme, name=" lyon ")

    assert "already has a site named" in _errors(error)["name"][0]


def test_a_site_number_is_checked_like_the_company_number(acme: Company) -> None:
    with pytest.raises(ValidationError) as error:
        site_actions.create_site(company=acme, name="Lyon", main_number="04 72 AB")

    assert _errors(error)["main_number"] == ["A public number, e.g. +33140000000."]


@pytest.mark.parametrize("typed", ["+33 4 72 00 00 00", "04.72.00.00.00", "0033472000000"])
def test_a_site_number_is_kept_in_e164(acme: Company, typed: str) -> None:
    site = site_actions.create_site(company=acme, name="Lyon", main_number=typed)

    assert site.main_number == LYON_NUMBER


@pytest.mark.parametrize("owner", ["did", "other_site", "other_company"])
def test_a_site_number_already_in_use_elsewhere_is_refused(
    acme: Company, globex: Company, bob: Person, owner: str
) -> None:
    if owner == "did":
        PhoneNumber.objects.create(company=acme, number=LYON_NUMBER, destination="user", user=bob.user)
    elif owner == "other_site":
        site_actions.create_site(company=globex, name="Lille", main_number=LYON_NUMBER)
    else:
        globex.main_number = LYON_NUMBER
        globex.save()

    with pytest.raises(ValidationError) as error:
        site_actions.create_site(company=acme, name="Lyon", main_number=LYON_NUMBER)

    assert _errors(error)["main_number"] == [f"{LYON_NUMBER} is already in use."]


def test_the_company_number_may_become_its_first_sites_number(acme_numbers: Company) -> None:
    site = site_actions.create_site(company=acme_numbers, name="Paris", main_number=PARIS_NUMBER)

    assert site.main_number == PARIS_NUMBER


def test_an_unknown_time_zone_is_refused(acme: Company) -> None:
    with pytest.raises(ValidationError) as error:
        site_actions.create_site(company=acme, name="Lyon", timezone="Europe/Lyon")

    assert "Unknown time zone" in _errors(error)["timezone"][0]


def test_the_receptionist_of_a_site_is_a_user_of_its_company(acme: Company, gus: Person) -> None:
    with pytest.raises(ValidationError) as error:
        site_actions.create_site(company=acme, name="Lyon", receptionist=gus.user)

    assert _errors(error)["receptionist"] == ["This user is not of your company."]


def test_a_user_cannot_be_put_on_another_companys_site(globex: Company, bob: Person) -> None:
    lille = site_actions.create_site(company=globex, name="Lille")

    with pytest.raises(ValidationError):
        site_actions.set_user_site(user=bob.user, site=lille)

    bob.user.refresh_from_db()
    assert bob.user.site is None


def test_a_site_where_users_work_cannot_be_deleted(lyon: Site, carol: Person) -> None:
    site_actions.set_user_site(user=carol.user, site=lyon)

    with pytest.raises(ValidationError) as error:
        site_actions.delete_site(site=lyon)

    assert "Users still work at Lyon (1)" in error.value.messages[0]
    site_actions.set_user_site(user=carol.user, site=None)
    site_actions.delete_site(site=lyon)
    assert not Site.objects.filter(name="Lyon").exists()


# --- what routing reads of a site -----------------------------------------------------------------


def test_company_number_choice_presents_the_site_number(lyon: Site, bob: Person, carol: Person) -> None:
    # given: bob (no site) and carol (Lyon) both chose "the company number"
    for person in (bob, carol):
        CallSettings.objects.create(user=person.user, caller_id=CallerIdChoice.COMPANY)
    site_actions.set_user_site(user=carol.user, site=lyon)

    # when / then
    assert outside_number_of(bob.user, _company(bob)) == PARIS_NUMBER
    assert outside_number_of(User.objects.get(pk=carol.user.pk), _company(carol)) == LYON_NUMBER


def test_a_site_without_a_number_presents_the_company_number(acme_numbers: Company, carol: Person) -> None:
    site = site_actions.create_site(company=acme_numbers, name="Annex")
    CallSettings.objects.create(user=carol.user, caller_id=CallerIdChoice.COMPANY)
    site_actions.set_user_site(user=carol.user, site=site)

    assert outside_number_of(User.objects.get(pk=carol.user.pk), acme_numbers) == PARIS_NUMBER


def test_a_caller_at_a_site_goes_out_with_the_site_number(lyon: Site, carol: Person) -> None:
    CallSettings.objects.create(user=carol.user, caller_id=CallerIdChoice.COMPANY)
    site_actions.set_user_site(user=carol.user, site=lyon)

    caller = caller_by_endpoint(carol.sip_username)

    assert caller is not None
    assert caller.party.outside_number == LYON_NUMBER


def test_a_callee_carries_the_time_zone_and_receptionist_of_their_site(
    acme: Company, alice: Person, bob: Person, dave: Person
) -> None:
    # given
    site = site_actions.create_site(
        company=acme, name="New York", timezone="America/New_York", receptionist=dave.user
    )
    site_actions.set_user_site(user=bob.user, site=site)

    # when
    at_site = callee_by_extension(acme.pk, bob.extension)
    without_site = callee_by_extension(acme.pk, alice.extension)

    # then
    assert at_site is not None and without_site is not None
    assert (at_site.timezone, at_site.receptionist) == ("America/New_York", dave.extension)
    assert (without_site.timezone, without_site.receptionist) == ("", "")


def test_a_site_number_rings_the_site_receptionist(lyon: Site, carol: Person) -> None:
    target = did_target(LYON_NUMBER)

    assert target is not None
    assert (target.company_id, target.dial) == (lyon.company_id, carol.extension)


def test_a_site_number_without_a_receptionist_rings_the_companys(
    acme_numbers: Company, alice: Person
) -> None:
    site_actions.create_site(company=acme_numbers, name="Lyon", main_number=LYON_NUMBER)

    target = did_target(LYON_NUMBER)

    assert target is not None and target.dial == alice.extension


def test_the_company_number_rings_the_company_receptionist(acme_numbers: Company, alice: Person) -> None:
    target = did_target(PARIS_NUMBER)

    assert target is not None and target.dial == alice.extension


def test_a_number_nobody_receives_is_unknown(acme: Company, alice: Person) -> None:
    acme.main_number = PARIS_NUMBER
    acme.save()  # no receptionist

    assert did_target(PARIS_NUMBER) is None
    assert did_target("+33999999999") is None


def test_a_users_own_number_still_rings_the_user(lyon: Site, bob: Person) -> None:
    PhoneNumber.objects.create(company=lyon.company, number="+33472000101", destination="user", user=bob.user)

    target = did_target("+33472000101")

    assert target is not None and target.dial == bob.extension


def test_the_company_s_policy_lists_its_own_numbers_and_what_each_rings(
    lyon: Site, alice: Person, bob: Person, carol: Person
) -> None:
    company = lyon.company
    PhoneNumber.objects.create(company=company, number="+33472000101", destination="user", user=bob.user)
    PhoneNumber.objects.create(company=company, number="+33472000555", destination="voicemail")

    own = policy_for(company.pk).own_numbers

    assert own == {
        "+33472000101": bob.extension,
        "+33472000555": company.voicemail_number,
        LYON_NUMBER: carol.extension,
        PARIS_NUMBER: alice.extension,
    }


# --- myTelephony --------------------------------------------------------------------------------


def _logged_in(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


def _errors_of(html: str) -> str:
    return unescape(" ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)))


def test_the_sites_page_lists_the_companys_sites_only(
    client: Client, alice: Person, lyon: Site, globex: Company
) -> None:
    site_actions.create_site(company=globex, name="Lille")

    response = _logged_in(client, alice).get(reverse("portal:sites"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-name="Lyon"' in html and LYON_NUMBER in html
    assert "Lille" not in html


def test_an_admin_adds_a_site(client: Client, alice: Person, carol: Person) -> None:
    response = _logged_in(client, alice).post(
        reverse("portal:site_create"),
        {
            "name": "Lyon",
            "timezone": "Europe/Paris",
            "main_number": "04 72 00 00 00",
            "receptionist": carol.user.pk,
        },
    )

    assert response.status_code == 302
    site = Site.objects.get(company=_company(alice), name="Lyon")
    # In E.164, as the carrier presents it and as dialled numbers are compared.
    assert (site.main_number, site.receptionist_id) == (LYON_NUMBER, carol.user.pk)


def test_a_refused_site_is_shown_again_with_its_error(client: Client, alice: Person, lyon: Site) -> None:
    response = _logged_in(client, alice).post(reverse("portal:site_create"), {"name": "Lyon"})

    assert response.status_code == 400
    assert "already has a site named Lyon" in _errors_of(response.content.decode())


def test_an_admin_edits_a_site(client: Client, alice: Person, lyon: Site) -> None:
    response = _logged_in(client, alice).post(
        reverse("portal:site_edit", args=[lyon.pk]),
        {"name": "Lyon Part-Dieu", "timezone": "", "main_number": LYON_NUMBER, "receptionist": ""},
    )

    assert response.status_code == 302
    lyon.refresh_from_db()
    assert (lyon.name, lyon.timezone, lyon.receptionist_id) == ("Lyon Part-Dieu", "", None)


def test_deleting_a_site_where_users_work_is_refused_with_a_message(
    client: Client, alice: Person, carol: Person, lyon: Site
) -> None:
    site_actions.set_user_site(user=carol.user, site=lyon)

    response = _logged_in(client, alice).post(reverse("portal:site_delete", args=[lyon.pk]), follow=True)

    assert "Users still work at Lyon (1)" in unescape(response.content.decode())
    assert Site.objects.filter(pk=lyon.pk).exists()


def test_an_empty_site_is_deleted(client: Client, alice: Person, lyon: Site) -> None:
    response = _logged_in(client, alice).post(reverse("portal:site_delete", args=[lyon.pk]))

    assert response.status_code == 302
    assert not Site.objects.filter(pk=lyon.pk).exists()


def test_an_admin_assigns_a_user_to_a_site_on_the_user_page(
    client: Client, alice: Person, bob: Person, lyon: Site
) -> None:
    admin = _logged_in(client, alice)

    response = admin.post(reverse("portal:user_site", args=[bob.user.pk]), {"site": lyon.pk})
    page = admin.get(reverse("portal:user_detail", args=[bob.user.pk])).content.decode()

    assert response.status_code == 302
    bob.user.refresh_from_db()
    assert bob.user.site_id == lyon.pk
    assert f'<option value="{lyon.pk}" selected>Lyon</option>' in page

    admin.post(reverse("portal:user_site", args=[bob.user.pk]), {"site": ""})
    bob.user.refresh_from_db()
    assert bob.user.site is None


def test_another_companys_site_cannot_be_assigned(
    client: Client, alice: Person, bob: Person, globex: Company
) -> None:
    lille = site_actions.create_site(company=globex, name="Lille")

    response = _logged_in(client, alice).post(
        reverse("portal:user_site", args=[bob.user.pk]), {"site": lille.pk}
    )

    assert response.status_code == 400
    bob.user.refresh_from_db()
    assert bob.user.site is None


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("sites", "get"),
        ("site_create", "post"),
        ("site_edit", "get"),
        ("site_delete", "post"),
        ("user_site", "post"),
    ],
)
def test_sites_pages_are_for_admins_only(
    client: Client, bob: Person, lyon: Site, name: str, method: str
) -> None:
    args = [] if name in ("sites", "site_create") else [bob.user.pk if name == "user_site" else lyon.pk]

    response = getattr(_logged_in(client, bob), method)(reverse(f"portal:{name}", args=args))

    assert response.status_code == 403
    assert Site.objects.filter(pk=lyon.pk).exists()


@pytest.mark.parametrize(
    ("name", "method"), [("site_edit", "get"), ("site_edit", "post"), ("site_delete", "post")]
)
def test_another_companys_site_is_404(
    client: Client, gina: Person, lyon: Site, name: str, method: str
) -> None:
    response = getattr(_logged_in(client, gina), method)(reverse(f"portal:{name}", args=[lyon.pk]))

    assert response.status_code == 404
    assert Site.objects.filter(pk=lyon.pk).exists()


def test_a_user_of_another_company_cannot_be_assigned(
    client: Client, gina: Person, bob: Person, lyon: Site
) -> None:
    response = _logged_in(client, gina).post(reverse("portal:user_site", args=[bob.user.pk]), {"site": ""})

    assert response.status_code == 404


def test_the_sites_page_costs_a_fixed_number_of_queries(
    client: Client, alice: Person, lyon: Site, django_assert_max_num_queries: object
) -> None:
    admin = _logged_in(client, alice)
    for n in range(5):
        site_actions.create_site(company=lyon.company, name=f"Site {n}", receptionist=alice.user)

    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert admin.get(reverse("portal:sites")).status_code == 200


def test_the_sites_page_speaks_the_companys_language(client: Client, globex: Company, gina: Person) -> None:
    globex.language = "fr"
    globex.save()

    response = _logged_in(client, gina).get(reverse("portal:sites"))

    assert "Ajouter un site" in response.content.decode()


def test_the_demo_puts_acme_in_paris_and_lyon(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())

    acme = Company.objects.get(slug="acme")
    sites = {site.name: site for site in Site.objects.filter(company=acme)}
    assert (sites["Paris"].main_number, sites["Lyon"].main_number) == (PARIS_NUMBER, LYON_NUMBER)
    assert dict(User.objects.filter(company=acme).values_list("username", "site__name")) == {
        "alice": "Paris",
        "bob": "Paris",
        "carol": "Lyon",
        "dave": "Lyon",
    }
    # The demo's facts are unchanged: the company number, its receptionist, the users' numbers.
    assert acme.main_number == PARIS_NUMBER
    assert did_target(PARIS_NUMBER).dial == "100"  # type: ignore[union-attr]
    assert did_target(LYON_NUMBER).dial == "102"  # type: ignore[union-attr]
    assert did_target("+33140000101").dial == "101"  # type: ignore[union-attr]
    assert not Site.objects.filter(company__slug="globex").exists()


def test_a_site_number_cannot_be_given_to_a_user_nor_be_another_companys_number(
    lyon: Site, bob: Person, gina: Person
) -> None:

    # a public number of a user equal to the Lyon number: refused, whoever asks
    with pytest.raises(ValidationError) as error:
        dial_plan_actions.create_phone_number(
            company=_company(bob), number="04 72 00 00 00", destination="user", user=bob.user
        )
    assert error.value.message_dict["number"] == [f"{LYON_NUMBER} is already in use."]
    assert not PhoneNumber.objects.filter(number__in=["0472000000", LYON_NUMBER]).exists()
    # Globex may not take it as its company number either; what else it set is kept
    globex = _company(gina)
    with pytest.raises(ValidationError) as error:
        dial_plan_actions.update_routing_policy(
            company=globex, outside_prefix="0", country_code="33", main_number=LYON_NUMBER, receptionist=None
        )
    assert error.value.message_dict == {"main_number": [f"{LYON_NUMBER} is already in use."]}
    globex.refresh_from_db()
    assert globex.main_number != LYON_NUMBER


def test_a_receptionist_rule_is_accepted_for_a_site_receptionist_when_the_company_has_none(
    acme: Company, carol: Person, dave: Person
) -> None:
    from telephony.choices import RuleCondition, RuleDestination

    # given: no company receptionist, but Lyon's is carol, and dave works in Lyon
    site = site_actions.create_site(
        company=acme, name="Lyon", timezone="", main_number="", receptionist=carol.user
    )
    site_actions.set_user_site(user=dave.user, site=site)
    dave.user.refresh_from_db()

    rule = forwarding_actions.create_forwarding_rule(
        user=dave.user, condition=RuleCondition.ALWAYS, destination=RuleDestination.RECEPTIONIST
    )
    assert rule.destination == RuleDestination.RECEPTIONIST
    # and carol herself may not forward to herself
    site_actions.set_user_site(user=carol.user, site=site)
    carol.user.refresh_from_db()
    with pytest.raises(ValidationError):
        forwarding_actions.create_forwarding_rule(
            user=carol.user, condition=RuleCondition.ALWAYS, destination=RuleDestination.RECEPTIONIST
        )
