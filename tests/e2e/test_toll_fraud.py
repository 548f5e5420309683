"""Toll fraud on real calls (C4, J2): a forward to a high-risk number (international premium rate
+979) is refused, whether set by a dial code or already stored, and the carrier is never rung; a
phone's transfer (REFER) is declined while the call goes on."""

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


def test_a_transfer_asked_by_a_phone_is_refused_and_the_call_stays_up(
    bob: Person, carol: Person, dave: Person
) -> None:
    """Until in-call control lands (D3), a phone's REFER must neither escape barring nor reach the
    dialplan: Asterisk declines it, and the call goes on."""

    async def scenario() -> int:
        async with (
            outside_world() as pstn,
            phone(bob) as bob_phone,
            phone(carol) as carol_phone,
            phone(dave) as dave_phone,
        ):
            call = await bob_phone.invite(carol.extension)
            on_carol = await carol_phone.wait_incoming(timeout=5)
            await on_carol.answer()
            await call.wait_status(200, timeout=5)
            # when carol's phone asks to transfer bob to dave, then to a premium number outside
            status = await on_carol.refer(dave.extension)
            assert await on_carol.refer("000979123456789") == status
            # then: refused; nobody else rings; bob and carol still hear each other
            await dave_phone.assert_not_rung(within=1.0)
            await pstn.assert_not_rung()
            received, heard = call.rtp_received, on_carol.rtp_received
            await call.wait_rtp(received + 25, timeout=5)
            await on_carol.wait_rtp(heard + 25, timeout=5)
            assert not call.ended and not on_carol.ended
            await call.hangup()
            return status

    assert asyncio.run(scenario()) == 603  # Decline
