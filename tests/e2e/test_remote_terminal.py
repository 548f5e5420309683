"""Remote terminals (A6): a mobile rings as one of the user's phones, through the carrier; with
"avoid mobile voicemail" (A7) it must press a key before it is connected."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from directory.models import Company
from telephony.actions.devices import add_remote_terminal
from telephony.choices import CallOutcome
from tests.personas import Person

from .carrier import outside_world
from .phones import phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]

MOBILE = "0611223344"


@pytest.fixture
def company_number(acme: Company) -> None:
    acme.main_number = "+33140000000"
    acme.save()


@pytest.mark.usefixtures("company_number")
def test_a_remote_terminal_rings_after_its_delay_beside_the_desk_phone(bob: Person, carol: Person) -> None:
    add_remote_terminal(user=bob.user, number=MOBILE, ring_delay=2)

    async def scenario() -> tuple[float, str, str]:
        async with outside_world() as pstn, phone(bob) as desk, phone(carol) as carol_phone:
            call = await carol_phone.invite(bob.extension)
            await desk.wait_incoming(timeout=5)
            started = asyncio.get_running_loop().time()
            mobile = await pstn.wait_incoming(timeout=6)
            delay = asyncio.get_running_loop().time() - started
            await mobile.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await mobile.wait_rtp(25, timeout=5)
            # the desk phone stops ringing once the mobile took the call
            await desk.calls[0].wait_cancelled(timeout=5)
            await call.hangup()
            return delay, mobile.called_number, mobile.caller_number

    delay, called, shown = asyncio.run(scenario())

    assert 1.5 <= delay <= 4.0
    assert called == "+33611223344"
    # the mobile is outside: it shows the internal caller's outside number, not an extension
    assert shown == "+33140000000"
    record = ended_call(caller_user=carol.user)
    assert (record.outcome, record.callee_user_id) == (CallOutcome.ANSWERED, bob.user.pk)


@pytest.mark.usefixtures("company_number")
def test_with_avoid_voicemail_the_mobile_is_connected_only_after_a_key_press(
    bob: Person, carol: Person
) -> None:
    add_remote_terminal(user=bob.user, number=MOBILE, avoid_voicemail=True)

    async def scenario() -> list[int]:
        async with outside_world() as pstn, phone(carol) as carol_phone:
            call = await carol_phone.invite(bob.extension)
            mobile = await pstn.wait_incoming(timeout=5)
            await mobile.answer()
            # the mobile hears "press a key to take this call"; the caller is still only ringing
            await mobile.wait_voiced(25, timeout=5)
            assert 200 not in call.status_codes
            await mobile.send_dtmf("5")
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await call.hangup()
            return call.status_codes

    statuses = asyncio.run(scenario())

    assert 200 in statuses
    assert ended_call(caller_user=carol.user).outcome == CallOutcome.ANSWERED


@pytest.mark.usefixtures("company_number")
def test_a_mobile_voicemail_that_answers_without_a_key_never_takes_the_call(
    bob: Person, carol: Person
) -> None:
    """The mobile's own voicemail picks up and presses nothing: its leg is dropped and the caller
    reaches bob's own voicemail after the ring timeout instead."""
    add_remote_terminal(user=bob.user, number=MOBILE, avoid_voicemail=True)
    from telephony.models import Extension

    Extension.objects.filter(user=bob.user).update(ring_timeout=settings.REMOTE_CONFIRM_TIMEOUT + 3)

    async def scenario() -> None:
        async with outside_world() as pstn, phone(carol) as carol_phone:
            call = await carol_phone.invite(bob.extension)
            mobile = await pstn.wait_incoming(timeout=5)
            await mobile.answer()
            # no key: the platform hangs the mobile leg up
            await mobile.wait_ended(timeout=settings.REMOTE_CONFIRM_TIMEOUT + 3)
            # then bob's voicemail answers the caller
            await call.wait_status(200, timeout=10)
            await call.hangup()

    asyncio.run(scenario())

    assert ended_call(caller_user=carol.user).reason == "voicemail"
