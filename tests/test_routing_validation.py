"""Settings that could never work are refused with a message that says why."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from directory.models import Company
from telephony.actions import create_user
from telephony.models import PhoneNumber
from telephony.settings_actions import check_forward_destination
from tests.personas import Person

pytestmark = pytest.mark.django_db


def test_forwarding_to_ones_own_public_number_is_refused(acme: Company, bob: Person) -> None:
    PhoneNumber.objects.create(company=acme, number="+33140000101", destination="user", user=bob.user)

    for typed in ("+33140000101", "0140000101"):
        with pytest.raises(ValidationError, match="your own public number"):
            check_forward_destination(bob.user, typed)


def test_forwarding_to_a_colleagues_public_number_is_accepted_in_e164(acme: Company, bob: Person) -> None:
    assert check_forward_destination(bob.user, "0140000102") == "+33140000102"


def test_an_extension_starting_with_the_outside_prefix_is_refused(acme: Company) -> None:
    with pytest.raises(ValidationError) as error:
        create_user(company=acme, username="zoe", extension="012")

    assert "outside line prefix" in str(error.value.message_dict["extension"])
