"""Toll fraud on real calls (C4, J2): a forward to a high-risk number (international premium rate
+979) is refused, whether set by a dial code or already stored, and the carrier is never rung."""

from __future__ import annotations

import asyncio

import pytest

from directory.models import Company
from telephony.choices import RuleCondition, RuleDestination
from telephony.models import ForwardingRule
from tests.personas import Person

from .carrier import outside_world
from .codes import dial_code
from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]

PREMIUM_979 = "+979123456789"


def test_a_forward_to_an_international_premium_number_is_refused_by_dial_code(
    bob: Person, carol: Person
) -> None:
    async def scenario() -> None:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            # when bob dials *2, the outside prefix 0, then 00979...: answered, refused aloud
            heard = await dial_code(bob_phone, "*2" + "0" + "00979123456789")
            assert not heard.confirmation
            # then carol's call still rings bob, and nothing goes out to the carrier
            call = await carol_phone.invite(bob.extension)
            on_bob = await bob_phone.wait_incoming(timeout=5)
            await on_bob.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            await pstn.assert_not_rung()

    asyncio.run(scenario())

    assert not ForwardingRule.objects.filter(user=bob.user).exists()


def test_a_stored_forward_to_an_international_premium_number_is_passed_over(
    acme: Company, bob: Person, carol: Person
) -> None:
    # given: a rule stored before high-risk numbers were barred
    ForwardingRule.objects.create(
        company=acme,
        user=bob.user,
        condition=RuleCondition.ALWAYS,
        destination=RuleDestination.NUMBER,
        destination_number=PREMIUM_979,
    )

    async def scenario() -> None:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            call = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            await pstn.assert_not_rung()

    asyncio.run(scenario())
