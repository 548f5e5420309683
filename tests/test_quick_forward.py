"""MyIstra's switch "forward all my calls to my mobile": one click on, one click off; it needs a mobile
number; on, it is the first rule (an "always" rule to the mobile), so routing forwards every call."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from telephony.actions import forwarding as forwarding_actions
from telephony.choices import RuleCondition, RuleDestination
from telephony.models import CallSettings
from telephony.queries import rules_of
from tests.personas import Person

pytestmark = pytest.mark.django_db


def test_without_a_mobile_number_the_switch_says_where_to_set_one(client: Client, bob: Person) -> None:
    client.force_login(bob.user)
    html = client.get(reverse("portal:myistra")).content.decode()
    assert 'id="quick-forward-switch"' not in html and "Set your mobile number first" in html
    response = client.post(reverse("portal:quick_forward"), {"on": "on"}, follow=True)
    assert "Set your mobile number in your settings first." in response.content.decode()
    assert rules_of(bob.user.pk, "33") == ()


def test_one_click_forwards_every_call_to_the_mobile_first_and_one_more_stops_it(
    client: Client, bob: Person, carol: Person
) -> None:
    # given bob's mobile, and a rule of his own already
    CallSettings.objects.create(user=bob.user, mobile_number="0612345678")
    forwarding_actions.create_forwarding_rule(
        user=bob.user,
        condition=RuleCondition.BUSY,
        destination=RuleDestination.NUMBER,
        destination_number="102",
    )
    client.force_login(bob.user)

    # when he switches it on
    response = client.post(reverse("portal:quick_forward"), {"on": "on"}, follow=True)

    # then every call goes to his mobile: the first rule routing reads is "always, to my mobile"
    html = response.content.decode()
    assert "All your calls go to your mobile now." in html
    assert 'aria-checked="true"' in html and "Every call goes to 0612345678." in html
    first = rules_of(bob.user.pk, "33")[0]
    assert (first.condition, first.destination, first.enabled) == ("always", "mobile", True)

    # when he switches it off
    client.post(reverse("portal:quick_forward"), {"on": "off"})

    # then his calls ring his phones again (his own busy rule stays)
    assert [rule.condition for rule in rules_of(bob.user.pk, "33")] == ["busy"]
    assert 'aria-checked="false"' in client.get(reverse("portal:myistra")).content.decode()

    # and on again reuses the same rule, first again
    client.post(reverse("portal:quick_forward"), {"on": "on"})
    assert [rule.condition for rule in rules_of(bob.user.pk, "33")] == ["always", "busy"]
