"""The voice VPN (C5) on the real Asterisk: Acme works from Paris (bob) and Lyon (carol, and dave
its receptionist), one extension plan across both. A Paris user reaches a Lyon user by extension as an
internal call; a Lyon user calls out showing the Lyon number; calls to the Lyon number, from the
carrier or dialled on the platform, ring the Lyon receptionist."""

from __future__ import annotations

import asyncio

import pytest

from directory.models import Company, Site
from telephony.actions import sites as site_actions
from telephony.choices import CallerIdChoice, CallOutcome, LegRole
from telephony.models import CallSettings
from tests.personas import Person

from .carrier import outside_caller, outside_world
from .phones import phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]

PARIS_NUMBER = "+33140000000"
LYON_NUMBER = "+33472000000"
OUTSIDER = "+33612345678"


@pytest.fixture
def sites(acme: Company, alice: Person, bob: Person, carol: Person, dave: Person) -> dict[str, Site]:
    acme.main_number = PARIS_NUMBER
    acme.receptionist = alice.user
    acme.save()
    paris = site_actions.create_site(
        company=acme, name="Paris", timezone="Europe/Paris", main_number=PARIS_NUMBER
    )
    lyon = site_actions.create_site(
        company=acme, name="Lyon", timezone="Europe/Paris", main_number=LYON_NUMBER, receptionist=dave.user
    )
    for person, site in ((alice, paris), (bob, paris), (carol, lyon), (dave, lyon)):
        site_actions.set_user_site(user=person.user, site=site)
    return {"paris": paris, "lyon": lyon}


@pytest.mark.usefixtures("sites")
def test_a_paris_user_reaches_a_lyon_user_by_extension_as_an_internal_call(
    bob: Person, carol: Person
) -> None:
    async def scenario() -> tuple[str, str]:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            call = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            seen = (incoming.caller_number, incoming.caller_name)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await call.hangup()
            await incoming.wait_ended(timeout=5)
            await pstn.assert_not_rung()
            return seen

    assert asyncio.run(scenario()) == ("101", "Bob")
    record = ended_call(caller_user=bob.user)
    assert record.outcome == CallOutcome.ANSWERED
    assert (record.caller_number, record.dialled_number, record.callee_user_id) == (
        "101",
        "102",
        carol.user.pk,
    )
    # Internal: phone to phone, never through the carrier trunk.
    legs = {leg.role: leg.endpoint for leg in record.legs.all()}
    assert legs == {LegRole.CALLER: bob.sip_username, LegRole.CALLEE: carol.sip_username}


@pytest.mark.usefixtures("sites")
def test_a_lyon_user_showing_the_company_number_goes_out_with_the_lyon_number(carol: Person) -> None:
    CallSettings.objects.create(user=carol.user, caller_id=CallerIdChoice.COMPANY)

    async def scenario() -> tuple[str, str]:
        async with outside_world() as pstn, phone(carol) as carol_phone:
            call = await carol_phone.invite("00612345678")
            incoming = await pstn.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            await incoming.wait_ended(timeout=5)
            return incoming.called_number, incoming.caller_number

    assert asyncio.run(scenario()) == (OUTSIDER, LYON_NUMBER)


@pytest.mark.usefixtures("sites")
def test_a_carrier_call_to_the_lyon_number_rings_the_lyon_receptionist(alice: Person, dave: Person) -> None:
    async def scenario() -> str:
        async with outside_caller(OUTSIDER) as caller, phone(alice) as alice_phone, phone(dave) as dave_phone:
            call = await caller.invite(LYON_NUMBER)
            incoming = await dave_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await call.hangup()
            await incoming.wait_ended(timeout=5)
            await alice_phone.assert_not_rung()
            return incoming.caller_number

    assert asyncio.run(scenario()) == OUTSIDER
    assert ended_call(callee_user=dave.user).outcome == CallOutcome.ANSWERED


@pytest.mark.usefixtures("sites")
def test_the_lyon_number_dialled_from_paris_stays_on_the_platform(bob: Person, dave: Person) -> None:
    async def scenario() -> str:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(dave) as dave_phone:
            call = await bob_phone.invite("00472000000")  # the outside prefix, then the national form
            incoming = await dave_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            await incoming.wait_ended(timeout=5)
            await pstn.assert_not_rung()
            return incoming.caller_number

    assert asyncio.run(scenario()) == "101"
    record = ended_call(caller_user=bob.user)
    assert record.callee_user_id == dave.user.pk
