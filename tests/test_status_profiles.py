"""Status profiles: bob says where his calls go for each presence state (in a meeting: to carol, on
holiday: to his voicemail); the profile is a rule keyed on that state, so switching presence switches
forwarding; a wrong number is refused in place; "my phones, as usual" takes the profile away."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from telephony.models import ForwardingRule
from telephony.queries import rules_of
from tests.personas import Person

pytestmark = pytest.mark.django_db


def test_each_presence_state_carries_its_own_forwarding(client: Client, bob: Person, carol: Person) -> None:
    client.force_login(bob.user)

    # when bob sends calls to carol while in a meeting, and to his voicemail while on holiday
    client.post(
        reverse("portal:status_profile", args=["meeting"]), {"destination": "number", "number": "102"}
    )
    response = client.post(
        reverse("portal:status_profile", args=["holiday"]), {"destination": "voicemail"}, follow=True
    )

    # then routing reads one "always" rule for each, keyed on its state
    assert "Saved: when you are on holiday." in response.content.decode()
    rules = {next(iter(rule.presences)): rule for rule in rules_of(bob.user.pk, "33")}
    assert (rules["meeting"].condition, rules["meeting"].destination_number) == ("always", "102")
    assert (rules["holiday"].condition, rules["holiday"].destination) == ("always", "voicemail")
    # and the page shows them as chosen
    html = client.get(reverse("portal:forwarding")).content.decode()
    meeting = html[html.index('id="profile-meeting"') :]
    assert 'value="102"' in meeting[: meeting.index("</form>")]

    # when he changes the meeting's, then takes the holiday's away
    client.post(
        reverse("portal:status_profile", args=["meeting"]), {"destination": "voicemail", "number": ""}
    )
    client.post(reverse("portal:status_profile", args=["holiday"]), {"destination": ""})

    # then one rule is left, changed in place
    left = ForwardingRule.objects.filter(user=bob.user)
    assert [(rule.presences, rule.destination) for rule in left] == [(["meeting"], "voicemail")]


def test_a_wrong_number_is_refused_beside_the_field_with_nothing_saved(client: Client, bob: Person) -> None:
    client.force_login(bob.user)
    response = client.post(
        reverse("portal:status_profile", args=["meeting"]), {"destination": "number", "number": "199"}
    )
    assert response.status_code == 400
    assert "Extension 199 does not exist in your company." in response.content.decode()
    assert not ForwardingRule.objects.filter(user=bob.user).exists()


def test_an_unknown_presence_state_is_refused(client: Client, bob: Person) -> None:
    client.force_login(bob.user)
    response = client.post(reverse("portal:status_profile", args=["asleep"]), {"destination": "voicemail"})
    assert response.status_code == 400
