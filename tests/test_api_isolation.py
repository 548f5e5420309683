"""Companies never see each other through the API, and users only change what is theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from telephony.models import Device

from .personas import PORTAL_PASSWORD, Person, record_call

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


# One of each kind of Acme object, by the API basename that serves it.
AcmeObjects = dict[str, str]


@pytest.fixture
def acme_objects(alice: Person, bob: Person, carol: Person) -> AcmeObjects:
    call_id = record_call(bob, carol, at=T0, answered=True)
    return {
        "user": str(bob.user.pk),
        "extension": str(bob.user.extension.pk),
        "device": str(Device.objects.get(user=bob.user).pk),
        "call": str(call_id),
    }


def _client_for(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def _listed_ids(client: APIClient, basename: str) -> set[str]:
    response = client.get(reverse(f"api:{basename}-list"), {"limit": 1000})
    assert response.status_code == 200
    return {str(item["id"]) for item in response.json()["results"]}


KINDS = ["user", "extension", "device", "call"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("viewer", ["gus", "gina"])
def test_globex_users_get_404_for_every_acme_object(
    acme_objects: AcmeObjects, gus: Person, gina: Person, kind: str, viewer: str
) -> None:
    # given
    client = _client_for({"gus": gus, "gina": gina}[viewer])

    # when
    response = client.get(reverse(f"api:{kind}-detail", args=[acme_objects[kind]]))

    # then
    assert response.status_code == 404


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("viewer", ["gus", "gina"])
def test_globex_users_never_see_acme_objects_in_lists(
    acme_objects: AcmeObjects, gus: Person, gina: Person, kind: str, viewer: str
) -> None:
    # given
    client = _client_for({"gus": gus, "gina": gina}[viewer])

    # when
    listed = _listed_ids(client, kind)

    # then
    assert acme_objects[kind] not in listed


@pytest.mark.parametrize("kind", KINDS)
def test_acme_admin_sees_every_acme_object(acme_objects: AcmeObjects, alice: Person, kind: str) -> None:
    # given: the same lookups that answer 404 to Globex do find the objects for Acme's admin
    client = _client_for(alice)

    # when
    response = client.get(reverse(f"api:{kind}-detail", args=[acme_objects[kind]]))

    # then
    assert response.status_code == 200
    assert acme_objects[kind] in _listed_ids(client, kind)


def test_globex_admin_cannot_patch_an_acme_device(acme_objects: AcmeObjects, gina: Person) -> None:
    # given
    device_id = acme_objects["device"]

    # when
    response = _client_for(gina).patch(reverse("api:device-detail", args=[device_id]), {"ring_delay": 9})

    # then
    assert response.status_code == 404
    assert Device.objects.get(pk=device_id).ring_delay == 0


def test_globex_me_shows_nothing_of_acme(acme_objects: AcmeObjects, gus: Person) -> None:
    # when
    me = _client_for(gus).get(reverse("api:me")).json()

    # then
    assert me["username"] == "gus"
    assert me["company"]["slug"] == "globex"
    assert [d["sip_username"] for d in me["devices"]] == [gus.sip_username]


def test_token_authentication_works(bob: Person) -> None:
    # given
    client = APIClient()
    token = client.post(reverse("api:token"), {"username": "bob", "password": PORTAL_PASSWORD}).json()[
        "token"
    ]

    # when
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(reverse("api:me"))

    # then
    assert response.status_code == 200
    assert response.json()["extension"] == "101"


def test_a_wrong_token_is_refused(bob: Person) -> None:
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    # when
    response = client.get(reverse("api:me"))

    # then: 403 rather than 401, because session authentication comes first in settings
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token."}


def test_an_anonymous_client_is_refused(db: None) -> None:
    # when
    response = APIClient().get(reverse("api:device-list"))

    # then
    assert response.status_code == 403


def test_a_user_cannot_patch_another_users_device(bob: Person, carol: Person) -> None:
    # given
    carols_phone = Device.objects.get(user=carol.user)

    # when
    response = _client_for(bob).patch(reverse("api:device-detail", args=[carols_phone.pk]), {"ring_delay": 9})

    # then
    assert response.status_code == 404
    carols_phone.refresh_from_db()
    assert carols_phone.ring_delay == 0


def test_a_user_changes_their_own_device(bob: Person) -> None:
    # given
    phone = Device.objects.get(user=bob.user)

    # when
    response = _client_for(bob).patch(
        reverse("api:device-detail", args=[phone.pk]), {"ring_delay": 15, "enabled": False, "label": "Desk"}
    )

    # then
    assert response.status_code == 200
    assert (response.json()["ring_delay"], response.json()["enabled"]) == (15, False)
    phone.refresh_from_db()
    assert (phone.ring_delay, phone.enabled, phone.label) == (15, False, "Desk")


def test_an_admin_changes_a_device_of_their_company(alice: Person, bob: Person) -> None:
    # given
    phone = Device.objects.get(user=bob.user)

    # when
    response = _client_for(alice).patch(reverse("api:device-detail", args=[phone.pk]), {"ring_delay": 5})

    # then
    assert response.status_code == 200
    phone.refresh_from_db()
    assert phone.ring_delay == 5


def test_a_ring_delay_of_31_is_refused_with_a_clear_message_and_the_old_value_kept(bob: Person) -> None:
    # given
    phone = Device.objects.get(user=bob.user)
    client = _client_for(bob)
    client.patch(reverse("api:device-detail", args=[phone.pk]), {"ring_delay": 10})

    # when
    response = client.patch(reverse("api:device-detail", args=[phone.pk]), {"ring_delay": 31})

    # then
    assert response.status_code == 400
    assert response.json() == {"ring_delay": ["The ring delay must be between 0 and 30 seconds."]}
    phone.refresh_from_db()
    assert phone.ring_delay == 10


def test_only_the_device_fields_a_user_may_change_are_written(bob: Person) -> None:
    # given
    phone = Device.objects.get(user=bob.user)

    # when
    response = _client_for(bob).patch(
        reverse("api:device-detail", args=[phone.pk]), {"sip_username": "acme-999", "sip_ha1": "0" * 32}
    )

    # then
    assert response.status_code == 200
    phone.refresh_from_db()
    assert phone.sip_username == bob.sip_username
    assert phone.sip_ha1 != "0" * 32


def test_devices_never_expose_their_sip_hash(alice: Person, bob: Person) -> None:
    # given
    phone = Device.objects.get(user=bob.user)

    # when
    listing = _client_for(alice).get(reverse("api:device-list")).content.decode()
    me = _client_for(bob).get(reverse("api:me")).content.decode()

    # then
    for body in (listing, me):
        assert "sip_ha1" not in body
        assert phone.sip_ha1 not in body
        assert bob.sip_password not in body


def test_a_user_sees_the_directory_but_only_their_own_devices_and_calls(
    bob: Person, carol: Person, dave: Person
) -> None:
    # given
    bobs_call = record_call(bob, carol, at=T0, answered=True)
    others_call = record_call(carol, dave, at=T0 + timedelta(minutes=5), answered=True)
    client = _client_for(bob)

    # when
    users = _listed_ids(client, "user")
    devices = _listed_ids(client, "device")
    calls = _listed_ids(client, "call")

    # then
    assert users == {str(p.user.pk) for p in (bob, carol, dave)}
    assert devices == {str(Device.objects.get(user=bob.user).pk)}
    assert calls == {str(bobs_call)}
    assert client.get(reverse("api:call-detail", args=[others_call])).status_code == 404
