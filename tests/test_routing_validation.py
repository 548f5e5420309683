"""Settings that could never work are refused with a message that says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from directory.models import Company
from telephony.actions.forwarding import check_forward_destination
from telephony.actions.users import create_user
from telephony.models import PhoneNumber
from tests.personas import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are checked in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


def test_forwarding_to_ones_own_public_number_is_refused(acme: Company, bob: Person) -> None:
    PhoneNumber.objects.create(company=acme, number="+33140000101", destination="user", user=bob.user)

    for typed in ("+33140000101", "0140000101"):
        with pytest.raises(ValidationError, match="your own public number"):
            check_forward_destination(user=bob.user, number=typed)


def test_forwarding_to_a_colleagues_public_number_is_accepted_in_e164(acme: Company, bob: Person) -> None:
    assert check_forward_destination(user=bob.user, number="0140000102") == "+33140000102"


def test_an_extension_starting_with_the_outside_prefix_is_refused(acme: Company) -> None:
    with pytest.raises(ValidationError) as error:
        create_user(company=acme, username="zoe", extension="012")

    assert "outside line prefix" in str(error.value.message_dict["extension"])


def test_an_emergency_number_cannot_be_an_extension(acme: Company) -> None:
    with pytest.raises(ValidationError) as error:
        create_user(company=acme, username="zoe", extension="112")

    assert "emergency number" in str(error.value.message_dict["extension"])


def test_barring_00_means_every_international_number_and_0_every_national_one() -> None:
    from telephony import routing

    def forbid(prefix: str) -> routing.BarringRule:
        target, number_class = routing.barring_target(prefix, "33")
        return routing.BarringRule("out", None, number_class=number_class, prefix=target)

    policy = routing.Policy(barring=(forbid("00"),))
    assert routing.barred("+441234567890", "out", 1, policy)
    assert not routing.barred("+33145000000", "out", 1, policy)
    national = routing.Policy(barring=(forbid("0"),))
    assert routing.barred("+33145000000", "out", 1, national)
    assert not routing.barred("+441234567890", "out", 1, national)
    assert routing.barring_target("06", "33") == ("+336", "")


def test_emergency_numbers_go_out_without_the_prefix_and_are_never_barred() -> None:
    from datetime import UTC, datetime

    from telephony import routing

    policy = routing.Policy(
        company_id=1,
        outside_prefix="0",
        barring=(routing.BarringRule("out", None, number_class="national"),),
    )
    caller = routing.Party(company_id=1, user_id=11, number="101", name="Bob")
    plan = routing.plan_call(routing.CallFacts(caller, "112"), None, datetime(2026, 1, 1, tzinfo=UTC), policy)

    assert isinstance(plan, routing.RingDevices) and plan.targets[0].number == "112"
