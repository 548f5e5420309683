"""API tokens (I5, J2): shown once at sign-in, stored only as their hash, and expiring."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from directory.models import ApiToken
from directory.tokens import digest, issue_token

from .personas import PORTAL_PASSWORD, Person


def _me_with(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(reverse("api:me")).status_code


def test_a_token_is_stored_only_as_its_hash(bob: Person) -> None:
    response = APIClient().post(reverse("api:token"), {"username": "bob", "password": PORTAL_PASSWORD})
    key = response.json()["token"]

    stored = ApiToken.objects.get(user=bob.user)
    assert stored.digest == digest(key) and key not in stored.digest
    assert response["Cache-Control"] == "no-store"
    assert _me_with(key) == 200


def test_a_token_expires(bob: Person, settings: object) -> None:
    key, token = issue_token(bob.user)
    response = APIClient().post(reverse("api:token"), {"username": "bob", "password": PORTAL_PASSWORD})
    assert abs((token.expires_at - timezone.now()) - timedelta(days=30)) < timedelta(minutes=1)
    assert response.json()["expires_at"]

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _me_with(key) == 403


def test_a_deactivated_users_token_is_refused(bob: Person) -> None:
    key, _token = issue_token(bob.user)
    bob.user.is_active = False
    bob.user.save()

    assert _me_with(key) == 403
