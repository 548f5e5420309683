"""Brute-force protection of sign-in (J2): the portal's login page and the API's token endpoint lock
an account from an address after repeated failures, and an address that tries many accounts."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from directory import login_guard
from tests.personas import PORTAL_PASSWORD, Person

OTHER_ADDRESS = "192.0.2.7"


def log_in(client: Client, username: str, password: str, address: str = "127.0.0.1") -> tuple[bool, str]:
    """Post the portal's login form; whether the visitor is now signed in, and the page's text."""
    response = client.post(
        reverse("portal:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )
    signed_in = response.status_code == 302
    return signed_in, response.content.decode()


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    client: Client, bob: Person
) -> None:
    for _ in range(5):
        assert log_in(client, "bob", "wrong")[0] is False

    signed_in, page = log_in(client, "bob", PORTAL_PASSWORD)

    assert signed_in is False
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in page
    assert 'name="username"' in page


def test_the_lock_holds_for_that_address_only(client: Client, bob: Person) -> None:
    for _ in range(5):
        log_in(client, "bob", "wrong")

    assert log_in(client, "bob", PORTAL_PASSWORD, address=OTHER_ADDRESS)[0] is True


def test_the_lock_lifts_when_the_failures_leave_the_window(
    client: Client, bob: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = login_guard._now()
    monkeypatch.setattr(login_guard, "_now", lambda: start)
    for _ in range(5):
        log_in(client, "bob", "wrong")
    monkeypatch.setattr(login_guard, "_now", lambda: start + 14 * 60)
    signed_in, page = log_in(client, "bob", PORTAL_PASSWORD)
    assert not signed_in and "Try again in 1 minute." in page

    monkeypatch.setattr(login_guard, "_now", lambda: start + 15 * 60 + 1)
    assert log_in(client, "bob", PORTAL_PASSWORD)[0] is True


def test_signing_in_clears_the_earlier_failures(client: Client, bob: Person) -> None:
    for _ in range(4):
        log_in(client, "bob", "wrong")
    assert log_in(client, "bob", PORTAL_PASSWORD)[0] is True
    client.logout()

    for _ in range(4):
        log_in(client, "bob", "wrong")
    assert log_in(client, "bob", PORTAL_PASSWORD)[0] is True


def test_the_login_is_matched_whatever_its_case(client: Client, bob: Person) -> None:
    for login in ("bob", "BOB", "Bob ", "bOb", "bob"):
        log_in(client, login, "wrong")

    assert log_in(client, "bob", PORTAL_PASSWORD)[0] is False


@override_settings(LOGIN_MAX_FAILURES_PER_ADDRESS=8)
def test_an_address_trying_many_accounts_is_locked_for_every_account(
    client: Client, bob: Person, carol: Person
) -> None:
    # one password tried on many logins (most of them not even accounts): no account reaches 5 failures
    for n in range(8):
        log_in(client, f"user{n}", "Summer2026!")

    signed_in, page = log_in(client, "carol", PORTAL_PASSWORD)
    assert not signed_in and "Too many failed sign-in attempts" in page
    assert log_in(client, "carol", PORTAL_PASSWORD, address=OTHER_ADDRESS)[0] is True


def test_the_api_token_endpoint_answers_429_while_locked(client: Client, bob: Person) -> None:
    url = reverse("api:token")
    for _ in range(5):
        assert client.post(url, {"username": "bob", "password": "wrong"}).status_code == 400

    response = client.post(url, {"username": "bob", "password": PORTAL_PASSWORD})

    assert response.status_code == 429
    assert response.json()["detail"] == "Too many failed sign-in attempts. Try again in 15 minutes."
    assert 890 <= int(response["Retry-After"]) <= 900
    other = client.post(url, {"username": "bob", "password": PORTAL_PASSWORD}, REMOTE_ADDR=OTHER_ADDRESS)
    assert other.status_code == 200 and other.json()["token"]


def test_the_lock_message_is_in_the_visitors_language(client: Client, bob: Person) -> None:
    for _ in range(5):
        log_in(client, "bob", "wrong")

    response = client.post(
        reverse("portal:login"),
        {"username": "bob", "password": PORTAL_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert "Trop de tentatives de connexion échouées. Réessayez dans 15 minutes." in response.content.decode()


def test_the_django_admin_sign_in_is_locked_after_repeated_failures(client: Client, acme: object) -> None:
    # given: a platform operator, who sees every company from the Django admin
    from directory.models import User

    User.objects.create_superuser("operator", "op@example.com", "operator-secret-1")
    url = "/django-admin/login/?next=/django-admin/"

    # when: 40 wrong passwords, then the right one
    for _ in range(40):
        client.post(url, {"username": "operator", "password": "wrong"}, REMOTE_ADDR="198.51.100.9")
    response = client.post(
        url, {"username": "operator", "password": "operator-secret-1"}, REMOTE_ADDR="198.51.100.9"
    )

    # then: still refused, with the lock's message
    assert response.status_code == 200
    assert "Too many failed sign-in attempts." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_django_admin_still_lets_an_operator_in_at_the_first_try(client: Client, acme: object) -> None:
    from directory.models import User

    User.objects.create_superuser("operator", "op@example.com", "operator-secret-1")
    response = client.post(
        "/django-admin/login/?next=/django-admin/",
        {"username": "operator", "password": "operator-secret-1"},
    )
    assert response.status_code == 302


def test_a_rotating_x_forwarded_for_from_an_untrusted_address_is_ignored(client: Client, bob: Person) -> None:
    for n in range(5):
        client.post(
            reverse("portal:login"),
            {"username": "bob", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )

    assert log_in(client, "bob", PORTAL_PASSWORD)[0] is False


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_the_forwarded_client_address_counts() -> None:
    from django.test import RequestFactory

    factory = RequestFactory()
    via_proxy = factory.get(
        "/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5, 10.0.0.9"
    )
    spoofed = factory.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert login_guard.client_address(via_proxy) == "203.0.113.5"
    assert login_guard.client_address(spoofed) == "192.0.2.1"
