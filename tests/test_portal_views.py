"""The portals as a browser sees them: MyIstra for every user, myTelephony for a company's admins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client
from django.urls import reverse

from directory.models import Company, User
from telephony.models import Device
from telephony.provisioning import sip_ha1

from .personas import PORTAL_PASSWORD, Person, record_call

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def _logged_in(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


# --- Logging in ------------------------------------------------------------------------------------


def test_an_admin_lands_on_mytelephony_after_logging_in(client: Client, alice: Person) -> None:
    # when
    response = client.post(
        reverse("portal:login"), {"username": "alice", "password": PORTAL_PASSWORD}, follow=True
    )

    # then
    assert response.redirect_chain[-1][0] == reverse("portal:mytelephony")
    assert response.status_code == 200


def test_a_user_lands_on_myistra_after_logging_in(client: Client, bob: Person) -> None:
    # when
    response = client.post(
        reverse("portal:login"), {"username": "bob", "password": PORTAL_PASSWORD}, follow=True
    )

    # then
    assert response.redirect_chain[-1][0] == reverse("portal:myistra")
    assert response.status_code == 200


def test_a_platform_operator_without_company_lands_on_the_django_admin(client: Client, db: None) -> None:
    # given
    User.objects.create_superuser("root", "root@example.test", PORTAL_PASSWORD)

    # when
    response = client.post(
        reverse("portal:login"), {"username": "root", "password": PORTAL_PASSWORD}, follow=True
    )

    # then
    assert response.redirect_chain[-1][0] == reverse("admin:index")


def test_a_wrong_password_keeps_the_visitor_on_the_login_form(client: Client, bob: Person) -> None:
    # when
    response = client.post(reverse("portal:login"), {"username": "bob", "password": "nope"})

    # then
    assert response.status_code == 200
    assert response.wsgi_request.user.is_anonymous
    assert b'name="username"' in response.content


def test_an_anonymous_visitor_is_sent_to_the_login_form(client: Client, db: None) -> None:
    # when
    response = client.get(reverse("portal:myistra"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_logging_out_returns_to_the_login_form(client: Client, bob: Person) -> None:
    # given
    _logged_in(client, bob)

    # when
    response = client.post(reverse("portal:logout"))

    # then
    assert response["Location"] == reverse("portal:login")
    assert client.get(reverse("portal:myistra")).status_code == 302


# --- MyIstra ---------------------------------------------------------------------------------------


def test_myistra_shows_my_name_extension_and_phones(client: Client, bob: Person) -> None:
    # given
    _logged_in(client, bob)

    # when
    response = client.get(reverse("portal:myistra"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong id="my-extension">101</strong>' in html
    assert "Bob" in html
    assert f'data-sip-username="{bob.sip_username}"' in html
    assert bob.sip_password not in html


def test_myistra_history_shows_placed_received_and_missed_calls(
    client: Client, bob: Person, carol: Person, dave: Person
) -> None:
    # given
    placed = record_call(bob, carol, at=T0, answered=True, talk=65)
    received = record_call(dave, bob, at=T0 + timedelta(hours=1), answered=True, talk=7)
    missed = record_call(carol, bob, at=T0 + timedelta(hours=2), answered=False)
    record_call(carol, dave, at=T0 + timedelta(hours=3), answered=True)  # not bob's
    _logged_in(client, bob)

    # when
    response = client.get(reverse("portal:myistra"))

    # then
    rows = {row.call.id: row for row in response.context["rows"]}
    assert set(rows) == {placed, received, missed}
    assert (rows[placed].direction, rows[placed].peer_name, rows[placed].peer_number) == (
        "placed",
        "Carol",
        "102",
    )
    assert (rows[received].direction, rows[received].peer_name) == ("received", "Dave")
    assert (rows[missed].direction, rows[missed].peer_number) == ("missed", "102")
    html = response.content.decode()
    assert html.count('class="call-row') == 3
    assert f'data-call-id="{missed}" data-direction="missed"' in html
    assert "01:05" in html  # bob's 65 s with carol


def test_history_start_times_are_in_the_company_time_zone(
    client: Client, acme: Company, bob: Person, carol: Person
) -> None:
    # given
    acme.timezone = "America/New_York"
    acme.save()
    record_call(bob, carol, at=T0, answered=True)
    _logged_in(client, bob)

    # when
    response = client.get(reverse("portal:history"))

    # then: 09:00 UTC is 05:00 in New York (EDT began on 9 March 2025)
    assert 'datetime="2025-03-10T05:00:00-04:00"' in response.content.decode()


def test_the_history_partial_is_just_the_table(client: Client, bob: Person, carol: Person) -> None:
    # given
    call_id = record_call(bob, carol, at=T0, answered=True)
    _logged_in(client, bob)

    # when
    response = client.get(reverse("portal:history"))

    # then
    html = response.content.decode().strip()
    assert html.startswith('<table id="history"')
    assert f'data-call-id="{call_id}"' in html
    assert "<html" not in html


def test_the_call_banner_is_hidden_when_i_am_not_in_arecord_call(client: Client, bob: Person) -> None:
    # given
    _logged_in(client, bob)

    # when
    response = client.get(reverse("portal:myistra"))

    # then
    html = response.content.decode()
    assert 'id="call-banner"' in html
    assert "hidden" in html.split('id="call-banner"')[1].split(">")[0]
    assert client.get(reverse("portal:live_snapshot")).json() == {"call": None}


def test_the_call_banner_starts_from_the_call_i_am_in(client: Client, bob: Person, carol: Person) -> None:
    # given
    call_id = record_call(carol, bob, at=T0, answered=True, end=False)
    _logged_in(client, bob)

    # when
    page = client.get(reverse("portal:myistra"))
    snapshot = client.get(reverse("portal:live_snapshot")).json()

    # then
    assert '<span id="call-banner-text">In a call with Carol (102)</span>' in page.content.decode()
    assert snapshot["call"]["call_id"] == str(call_id)
    assert snapshot["call"]["state"] == "answered"
    assert snapshot["call"]["direction"] == "incoming"
    assert snapshot["call"]["answered_at"] == (T0 + timedelta(seconds=5)).isoformat()


def test_a_ringing_call_shows_ringing_with_the_caller(client: Client, bob: Person, carol: Person) -> None:
    # given
    record_call(carol, bob, at=T0, answered=False, end=False)
    _logged_in(client, bob)

    # when
    response = client.get(reverse("portal:myistra"))

    # then
    assert "Ringing: call from Carol (102)" in response.content.decode()


def test_the_live_snapshot_refuses_an_anonymous_visitor_with_401(client: Client, db: None) -> None:
    # when
    response = client.get(reverse("portal:live_snapshot"))

    # then
    assert response.status_code == 401


def test_the_device_form_saves_ring_delay_and_enabled(client: Client, bob: Person) -> None:
    # given
    device = Device.objects.get(user=bob.user)
    _logged_in(client, bob)

    # when: the checkbox left unticked means "disabled"
    response = client.post(reverse("portal:device_settings", args=[device.pk]), {"ring_delay": "12"})

    # then
    assert response.status_code == 302
    device.refresh_from_db()
    assert (device.ring_delay, device.enabled) == (12, False)
    assert "saved" in client.get(reverse("portal:myistra")).content.decode()


def test_the_device_form_rejects_45_seconds_and_keeps_the_input(client: Client, bob: Person) -> None:
    # given
    device = Device.objects.get(user=bob.user)
    _logged_in(client, bob)

    # when
    response = client.post(
        reverse("portal:device_settings", args=[device.pk]), {"ring_delay": "45", "enabled": "on"}
    )

    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert "The ring delay must be between 0 and 30 seconds." in html
    assert 'value="45"' in html
    device.refresh_from_db()
    assert device.ring_delay == 0


def test_a_user_cannot_change_someone_elses_phone(client: Client, bob: Person, carol: Person) -> None:
    # given
    carols_phone = Device.objects.get(user=carol.user)
    _logged_in(client, bob)

    # when
    response = client.post(reverse("portal:device_settings", args=[carols_phone.pk]), {"ring_delay": "9"})

    # then
    assert response.status_code == 404
    carols_phone.refresh_from_db()
    assert carols_phone.ring_delay == 0


def test_myistra_reads_the_page_in_a_fixed_number_of_queries(
    client: Client, bob: Person, carol: Person, django_assert_max_num_queries
) -> None:
    # given
    for n in range(10):
        record_call(bob, carol, at=T0 + timedelta(minutes=n), answered=bool(n % 2))
    _logged_in(client, bob)

    # then: session, user, extension, devices, history, active call, the quick forward switch, missed
    # calls and new messages (the home's first lines); nothing per row
    with django_assert_max_num_queries(12):
        client.get(reverse("portal:myistra"))


# --- myTelephony -----------------------------------------------------------------------------------


def test_a_user_who_is_not_admin_gets_403_on_mytelephony(client: Client, bob: Person) -> None:
    # given
    _logged_in(client, bob)

    # when
    page = client.get(reverse("portal:mytelephony"))
    create = client.post(reverse("portal:create_user"), {"username": "eve", "extension": "150"})

    # then
    assert page.status_code == 403
    assert create.status_code == 403
    assert not User.objects.filter(username="eve").exists()


def test_mytelephony_lists_the_company_users_only(
    client: Client, alice: Person, bob: Person, gus: Person
) -> None:
    # given
    _logged_in(client, alice)

    # when
    response = client.get(reverse("portal:mytelephony"))

    # then
    assert [u.username for u in response.context["users"]] == ["alice", "bob"]
    assert [u.device_count for u in response.context["users"]] == [1, 1]
    assert "gus" not in response.content.decode()


def test_an_admin_creates_a_user_and_sees_the_sip_credentials_once(client: Client, alice: Person) -> None:
    # given
    _logged_in(client, alice)

    # when
    response = client.post(
        reverse("portal:create_user"),
        {"username": "erin", "first_name": "Erin", "last_name": "Doe", "email": "erin@acme.test",
         "extension": "105", "password": "", "language": "fr"},
    )  # fmt: skip

    # then: the password is in this response...
    assert response.status_code == 201
    credentials = response.context["credentials"]
    html = response.content.decode()
    assert f'<code id="sip-password">{credentials.password}</code>' in html
    assert f'<code id="sip-username">{credentials.username}</code>' in html
    assert "will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    erin = User.objects.get(username="erin")
    assert (erin.company_id, erin.extension.number, erin.language) == (alice.user.company_id, "105", "fr")
    assert not erin.has_usable_password()
    # ...and nowhere else: the database only holds its digest hash
    device = Device.objects.get(user=erin)
    assert device.sip_ha1 == sip_ha1(credentials.username, credentials.password)
    assert credentials.password not in str(Device.objects.filter(pk=device.pk).values().get())
    later = client.get(reverse("portal:user_detail", args=[erin.pk])).content.decode()
    assert credentials.username in later
    assert credentials.password not in later


def test_a_duplicate_extension_shows_a_clear_error_and_keeps_the_input(
    client: Client, alice: Person, bob: Person
) -> None:
    # given
    _logged_in(client, alice)

    # when
    response = client.post(
        reverse("portal:create_user"),
        {"username": "erin", "first_name": "Erin", "email": "erin@acme.test", "extension": "101"},
    )

    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert "Extension 101 already exists in Acme." in html
    assert 'value="erin"' in html
    assert 'value="Erin"' in html
    assert 'value="erin@acme.test"' in html
    assert not User.objects.filter(username="erin").exists()


def test_a_taken_login_is_shown_next_to_the_login_field(client: Client, alice: Person, bob: Person) -> None:
    # given
    _logged_in(client, alice)

    # when
    response = client.post(reverse("portal:create_user"), {"username": "bob", "extension": "150"})

    # then
    assert response.status_code == 400
    assert response.context["form"].errors["username"] == ["The login bob is already taken."]


def test_an_admin_adds_a_phone_to_a_user_and_sees_its_password_once(
    client: Client, alice: Person, bob: Person
) -> None:
    # given
    _logged_in(client, alice)

    # when
    response = client.post(
        reverse("portal:add_device", args=[bob.user.pk]), {"label": "Mobile", "ring_delay": "10"}
    )

    # then
    assert response.status_code == 201
    credentials = response.context["credentials"]
    device = Device.objects.get(sip_username=credentials.username)
    assert (device.user, device.label, device.ring_delay) == (bob.user, "Mobile", 10)
    assert device.sip_ha1 == sip_ha1(credentials.username, credentials.password)


def test_resetting_a_sip_password_shows_the_new_one_once(client: Client, alice: Person, bob: Person) -> None:
    # given
    device = Device.objects.get(user=bob.user)
    _logged_in(client, alice)

    # when
    response = client.post(reverse("portal:reset_sip_password", args=[device.pk]))

    # then
    credentials = response.context["credentials"]
    assert response.status_code == 200
    assert credentials.password != bob.sip_password
    assert f'<code id="sip-password">{credentials.password}</code>' in response.content.decode()
    device.refresh_from_db()
    assert device.sip_ha1 == sip_ha1(device.sip_username, credentials.password)


def test_another_company_admin_gets_404_for_an_acme_user(client: Client, gina: Person, bob: Person) -> None:
    # given
    _logged_in(client, gina)

    # when
    response = client.get(reverse("portal:user_detail", args=[bob.user.pk]))

    # then
    assert response.status_code == 404


def test_another_company_admin_gets_404_when_adding_a_phone_to_an_acme_user(
    client: Client, gina: Person, bob: Person
) -> None:
    # given
    _logged_in(client, gina)

    # when
    response = client.post(
        reverse("portal:add_device", args=[bob.user.pk]), {"label": "Spy", "ring_delay": "0"}
    )

    # then
    assert response.status_code == 404
    assert Device.objects.filter(user=bob.user).count() == 1


def test_another_company_admin_gets_404_when_resetting_an_acme_password(
    client: Client, gina: Person, bob: Person
) -> None:
    # given
    device = Device.objects.get(user=bob.user)
    _logged_in(client, gina)

    # when
    response = client.post(reverse("portal:reset_sip_password", args=[device.pk]))

    # then
    assert response.status_code == 404
    device.refresh_from_db()
    assert device.sip_ha1 == sip_ha1(bob.sip_username, bob.sip_password)


def test_another_company_user_gets_404_for_an_acme_phone(client: Client, gus: Person, bob: Person) -> None:
    # given
    device = Device.objects.get(user=bob.user)
    _logged_in(client, gus)

    # when
    response = client.post(reverse("portal:device_settings", args=[device.pk]), {"ring_delay": "5"})

    # then
    assert response.status_code == 404


# --- Languages -------------------------------------------------------------------------------------


def test_a_french_user_sees_the_portal_in_french(client: Client, bob: Person, carol: Person) -> None:
    # given
    bob.user.language = "fr"
    bob.user.save()
    record_call(carol, bob, at=T0, answered=False)
    record_call(carol, bob, at=T0 + timedelta(minutes=1), answered=True, end=False)
    _logged_in(client, bob)

    # when
    html = client.get(reverse("portal:myistra")).content.decode()

    # then
    assert '<html lang="fr">' in html
    assert "Mes appels" in html
    assert "manqué" in html
    assert "En communication avec Carol (102)" in html
    assert "My calls" not in html


def test_a_french_company_admin_sees_mytelephony_in_french(
    client: Client, acme: Company, alice: Person
) -> None:
    # given: alice has no language of her own, so she follows her company
    acme.language = "fr"
    acme.save()
    _logged_in(client, alice)

    # when
    html = client.get(reverse("portal:mytelephony")).content.decode()

    # then
    assert "Créer un utilisateur" in html
    assert "Create user" not in html
