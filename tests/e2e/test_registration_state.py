"""myTelephony tells whether a phone is registered, from where and with which software, as the real
Asterisk holds it: registered phones show their address and user agent, others show not registered."""

from __future__ import annotations

import asyncio

import pytest

from telephony.registrations import Registration, registration_of
from tests.personas import Person
from tests.sipua import USER_AGENT

from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


async def _while_registered(person: Person) -> tuple[Registration | None, int]:
    async with phone(person) as ua:
        return await asyncio.to_thread(registration_of, person.sip_username), ua.local_port


def test_a_registered_phone_shows_its_address_and_user_agent(bob: Person) -> None:
    # when bob's desk phone is registered
    registration, port = asyncio.run(_while_registered(bob))

    # then Asterisk says from where, and which software
    assert registration == Registration(registered=True, address=f"127.0.0.1:{port}", user_agent=USER_AGENT)


def test_a_phone_never_registered_shows_not_registered(carol: Person) -> None:
    assert registration_of(carol.sip_username) == Registration(registered=False)


def test_an_unknown_endpoint_shows_not_registered_rather_than_failing() -> None:
    assert registration_of("nobody-here") == Registration(registered=False)
