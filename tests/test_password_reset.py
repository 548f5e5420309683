"""A user who forgot their portal password asks for a link by e-mail, opens it, chooses a new password
and logs in with it; the page says the same for an unknown address; a used link is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse

from tests.personas import PORTAL_PASSWORD, Person

pytestmark = pytest.mark.django_db


def test_bob_chooses_a_new_password_through_the_emailed_link(
    client: Client, bob: Person, mailoutbox: Any
) -> None:
    # given bob's address
    bob.user.email = "bob@acme.test"
    bob.user.save()
    assert 'id="forgot-password"' in client.get(reverse("portal:login")).content.decode()

    # when he asks for a link
    response = client.post(reverse("portal:password_reset"), {"email": "BOB@acme.test"}, follow=True)

    # then he is told to check his e-mail, and the e-mail holds the link
    assert "Check your e-mail" in response.content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["bob@acme.test"]
    assert "(login: bob)" in mailoutbox[0].body
    link = re.search(r"http://testserver(/password-reset/\S+/)", mailoutbox[0].body)
    assert link is not None

    # when he opens it and chooses a new password
    form = client.get(link.group(1), follow=True)
    assert 'id="new-password-form"' in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret", "new_password2": "a-brand-new-secret"},
        follow=True,
    )

    # then he can log in with it, not with the old one, and the link works no more
    assert "Your password is changed" in done.content.decode()
    assert authenticate(username="bob", password="a-brand-new-secret") is not None
    assert authenticate(username="bob", password=PORTAL_PASSWORD) is None
    assert 'id="invalid-link"' in client.get(link.group(1), follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: Client, bob: Person, mailoutbox: Any
) -> None:
    response = client.post(reverse("portal:password_reset"), {"email": "nobody@acme.test"}, follow=True)
    assert "Check your e-mail" in response.content.decode()
    assert mailoutbox == []
