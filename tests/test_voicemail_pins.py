"""Voicemail PINs (E2, J2): trivial PINs are refused wherever a PIN is chosen, and wrong PINs typed
from other phones than the owner's count across calls until remote access is locked, the owner is
told by e-mail, and the lock is logged; the owner's own phone is never locked out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from telephony.actions import dial_plan as dial_plan_actions
from voicemail import actions
from voicemail.actions import PinVerdict, try_pin
from voicemail.models import Mailbox, trivial_pin

from .personas import PORTAL_PASSWORD, Person, make_person
from .test_voicemail_notifications import eager_celery  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Actions speak the active language; a page of an earlier test may have left French active."""
    with translation.override("en"):
        yield


DEMO_PIN = "2580"


def _mailbox(person: Person) -> Mailbox:
    return actions.ensure_mailbox(user=person.user)


# --- trivial PINs ----------------------------------------------------------------------------------


@given(st.sampled_from("0123456789"), st.integers(4, 8))
def test_one_digit_repeated_is_trivial(digit: str, length: int) -> None:
    assert trivial_pin(digit * length)


@given(st.integers(0, 9), st.integers(4, 8), st.sampled_from([1, -1]))
def test_a_run_up_or_down_is_trivial(start: int, length: int, step: int) -> None:
    assert trivial_pin("".join(str((start + step * i) % 10) for i in range(length)))


@pytest.mark.parametrize("pin", ["0000", "1111", "1234", "4321", "9876", "7890", "123456", "1212"])
def test_the_first_pins_a_guesser_tries_are_trivial(pin: str) -> None:
    assert trivial_pin(pin)


@pytest.mark.parametrize("pin", [DEMO_PIN, "4821", "7395", "482193", "1357"])
def test_ordinary_pins_are_not_trivial(pin: str) -> None:
    assert not trivial_pin(pin)


def test_the_demo_pin_is_valid_for_every_demo_extension_and_number() -> None:
    for own in (["100", "+33140000100"], ["101", "+33140000101"], ["102"], ["103"], ["100", "+33150000100"]):
        assert not trivial_pin(DEMO_PIN, own)


def test_ones_own_extension_or_the_end_of_ones_number_is_refused(acme: Any) -> None:
    erin = make_person(acme, "erin", "4711")
    dial_plan_actions.create_phone_number(
        company=acme, number="+33140004242", destination="user", user=erin.user
    )
    for pin in ["4711", "4242", "40004242"]:
        with pytest.raises(ValidationError) as error:
            actions.set_pin(mailbox=_mailbox(erin), pin=pin)
        assert "too easy to guess" in error.value.messages[0]
    assert not _mailbox(erin).has_pin


def test_the_api_and_myistra_refuse_a_trivial_pin(client: Client, carol: Person) -> None:
    api = APIClient()
    api.force_authenticate(carol.user)
    response = api.post(reverse("api:voicemail-pin"), {"pin": "1234"}, format="json")
    assert response.status_code == 400
    assert "too easy to guess" in response.json()["pin"][0]

    client.login(username="carol", password=PORTAL_PASSWORD)
    page = client.post(reverse("portal:voicemail_pin"), {"pin": "0000", "pin_again": "0000"})
    assert "too easy to guess" in page.content.decode()
    assert not _mailbox(carol).has_pin


# --- remote access locked after repeated failures --------------------------------------------------


@pytest.mark.usefixtures("eager_celery")
def test_wrong_pins_from_elsewhere_lock_remote_access_tell_the_owner_and_log_it(
    carol: Person, settings: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    # given
    settings.VOICEMAIL_MAX_PIN_FAILURES = 10
    carol.user.email = "carol@acme.example"
    carol.user.save()
    mailbox = _mailbox(carol)
    actions.set_pin(mailbox=mailbox, pin=DEMO_PIN)

    # when: ten wrong PINs from outside, over several calls
    with django_capture_on_commit_callbacks(execute=True):
        verdicts = [
            try_pin(mailbox_id=mailbox.pk, pin=f"{n:04d}", own_phone=False, source="+979555")
            for n in range(3000, 3010)
        ]

    # then: locked, even against the right PIN; the owner got an e-mail; the lock is logged
    assert verdicts == [PinVerdict.WRONG] * 10
    assert (
        try_pin(mailbox_id=mailbox.pk, pin=DEMO_PIN, own_phone=False, source="+979555") == PinVerdict.LOCKED
    )
    assert [m.to for m in mail.outbox] == [["carol@acme.example"]]
    assert "locked" in mail.outbox[0].subject
    assert "locked for remote access after 10 wrong PINs" in caplog.text


def test_the_owners_own_phone_is_never_locked_out_nor_counts(carol: Person, settings: Any) -> None:
    settings.VOICEMAIL_MAX_PIN_FAILURES = 3
    mailbox = _mailbox(carol)
    actions.set_pin(mailbox=mailbox, pin=DEMO_PIN)
    for _ in range(5):
        assert (
            try_pin(mailbox_id=mailbox.pk, pin="9999", own_phone=True, source="acme-102") == PinVerdict.WRONG
        )
    assert try_pin(mailbox_id=mailbox.pk, pin=DEMO_PIN, own_phone=False, source="x") == PinVerdict.OPEN

    for _ in range(3):
        try_pin(mailbox_id=mailbox.pk, pin="9999", own_phone=False, source="x")
    assert try_pin(mailbox_id=mailbox.pk, pin=DEMO_PIN, own_phone=False, source="x") == PinVerdict.LOCKED
    assert try_pin(mailbox_id=mailbox.pk, pin=DEMO_PIN, own_phone=True, source="acme-102") == PinVerdict.OPEN


def test_a_right_pin_from_elsewhere_starts_the_count_afresh_and_a_new_pin_lifts_the_lock(
    carol: Person, settings: Any
) -> None:
    settings.VOICEMAIL_MAX_PIN_FAILURES = 3
    mailbox = _mailbox(carol)
    actions.set_pin(mailbox=mailbox, pin=DEMO_PIN)
    for _ in range(2):
        try_pin(mailbox_id=mailbox.pk, pin="9999", own_phone=False, source="x")
    assert try_pin(mailbox_id=mailbox.pk, pin=DEMO_PIN, own_phone=False, source="x") == PinVerdict.OPEN
    for _ in range(2):
        try_pin(mailbox_id=mailbox.pk, pin="9999", own_phone=False, source="x")
    assert try_pin(mailbox_id=mailbox.pk, pin=DEMO_PIN, own_phone=False, source="x") == PinVerdict.OPEN

    for _ in range(3):
        try_pin(mailbox_id=mailbox.pk, pin="9999", own_phone=False, source="x")
    actions.set_pin(mailbox=_mailbox(carol), pin="7395")
    assert try_pin(mailbox_id=mailbox.pk, pin="7395", own_phone=False, source="x") == PinVerdict.OPEN
