"""The company's sites through the API (A1, C5): everyone of the company reads them, its admins
change them, and another company's sites do not exist (404)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from directory.models import Company, Site
from telephony.actions import sites as site_actions

from .personas import Person

LYON_NUMBER = "+33472000000"


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Actions speak the active language; a page of an earlier test may have left French active."""
    with translation.override("en"):
        yield


def _client_for(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


@pytest.fixture
def lyon(acme: Company, carol: Person) -> Site:
    return site_actions.create_site(
        company=acme, name="Lyon", timezone="Europe/Paris", main_number=LYON_NUMBER, receptionist=carol.user
    )


def test_every_user_of_the_company_reads_its_sites(bob: Person, lyon: Site) -> None:
    response = _client_for(bob).get(reverse("api:site-list"))

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": lyon.pk,
            "name": "Lyon",
            "timezone": "Europe/Paris",
            "main_number": LYON_NUMBER,
            "receptionist": lyon.receptionist_id,
        }
    ]


def test_an_admin_creates_edits_and_deletes_a_site(alice: Person, dave: Person) -> None:
    admin = _client_for(alice)

    created = admin.post(
        reverse("api:site-list"), {"name": "Paris", "main_number": "+33140000000"}, format="json"
    )
    site_id = created.json()["id"]
    edited = admin.patch(
        reverse("api:site-detail", args=[site_id]), {"receptionist": dave.user.pk, "timezone": "Europe/Paris"}
    )
    deleted = admin.delete(reverse("api:site-detail", args=[site_id]))

    assert created.status_code == 201
    assert created.json()["timezone"] == ""
    assert edited.status_code == 200
    assert (edited.json()["receptionist"], edited.json()["main_number"]) == (dave.user.pk, "+33140000000")
    assert deleted.status_code == 204
    assert not Site.objects.filter(pk=site_id).exists()


def test_a_refused_site_is_a_400_naming_the_field(alice: Person, lyon: Site) -> None:
    response = _client_for(alice).post(
        reverse("api:site-list"), {"name": "Annex", "main_number": LYON_NUMBER}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"main_number": [f"{LYON_NUMBER} is already in use."]}


def test_a_site_where_users_work_is_not_deleted(alice: Person, carol: Person, lyon: Site) -> None:
    site_actions.set_user_site(user=carol.user, site=lyon)

    response = _client_for(alice).delete(reverse("api:site-detail", args=[lyon.pk]))

    assert response.status_code == 409
    assert "Users still work at Lyon" in response.json()["detail"]


def test_users_do_not_change_sites(bob: Person, lyon: Site) -> None:
    client = _client_for(bob)

    assert client.post(reverse("api:site-list"), {"name": "Annex"}).status_code == 403
    assert client.patch(reverse("api:site-detail", args=[lyon.pk]), {"name": "x"}).status_code == 403
    assert client.delete(reverse("api:site-detail", args=[lyon.pk])).status_code == 403
    assert client.put(reverse("api:user-site", args=[bob.user.pk]), {"site": lyon.pk}).status_code == 403


def test_an_admin_assigns_a_user_to_a_site_and_the_user_shows_it(
    alice: Person, bob: Person, lyon: Site
) -> None:
    admin = _client_for(alice)

    response = admin.put(reverse("api:user-site", args=[bob.user.pk]), {"site": lyon.pk}, format="json")
    shown = admin.get(reverse("api:user-detail", args=[bob.user.pk])).json()
    cleared = admin.put(reverse("api:user-site", args=[bob.user.pk]), {"site": None}, format="json")

    assert response.status_code == 200
    assert response.json()["site"] == lyon.pk
    assert shown["site"] == lyon.pk
    assert cleared.json()["site"] is None


# --- isolation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["gus", "gina"])
def test_globex_gets_404_for_acmes_sites(lyon: Site, gus: Person, gina: Person, viewer: str) -> None:
    client = _client_for({"gus": gus, "gina": gina}[viewer])

    assert client.get(reverse("api:site-detail", args=[lyon.pk])).status_code == 404
    assert client.get(reverse("api:site-list")).json()["results"] == []


def test_globex_admin_cannot_change_or_delete_acmes_site(lyon: Site, gina: Person) -> None:
    client = _client_for(gina)

    assert client.patch(reverse("api:site-detail", args=[lyon.pk]), {"name": "x"}).status_code == 404
    assert client.delete(reverse("api:site-detail", args=[lyon.pk])).status_code == 404
    lyon.refresh_from_db()
    assert lyon.name == "Lyon"


def test_an_admin_cannot_put_a_user_on_another_companys_site(
    alice: Person, bob: Person, gina: Person, globex: Company
) -> None:
    lille = site_actions.create_site(company=globex, name="Lille")

    on_foreign_site = _client_for(alice).put(
        reverse("api:user-site", args=[bob.user.pk]), {"site": lille.pk}, format="json"
    )
    foreign_user = _client_for(gina).put(
        reverse("api:user-site", args=[bob.user.pk]), {"site": None}, format="json"
    )

    assert on_foreign_site.status_code == 400
    assert foreign_user.status_code == 404


def test_a_site_receptionist_of_another_company_does_not_exist(alice: Person, gus: Person) -> None:
    response = _client_for(alice).post(
        reverse("api:site-list"), {"name": "Lyon", "receptionist": gus.user.pk}, format="json"
    )

    assert response.status_code == 400
    assert "receptionist" in response.json()


def test_a_time_window_that_ends_when_it_starts_is_refused(bob: Person) -> None:
    # The validation of forwarding rules (telephony.actions.forwarding) refuses it;
    # routing never applies one anyway.
    response = _client_for(bob).post(
        reverse("api:forwarding-rule-list"),
        {
            "condition": "always",
            "destination": "voicemail",
            "time_from": "22:00",
            "time_to": "22:00",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["time_to"] == ["The time window ends when it starts: it would never apply."]
