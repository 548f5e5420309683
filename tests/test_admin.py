"""The platform operator, who lands on the Django admin on signing in, finds there every model of the
platform it lists, and each list and object page opens."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from directory.models import User

from .personas import PORTAL_PASSWORD, Person

APPS = ("directory", "telephony", "voicemail", "sipguard")


@pytest.fixture
def operator(client: Client, db: None) -> Client:
    User.objects.create_superuser("root", "root@example.test", PORTAL_PASSWORD)
    client.login(username="root", password=PORTAL_PASSWORD)
    return client


def test_the_admin_lists_the_companies_users_phones_numbers_calls_and_mailboxes(operator: Client) -> None:
    registered = {f"{m._meta.app_label}.{m.__name__}" for m in admin.site._registry}

    assert {
        "directory.Company",
        "directory.Site",
        "directory.User",
        "telephony.Extension",
        "telephony.Device",
        "telephony.PhoneNumber",
        "telephony.Call",
        "voicemail.Mailbox",
        "sipguard.SipBlock",
    } <= registered
    assert operator.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize(
    "model",
    [m for m in admin.site._registry if m._meta.app_label in APPS],
    ids=lambda m: f"{m._meta.app_label}.{m.__name__}",
)
def test_every_list_of_the_admin_opens_for_the_operator(operator: Client, bob: Person, model: type) -> None:
    meta = model._meta  # type: ignore[attr-defined]
    response = operator.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))

    assert response.status_code == 200
    first = model.objects.first()  # type: ignore[attr-defined]
    if first is not None:
        page = operator.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
        assert page.status_code == 200


def test_the_operator_cannot_write_a_phone_past_the_actions(operator: Client, bob: Person) -> None:
    response = operator.get(reverse("admin:telephony_device_add"))

    assert response.status_code == 403
