"""Public numbers (DIDs, company and site numbers) are stored in E.164 and compared as numbers: a
company cannot take another's number written in another form, and a carrier's called number in any
form reaches the number's owner (A3, J2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from directory.models import Company
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import sites as site_actions
from telephony.models import PhoneNumber
from telephony.numbers import public_number
from telephony.queries import did_target

from .personas import Person


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Actions speak the active language; a page of an earlier test may have left French active."""
    with translation.override("en"):
        yield


GINA_NUMBER = "+33150000100"
OTHER_FORMS = ["0150000100", "33150000100", "0033150000100", "01 50 00 01 00"]


@given(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True))
def test_every_way_of_writing_a_french_number_is_the_same_e164_number(national: str) -> None:
    e164 = f"+33{national}"
    assert {
        public_number(e164, "33"),
        public_number(f"0{national}", "33"),
        public_number(f"33{national}", "33"),
        public_number(f"0033{national}", "33"),
    } == {e164}


def test_a_national_number_takes_its_companys_country_code() -> None:
    assert public_number("0207946000", "44") == "+44207946000"


@pytest.fixture
def gina_number(gina: Person) -> PhoneNumber:
    assert gina.user.company is not None
    return dial_plan_actions.create_phone_number(
        company=gina.user.company, number=GINA_NUMBER, destination="user", user=gina.user
    )


@pytest.mark.parametrize("written", OTHER_FORMS)
def test_another_companys_number_in_another_form_is_refused(
    gina_number: PhoneNumber, alice: Person, bob: Person, written: str
) -> None:
    acme = alice.user.company
    assert acme is not None
    with pytest.raises(ValidationError) as error:
        dial_plan_actions.create_phone_number(company=acme, number=written, destination="user", user=bob.user)
    assert error.value.message_dict["number"] == [f"{GINA_NUMBER} is already in use."]
    assert list(PhoneNumber.objects.values_list("number", flat=True)) == [GINA_NUMBER]


@pytest.mark.parametrize("written", OTHER_FORMS)
def test_another_companys_number_cannot_become_a_company_or_site_number(
    gina_number: PhoneNumber, acme: Company, written: str
) -> None:
    with pytest.raises(ValidationError):
        dial_plan_actions.update_routing_policy(
            company=acme, outside_prefix="0", country_code="33", main_number=written, receptionist=None
        )
    with pytest.raises(ValidationError):
        site_actions.create_site(company=acme, name="Paris", timezone="", main_number=written)
    acme.refresh_from_db()
    assert acme.main_number == ""


def test_a_company_number_cannot_be_another_companys_public_number(
    acme: Company, alice: Person, gina: Person
) -> None:
    dial_plan_actions.update_routing_policy(
        company=acme, outside_prefix="0", country_code="33", main_number="01 40 00 00 00", receptionist=None
    )
    globex = gina.user.company
    assert globex is not None
    with pytest.raises(ValidationError):
        dial_plan_actions.create_phone_number(
            company=globex, number="0033140000000", destination="user", user=gina.user
        )
    acme.refresh_from_db()
    assert acme.main_number == "+33140000000"


def test_a_number_is_kept_in_e164(gina: Person) -> None:
    assert gina.user.company is not None
    number = dial_plan_actions.create_phone_number(
        company=gina.user.company, number="01 50 00 01 01", destination="voicemail"
    )
    assert number.number == "+33150000101"


@pytest.mark.parametrize("called", [GINA_NUMBER, *OTHER_FORMS])
@override_settings(CARRIER_COUNTRY_CODE="33")
def test_a_carriers_called_number_in_any_form_reaches_its_owner(
    gina_number: PhoneNumber, gina: Person, called: str
) -> None:
    target = did_target(called.replace(" ", ""))
    assert target is not None
    assert (target.company_id, target.dial) == (gina.user.company_id, "100")
