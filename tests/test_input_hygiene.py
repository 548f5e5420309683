"""Input that would mislead the platform is refused with a clear error, and nothing is saved (J2):
names and labels with control characters, the voicemail service number as an extension."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from directory.models import Company, Site, User
from telephony.actions import devices as device_actions
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import sites as site_actions
from telephony.actions import users as user_actions
from telephony.models import Device, Extension, SpeedDial

from .personas import Person


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Actions speak the active language; a page of an earlier test may have left French active."""
    with translation.override("en"):
        yield


NASTY = ["Bob\r\nX-Injected: yes", "Bob\x00", "Bob\x1b[31m", "\u202eboB", "Tab\there"]


@pytest.mark.parametrize("name", NASTY)
def test_a_user_name_with_control_characters_is_refused_and_nothing_is_created(
    acme: Company, name: str
) -> None:
    with pytest.raises(ValidationError) as error:
        user_actions.create_user(company=acme, username="eve", extension="150", first_name=name, last_name="")
    assert error.value.message_dict["first_name"] == ["Control characters are not allowed here."]
    assert not User.objects.filter(username="eve").exists()
    assert not Extension.objects.filter(number="150").exists()


def test_the_api_refuses_a_last_name_with_a_newline(alice: Person) -> None:
    client = APIClient()
    client.force_authenticate(alice.user)
    response = client.post(
        reverse("api:user-list"),
        {"username": "eve", "extension": "150", "last_name": "Doe\nAdmin"},
        format="json",
    )
    assert response.status_code == 400
    assert "last_name" in response.json()


def test_labels_and_site_names_refuse_control_characters(acme: Company, bob: Person) -> None:
    with pytest.raises(ValidationError):
        dial_plan_actions.create_speed_dial(
            company=acme, short_number="230", number="0145678900", label="Jo\r\nnes"
        )
    with pytest.raises(ValidationError):
        site_actions.create_site(company=acme, name="Paris\x07", timezone="", main_number="")
    device = Device.objects.get(user=bob.user)
    with pytest.raises(ValidationError):
        device_actions.update_device(device=device, label="Desk\x00")
    assert not SpeedDial.objects.exists() and not Site.objects.exists()
    device.refresh_from_db()
    assert device.label == "Desk phone"


def test_an_ordinary_accented_name_is_kept(acme: Company) -> None:
    user, _credentials = user_actions.create_user(
        company=acme, username="zoe", extension="150", first_name="Zoé", last_name="Lefèvre-Ñúñez"
    )
    assert user.get_full_name() == "Zoé Lefèvre-Ñúñez"


def test_the_voicemail_service_number_cannot_be_an_extension(acme: Company) -> None:
    with pytest.raises(ValidationError) as error:
        user_actions.create_user(company=acme, username="eve", extension=acme.voicemail_number)
    assert error.value.message_dict["extension"] == [
        "555 is the voicemail service number: it cannot be an extension."
    ]
    assert not User.objects.filter(username="eve").exists()
