"""The company directory through the API, and user creation by its admins."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from directory.models import User
from telephony.models import Device
from telephony.provisioning import sip_ha1

from .personas import Person


def _client_for(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def test_an_admin_creates_a_user_and_gets_the_sip_credentials_once(alice: Person) -> None:
    # when
    response = _client_for(alice).post(
        reverse("api:user-list"),
        {"username": "erin", "extension": "105", "first_name": "Erin", "password": "a-long-portal-pw-123"},
        format="json",
    )

    # then
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert (body["username"], body["extension"], body["role"]) == ("erin", "105", "user")
    credentials = body["sip_credentials"]
    device = Device.objects.get(user__username="erin")
    assert credentials["username"] == device.sip_username
    assert device.sip_ha1 == sip_ha1(credentials["username"], credentials["password"])
    assert "password" not in _client_for(alice).get(reverse("api:user-detail", args=[body["id"]])).json()
    assert User.objects.get(username="erin").check_password("a-long-portal-pw-123")


def test_a_duplicate_extension_is_a_400_on_the_extension_field(alice: Person, bob: Person) -> None:
    # when
    response = _client_for(alice).post(
        reverse("api:user-list"), {"username": "erin", "extension": "101"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"extension": ["Extension 101 already exists in Acme."]}


def test_an_extension_taken_in_another_company_is_free_in_mine(alice: Person, gus: Person) -> None:
    # when: Globex's gus is 101 too
    response = _client_for(alice).post(
        reverse("api:user-list"), {"username": "erin", "extension": "101"}, format="json"
    )

    # then
    assert response.status_code == 201


def test_a_user_who_is_not_admin_cannot_create_users(bob: Person) -> None:
    # when
    response = _client_for(bob).post(
        reverse("api:user-list"), {"username": "eve", "extension": "150"}, format="json"
    )

    # then
    assert response.status_code == 403
    assert not User.objects.filter(username="eve").exists()


def test_me_summarises_the_requesting_user(bob: Person) -> None:
    # when
    me = _client_for(bob).get(reverse("api:me")).json()

    # then
    assert (me["username"], me["extension"], me["effective_language"]) == ("bob", "101", "en")
    assert me["company"]["name"] == "Acme"
    assert [d["sip_username"] for d in me["devices"]] == [bob.sip_username]


def test_a_user_without_a_company_is_refused(db: None) -> None:
    # given
    root = User.objects.create_superuser("root", "root@example.test", "x-root-password-1")
    client = APIClient()
    client.force_authenticate(root)

    # when
    response = client.get(reverse("api:user-list"))

    # then
    assert response.status_code == 403


def test_the_user_list_costs_the_same_few_queries_however_long(
    alice: Person, bob: Person, carol: Person, dave: Person, django_assert_max_num_queries
) -> None:
    # then: count and page, extensions joined
    with django_assert_max_num_queries(2):
        assert _client_for(alice).get(reverse("api:user-list")).json()["count"] == 4
