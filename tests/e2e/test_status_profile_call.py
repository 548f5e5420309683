"""With the real Asterisk: bob's status profile says "in a meeting: my calls go to carol". While his
presence is available, dave's call rings bob; once he is in a meeting, the same call rings carol."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection

from telephony import status_profiles
from telephony.actions import call_settings as call_settings_actions
from telephony.choices import Presence, RuleDestination
from tests.personas import Person

from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


def _presence(person: Person, presence: str) -> None:
    try:
        call_settings_actions.set_presence(user=person.user, presence=presence)
    finally:
        connection.close()


def test_a_call_follows_the_profile_of_the_presence_state(bob: Person, carol: Person, dave: Person) -> None:
    status_profiles.set_status_forwarding(
        user=bob.user, presence=Presence.MEETING, destination=RuleDestination.NUMBER, number=carol.extension
    )

    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            # available: bob's phone rings
            call = await dave_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            assert len(carol_phone.invites_received) == 0

            # in a meeting: carol's phone rings instead, bob's does not
            await asyncio.to_thread(_presence, bob, Presence.MEETING)
            call = await dave_phone.invite(bob.extension)
            await carol_phone.wait_incoming(timeout=5)
            assert len(bob_phone.invites_received) == 1
            await call.cancel()

    asyncio.run(scenario())
