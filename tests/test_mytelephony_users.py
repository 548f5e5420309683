"""myTelephony after creation: alice, Acme's admin, edits a user, sets a portal password, disables and
deletes users and phones; each destructive action first says what it will do; the users list searches
and sorts in a fixed number of queries; nobody else (bob, Globex's gus) may do any of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse

from directory.models import User
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.choices import RuleCondition, RuleDestination
from telephony.models import Device, Extension, ForwardingRule, PhoneNumber
from tests.personas import PORTAL_PASSWORD, Person
from tests.voicemails import Recorder, leave_message
from voicemail import actions as voicemail_actions
from voicemail.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_reaches_asterisk(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    removed = Recorder()
    monkeypatch.setattr("telephony.provisioning.push_device", Recorder())
    monkeypatch.setattr("telephony.provisioning.remove_endpoint", removed)
    monkeypatch.setattr("telephony.registrations.registration_of", lambda username: None)
    monkeypatch.setattr("voicemail.mwi.publish", Recorder())
    monkeypatch.setattr("voicemail.tasks.notify_new_message", Recorder())
    return removed


def _as(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


# --- Edit ---------------------------------------------------------------------------------------------


def test_alice_corrects_bobs_name_email_and_extension(client: Client, alice: Person, bob: Person) -> None:
    # when
    response = _as(client, alice).post(
        reverse("portal:user_edit", args=[bob.user.pk]),
        {"first_name": "Robert", "last_name": "Martin", "email": "bob@acme.test", "extension": "111"},
        follow=True,
    )

    # then the user page shows him as corrected
    html = response.content.decode()
    assert "Robert Martin is saved." in html
    assert 'id="user-extension">111<' in html and "bob@acme.test" in html
    assert Extension.objects.get(user=bob.user).number == "111"


def test_an_extension_taken_is_refused_with_what_was_typed_kept(
    client: Client, alice: Person, bob: Person, carol: Person
) -> None:
    # when
    response = _as(client, alice).post(
        reverse("portal:user_edit", args=[bob.user.pk]),
        {"first_name": "Robert", "last_name": "", "email": "", "extension": "102"},
    )

    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert "Extension 102 already exists in Acme." in html
    assert 'value="Robert"' in html
    bob.user.refresh_from_db()
    assert bob.user.first_name == "Bob" and Extension.objects.get(user=bob.user).number == "101"


def test_a_user_created_without_a_password_can_log_in_once_alice_sets_one(
    client: Client, alice: Person, acme: Any
) -> None:
    # given
    erin, _ = voicemail_actions.create_user_with_mailbox(
        company=acme, username="erin", extension="104", first_name="Erin"
    )
    page = _as(client, alice).get(reverse("portal:user_detail", args=[erin.pk])).content.decode()
    assert "cannot log in until you set one" in page

    # when
    response = client.post(
        reverse("portal:user_password", args=[erin.pk]),
        {"password": "a-new-long-secret", "password_again": "a-new-long-secret"},
        follow=True,
    )

    # then
    assert "Erin can log in with the new password now." in response.content.decode()
    assert authenticate(username="erin", password="a-new-long-secret") is not None


def test_two_different_passwords_are_refused(client: Client, alice: Person, bob: Person) -> None:
    response = _as(client, alice).post(
        reverse("portal:user_password", args=[bob.user.pk]),
        {"password": "a-new-long-secret", "password_again": "another-long-secret"},
    )
    assert response.status_code == 400
    assert "The two passwords differ." in response.content.decode()
    assert authenticate(username="bob", password=PORTAL_PASSWORD) is not None


# --- Disable, delete ------------------------------------------------------------------------------


def test_disabling_asks_first_then_bob_can_no_longer_log_in(
    client: Client, alice: Person, bob: Person
) -> None:
    # when alice opens Disable
    url = reverse("portal:user_active", args=[bob.user.pk])
    question = _as(client, alice).get(url).content.decode()

    # then she is told what it does, and nothing is done yet
    assert "Disable Bob?" in question and "can no longer log in" in question
    bob.user.refresh_from_db()
    assert bob.user.is_active

    # when she confirms
    client.post(url, {"active": "off"})

    # then
    bob.user.refresh_from_db()
    assert not bob.user.is_active
    assert authenticate(username="bob", password=PORTAL_PASSWORD) is None
    assert 'data-extension="101"' not in client.get(reverse("portal:directory")).content.decode()

    # and enabling him gives everything back
    client.post(url, {"active": "on"})
    assert authenticate(username="bob", password=PORTAL_PASSWORD) is not None


def test_alice_cannot_disable_or_delete_herself(client: Client, alice: Person) -> None:
    _as(client, alice).post(reverse("portal:user_active", args=[alice.user.pk]), {"active": "off"})
    response = client.post(reverse("portal:user_delete", args=[alice.user.pk]), follow=True)
    alice.user.refresh_from_db()
    assert alice.user.is_active
    assert "You cannot delete your own account." in response.content.decode()


def test_deleting_says_what_goes_then_takes_bobs_numbers_rules_messages_and_phones(
    client: Client,
    alice: Person,
    bob: Person,
    carol: Person,
    nothing_reaches_asterisk: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given bob with a public number, a rule and a message
    company = bob.user.company
    assert company is not None
    dial_plan_actions.create_phone_number(
        company=company, number="0170000001", destination="user", user=bob.user
    )
    forwarding_actions.create_forwarding_rule(
        user=bob.user,
        condition=RuleCondition.BUSY,
        destination=RuleDestination.NUMBER,
        destination_number="102",
    )
    leave_message(bob, seconds=2)
    url = reverse("portal:user_delete", args=[bob.user.pk])

    # when alice opens Delete
    question = _as(client, alice).get(url).content.decode()

    # then she reads what will happen, before anything does
    assert "Extension 101 becomes free" in question
    assert "1 phone is removed" in question
    assert "The public numbers +33170000001 are deleted" in question  # stored in E.164
    assert "1 forwarding rule is deleted." in question
    assert "1 voicemail message is deleted" in question
    assert User.objects.filter(pk=bob.user.pk).exists()

    # when she confirms
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)

    # then bob and what was his are gone, and his phone is taken off Asterisk
    assert "Bob is deleted." in response.content.decode()
    assert not User.objects.filter(pk=bob.user.pk).exists()
    assert not PhoneNumber.objects.filter(number="+33170000001").exists()
    assert not ForwardingRule.objects.filter(user_id=bob.user.pk).exists()
    assert not Message.objects.filter(mailbox__user_id=bob.user.pk).exists()
    assert not Extension.objects.filter(number="101", company=company).exists()
    assert [args for args, _ in nothing_reaches_asterisk.calls] == [("acme-101",)]


# --- Phones ------------------------------------------------------------------------------------------


def test_alice_disables_and_enables_bobs_phone(client: Client, alice: Person, bob: Person) -> None:
    device = Device.objects.get(user=bob.user)
    url = reverse("portal:device_enabled", args=[device.pk])
    response = _as(client, alice).post(url, {"enabled": "off"}, follow=True)
    assert "Desk phone is disabled: it no longer rings." in response.content.decode()
    device.refresh_from_db()
    assert not device.enabled
    client.post(url, {"enabled": "on"})
    device.refresh_from_db()
    assert device.enabled


def test_removing_a_phone_asks_first_then_removes_it(client: Client, alice: Person, bob: Person) -> None:
    device = Device.objects.get(user=bob.user)
    url = reverse("portal:device_delete", args=[device.pk])
    question = _as(client, alice).get(url).content.decode()
    assert "Remove Desk phone (acme-101) from Bob?" in question and "can never register again" in question
    assert Device.objects.filter(pk=device.pk).exists()
    client.post(url)
    assert not Device.objects.filter(pk=device.pk).exists()


def test_resetting_a_sip_password_asks_first(client: Client, alice: Person, bob: Person) -> None:
    device = Device.objects.get(user=bob.user)
    ha1 = device.sip_ha1
    question = _as(client, alice).get(reverse("portal:reset_sip_password", args=[device.pk])).content.decode()
    assert "The phone is logged out at once" in question
    device.refresh_from_db()
    assert device.sip_ha1 == ha1


def test_the_user_page_shows_each_phones_registration(
    client: Client, alice: Person, bob: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telephony.registrations import Registration

    monkeypatch.setattr(
        "telephony.registrations.registration_of",
        lambda username: Registration(True, "192.0.2.7:5062", "Yealink T46U"),
    )
    html = _as(client, alice).get(reverse("portal:user_detail", args=[bob.user.pk])).content.decode()
    assert 'data-registered="yes"' in html and "192.0.2.7:5062" in html and "Yealink T46U" in html


# --- The list ------------------------------------------------------------------------------------------


def _listed(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('data-username="')[1:]]


def test_the_users_list_searches_and_sorts(
    client: Client, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    _as(client, alice)
    assert _listed(client.get(reverse("portal:mytelephony")).content.decode()) == [
        "alice",
        "bob",
        "carol",
        "dave",
    ]
    by_extension_down = client.get(reverse("portal:mytelephony"), {"sort": "-extension"}).content.decode()
    assert _listed(by_extension_down) == ["dave", "carol", "bob", "alice"]
    assert 'aria-sort="descending"' in by_extension_down
    assert _listed(client.get(reverse("portal:mytelephony"), {"q": "car"}).content.decode()) == ["carol"]
    assert _listed(client.get(reverse("portal:mytelephony"), {"q": "103"}).content.decode()) == ["dave"]


def test_the_users_list_costs_the_same_queries_however_many_users(
    client: Client, alice: Person, acme: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        voicemail_actions.create_user_with_mailbox(company=acme, username=f"user{n}", extension=f"2{n:02d}")
    _as(client, alice)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("portal:mytelephony"), {"sort": "name"})
    assert len(_listed(response.content.decode())) == 31


# --- Who may ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("user_edit", "get"),
        ("user_edit", "post"),
        ("user_password", "post"),
        ("user_active", "get"),
        ("user_active", "post"),
        ("user_delete", "get"),
        ("user_delete", "post"),
    ],
)
def test_only_an_admin_of_the_company_reaches_a_user(
    client: Client, bob: Person, carol: Person, gus: Person, name: str, method: str
) -> None:
    url = reverse(f"portal:{name}", args=[carol.user.pk])
    assert getattr(_as(client, bob), method)(url).status_code == 403
    assert getattr(_as(Client(), gus), method)(url).status_code in (403, 404)
    assert User.objects.get(pk=carol.user.pk).is_active


@pytest.mark.parametrize(
    ("name", "method"), [("device_enabled", "post"), ("device_delete", "get"), ("device_delete", "post")]
)
def test_another_companys_admin_does_not_find_a_phone(
    client: Client, carol: Person, gina: Person, name: str, method: str
) -> None:
    device = Device.objects.get(user=carol.user)
    assert getattr(_as(client, gina), method)(reverse(f"portal:{name}", args=[device.pk])).status_code == 404
    assert Device.objects.filter(pk=device.pk, enabled=True).exists()
