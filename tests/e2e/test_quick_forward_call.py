"""With the real Asterisk: once bob has switched "forward all my calls to my mobile" on, carol's call to
his extension rings his mobile through the carrier, not his desk phone; switched off, his desk phone."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection

from telephony import quick_forward
from telephony.models import CallSettings
from tests.personas import Person

from .carrier import outside_world
from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]

MOBILE = "0612345678"


def _switch(person: Person, on: bool) -> None:
    try:
        quick_forward.set_forward_all_to_mobile(user=person.user, on=on)
    finally:
        connection.close()


def test_the_quick_switch_sends_calls_to_the_mobile_and_back(bob: Person, carol: Person) -> None:
    CallSettings.objects.create(user=bob.user, mobile_number=MOBILE)

    async def scenario() -> str:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            await asyncio.to_thread(_switch, bob, True)
            call = await carol_phone.invite(bob.extension)
            incoming = await pstn.wait_incoming(timeout=5)
            called = incoming.called_number
            assert len(bob_phone.invites_received) == 0
            await call.cancel()
            await incoming.wait_ended(timeout=5)

            await asyncio.to_thread(_switch, bob, False)
            call = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            assert len(pstn.invites_received) == 1  # the mobile was rung by the first call only
            return called

    assert asyncio.run(scenario()) == "+33612345678"
