"""Click-to-call from MyIstra (C1): my phone rings first, then the number I typed; or, for a message
without ringing (E10), straight to my colleague's voicemail."""

from __future__ import annotations

import asyncio

import pytest
from django.test import Client

from telephony.choices import CallOutcome
from tests.personas import Person

from .phones import phone
from .processes import wait_until
from .records import ended_call
from .test_voicemail_deposit import recording_started, speak_for, stored_message

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge", "web_server")]


def click_to_call(person: Person, number: str, *, message_only: bool = False) -> int:
    client = Client()
    client.force_login(person.user)
    data = {"number": number, **({"message_only": "on"} if message_only else {})}
    return client.post("/me/call/", data).status_code


def test_click_to_call_rings_my_phone_then_the_number(bob: Person, carol: Person) -> None:
    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            assert await asyncio.to_thread(click_to_call, bob, "102") == 302
            # bob's own phone rings first, showing whom it will call
            mine = await bob_phone.wait_incoming(timeout=5)
            assert mine.caller_number == "102"
            await mine.answer()
            # then carol's phone rings with bob's identity
            theirs = await carol_phone.wait_incoming(timeout=5)
            assert (theirs.caller_name, theirs.caller_number) == ("Bob", "101")
            await theirs.answer()
            before = mine.rtp_received
            await theirs.wait_rtp(25, timeout=5)
            await mine.wait_rtp(before + 25, timeout=5)
            await mine.hangup()
            await theirs.wait_ended(timeout=5)

    asyncio.run(scenario())
    call = ended_call(caller_user=bob.user)
    assert (call.dialled_number, call.callee_user_id, call.outcome) == (
        "102",
        carol.user.id,
        CallOutcome.ANSWERED,
    )


def test_a_message_can_be_left_from_myistra_without_ringing_the_colleague(bob: Person, carol: Person) -> None:
    async def scenario() -> int:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            assert await asyncio.to_thread(click_to_call, bob, "102", message_only=True) == 302
            mine = await bob_phone.wait_incoming(timeout=5)
            await mine.answer()
            await asyncio.to_thread(
                wait_until, recording_started, 30, "the recording to start after the beep"
            )
            await speak_for(mine, 2)
            await mine.hangup()
            return len(carol_phone.invites_received)

    assert asyncio.run(scenario()) == 0
    message = stored_message()
    assert message.mailbox.user_id == carol.user.id and message.caller_number == "101"


def test_click_to_call_refuses_a_malformed_number(bob: Person) -> None:
    client = Client()
    client.force_login(bob.user)

    response = client.post("/me/call/", {"number": "10a; DROP"}, follow=True)

    assert "Enter a number" in response.content.decode()
