"""Leaving a message: greeting and beep, the message stored with its caller, lamp and badge updated."""

from __future__ import annotations

import asyncio

import pytest

from telephony.models import Extension
from tests.personas import Person
from tests.sipua import Call
from voicemail.choices import MessageState
from voicemail.models import Message

from .conftest import READY_FILE
from .phones import phone
from .processes import ManagedProcess, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge", "web_server")]


def recording_started() -> bool:
    return Message.objects.filter(state=MessageState.RECORDING).exists()


def stored_message(timeout: float = 5.0) -> Message:
    message = wait_until(
        lambda: Message.objects.filter(state=MessageState.STORED).select_related("mailbox__user").first(),
        timeout,
        "a stored voicemail message",
    )
    assert isinstance(message, Message)
    return message


async def speak_for(call: Call, seconds: float) -> None:
    """Let the phone send `seconds` more of audio (RTP at 50 packets/s) before the caller hangs up."""
    target = call.rtp_sent + int(seconds * 50)
    while call.rtp_sent < target:
        await asyncio.sleep(0.02)


async def leave_message(
    bob: Person, carol: Person, *, dialled: str, seconds: float, carol_rings: bool
) -> int:
    async with phone(bob) as bob_phone, phone(carol) as carol_phone:
        call = await bob_phone.invite(dialled)
        if carol_rings:
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.wait_cancelled(timeout=10)  # nobody answers: her phone stops ringing
        await call.wait_status(200, timeout=15)  # voicemail answers
        await asyncio.to_thread(wait_until, recording_started, 30, "the recording to start after the beep")
        await speak_for(call, seconds)
        await call.hangup()
        return len(carol_phone.invites_received)


def test_an_unanswered_caller_leaves_a_message_that_is_stored_with_its_caller(
    bob: Person, carol: Person
) -> None:
    # given carol does not answer within 5 s
    Extension.objects.filter(user=carol.user).update(ring_timeout=5)

    # when bob calls her, hears her greeting and the beep, speaks 5 s and hangs up
    asyncio.run(leave_message(bob, carol, dialled="102", seconds=5, carol_rings=True))

    # then the message is in carol's box, about 5 s long, from bob
    message = stored_message()
    assert message.mailbox.user_id == carol.user.id
    assert (message.caller_number, message.caller_name, message.caller_user_id) == ("101", "Bob", bob.user.id)
    assert 4500 <= message.duration_ms <= 5500, message.duration_ms
    assert message.audio and message.read_at is None


def test_a_message_can_be_dropped_without_ringing_the_colleague(bob: Person, carol: Person) -> None:
    # when bob dials *86 + carol's extension
    rung = asyncio.run(leave_message(bob, carol, dialled="*86102", seconds=2, carol_rings=False))

    # then carol's phone never rang, and the 2 s message is kept
    assert rung == 0
    message = stored_message()
    assert message.mailbox.user_id == carol.user.id and 1500 <= message.duration_ms <= 2500


def test_hanging_up_at_the_beep_leaves_no_empty_message(bob: Person, carol: Person) -> None:
    asyncio.run(leave_message(bob, carol, dialled="*86102", seconds=0.2, carol_rings=False))

    wait_until(lambda: not Message.objects.exists(), 5, "the too-short recording to be dropped")


def test_a_message_being_recorded_survives_a_bridge_crash(
    bridge: ManagedProcess, bob: Person, carol: Person
) -> None:
    async def scenario() -> None:
        async with phone(bob) as bob_phone:
            call = await bob_phone.invite("*86102")
            await call.wait_status(200, timeout=15)
            await asyncio.to_thread(
                wait_until, recording_started, 30, "the recording to start after the beep"
            )
            # when the bridge dies while bob is speaking
            await asyncio.to_thread(bridge.kill)
            await speak_for(call, 3)
            await call.hangup()
        READY_FILE.unlink(missing_ok=True)
        await asyncio.to_thread(bridge.start)

    asyncio.run(scenario())

    # then the new bridge collects what Asterisk recorded: nothing is lost
    message = stored_message(timeout=40)
    assert message.mailbox.user_id == carol.user.id and message.duration_ms >= 2500


@pytest.mark.timeout(240)
def test_a_message_is_cut_at_two_minutes_with_a_polite_prompt(bob: Person, carol: Person) -> None:
    async def scenario() -> str | None:
        async with phone(bob) as bob_phone:
            call = await bob_phone.invite("*86102")
            await call.wait_status(200, timeout=15)
            await asyncio.to_thread(
                wait_until, recording_started, 30, "the recording to start after the beep"
            )
            # bob talks on and on: voicemail stops him, says so, and hangs up
            await call.wait_ended(timeout=140)
            return call.ended_by

    assert asyncio.run(scenario()) == "remote"
    message = stored_message()
    assert 119_000 <= message.duration_ms <= 120_500, message.duration_ms
