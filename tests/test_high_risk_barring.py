"""High-risk numbers (C4, J2) in the database: barred for every new company, editable by its
administrator (API and myTelephony), refused as a forwarding destination and as a remote terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from directory.models import Company, User
from telephony.actions import call_settings as call_settings_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.models import Device
from telephony.queries import policy_for
from telephony.routing import barred

from .personas import PORTAL_PASSWORD, Person, make_company


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Actions speak the active language; a page of an earlier test may have left French active."""
    with translation.override("en"):
        yield


PREMIUM_979 = "00979123456789"


def fresh(person: Person) -> User:
    return User.objects.select_related("company").get(pk=person.user.pk)


def test_a_new_company_bars_high_risk_numbers(db: None) -> None:
    company = make_company("initech", "Initech")

    assert company.bar_high_risk is True
    assert barred("+979123456789", "out", None, policy_for(company))
    assert barred("+881612345678", "out", None, policy_for(company))


def test_a_user_cannot_forward_to_a_high_risk_number(bob: Person) -> None:
    with pytest.raises(ValidationError) as error:
        forwarding_actions.check_forward_destination(user=bob.user, number=PREMIUM_979)
    assert "not allowed to call" in error.value.messages[0]


def test_a_high_risk_number_cannot_be_a_remote_terminal(bob: Person) -> None:
    with pytest.raises(ValidationError):
        call_settings_actions.add_remote_terminal(user=bob.user, number="00881612345678", label="Sat phone")
    assert not Device.objects.filter(user=bob.user, kind="remote").exists()


def test_the_administrator_lifts_and_restores_the_bar_through_the_api(alice: Person, bob: Person) -> None:
    client = APIClient()
    client.force_authenticate(alice.user)
    url = reverse("api:company-routing")
    assert client.get(url).json()["bar_high_risk"] is True

    assert client.patch(url, {"bar_high_risk": False}, format="json").status_code == 200

    forwarding_actions.check_forward_destination(user=fresh(bob), number=PREMIUM_979)  # now allowed
    assert client.patch(url, {"bar_high_risk": True}, format="json").json()["bar_high_risk"] is True
    with pytest.raises(ValidationError):
        forwarding_actions.check_forward_destination(user=fresh(bob), number=PREMIUM_979)


def test_a_user_cannot_lift_the_bar(bob: Person) -> None:
    client = APIClient()
    client.force_authenticate(bob.user)
    response = client.patch(reverse("api:company-routing"), {"bar_high_risk": False}, format="json")
    assert response.status_code == 403
    company = Company.objects.get(users=bob.user)
    assert company.bar_high_risk is True


def test_mytelephony_shows_and_saves_the_bar(client: Client, alice: Person) -> None:
    client.login(username="alice", password=PORTAL_PASSWORD)
    page = client.get(reverse("portal:routing")).content.decode()
    assert "Bar high-risk numbers" in page

    form = {"outside_prefix": "0", "country_code": "33", "main_number": "", "receptionist": ""}
    client.post(reverse("portal:routing_policy"), form)

    assert Company.objects.get(users=alice.user).bar_high_risk is False
    client.post(reverse("portal:routing_policy"), {**form, "bar_high_risk": "on"})
    assert Company.objects.get(users=alice.user).bar_high_risk is True


def test_a_remote_terminal_added_switched_off_stays_off(bob: Person) -> None:
    client = APIClient()
    client.force_authenticate(bob.user)
    response = client.post(
        reverse("api:remote-terminal-list"), {"number": "0612345678", "enabled": False}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["enabled"] is False
    assert Device.objects.get(user=bob.user, kind="remote").enabled is False
