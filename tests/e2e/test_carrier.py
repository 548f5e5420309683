"""Calls from outside through the carrier trunk to a company's public numbers (A3), including the
voicemail service reached from outside (E4)."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from directory.models import Company
from telephony.models import PhoneNumber
from tests.personas import Person
from tests.sipua import SipUA
from voicemail.models import Message

from .phones import FINAL, phone, server
from .processes import wait_until
from .test_voicemail_menu import PIN, is_read, leave_message, set_pin

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge", "web_server")]

CARRIER_NUMBER = "+33612345678"  # an outside caller, as the carrier presents them


async def carrier_phone() -> SipUA:
    """The carrier's SIP peer: recognised by its address, it neither registers nor authenticates."""
    return await SipUA.create(
        CARRIER_NUMBER.lstrip("+"),
        "",
        server=server(),
        local_host=settings.CARRIER_ADDRESS,
        display_name="Outside Caller",
    )


def test_a_call_to_a_users_public_number_rings_their_phone_with_the_outside_number(
    acme: Company, carol: Person
) -> None:
    PhoneNumber.objects.create(
        company=acme,
        number="+33140000102",
        destination=PhoneNumber.Destination.USER,
        user=carol.user,
    )

    async def scenario() -> str:
        carrier = await carrier_phone()
        try:
            async with phone(carol) as carol_phone:
                call = await carrier.invite("+33140000102")
                incoming = await carol_phone.wait_incoming(timeout=5)
                await incoming.answer()
                await call.wait_status(200, timeout=5)
                await call.wait_rtp(25, timeout=5)
                await call.hangup()
                return incoming.caller_number
        finally:
            await carrier.close()

    assert asyncio.run(scenario()) == CARRIER_NUMBER


def test_the_voicemail_service_is_reachable_from_outside_with_extension_and_pin(
    acme: Company, bob: Person, carol: Person
) -> None:
    PhoneNumber.objects.create(
        company=acme, number="+33140000555", destination=PhoneNumber.Destination.VOICEMAIL
    )
    set_pin(carol)
    message = leave_message(carol, bob)

    async def scenario() -> None:
        carrier = await carrier_phone()
        try:
            call = await carrier.invite("+33140000555")
            await call.wait_status(200, timeout=5)
            # from outside the service asks for the extension first, then the PIN
            await call.send_dtmf(f"102#{PIN}#1")
            await asyncio.to_thread(wait_until, lambda: is_read(message), 25, "carol's message to be played")
            await call.hangup()
        finally:
            await carrier.close()

    asyncio.run(scenario())
    assert Message.objects.filter(pk=message.pk, read_at__isnull=False).exists()


def test_an_unknown_public_number_is_refused(carol: Person) -> None:
    async def scenario() -> int | None:
        carrier = await carrier_phone()
        try:
            call = await carrier.invite("+33149999999")
            await call.wait_status(FINAL, timeout=15)
            return call.final_status
        finally:
            await carrier.close()

    assert asyncio.run(scenario()) == 404
