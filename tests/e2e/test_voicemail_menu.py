"""The voicemail service (555): PIN, listen, details, call back, delete, change PIN; and the phone lamp."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import uuid
import wave
from collections.abc import Sequence
from pathlib import Path

import pytest
from django.utils import timezone

from tests.personas import Person
from tests.sipua import Call, SipUA
from voicemail import actions
from voicemail.audio import wav_duration_ms
from voicemail.choices import Greeting
from voicemail.models import Mailbox, Message

from .phones import phone
from .processes import LOG_DIR, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge", "web_server")]

PIN = "2580"


def tone_wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        frames = int(seconds * 8000)
        wav.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(frames)
            )
        )
    return buffer.getvalue()


def leave_message(owner: Person, caller: Person, seconds: float = 2.0) -> Message:
    """A message as a deposit leaves it (the deposit itself is tested in test_voicemail_deposit)."""
    mailbox = Mailbox.objects.get(user=owner.user)
    name = f"vm-test-{uuid.uuid4().hex}"
    actions.begin_message(
        mailbox_id=mailbox.pk,
        recording_name=name,
        asterisk_server="ast-test",
        caller_number=caller.extension,
        caller_name=caller.user.display_name,
        caller_user_id=caller.user.pk,
        call_id=None,
        at=timezone.now(),
    )
    message = actions.store_message(recording_name=name, audio=tone_wav(seconds))
    assert message is not None
    return message


def set_pin(person: Person, pin: str = PIN) -> None:
    actions.set_pin(mailbox=Mailbox.objects.get(user=person.user), pin=pin)


def is_new(notify: object, before: Sequence[object]) -> bool:
    return all(notify is not old for old in before)


def is_read(message: Message) -> bool:
    return Message.objects.filter(pk=message.pk, read_at__isnull=False).exists()


def test_listening_details_and_deleting_a_message_by_phone_also_turns_the_lamp_off(
    bob: Person, carol: Person
) -> None:
    set_pin(carol)

    async def scenario() -> None:
        async with phone(carol) as carol_phone:
            # given carol's desk phone subscribes to her mailbox's message summary
            assert await carol_phone.subscribe_mwi() in (200, 202)
            # the subscription's first NOTIFY: the state now
            await carol_phone.wait_notify(lambda n: n.get("Subscription-State") is not None, timeout=5)
            # when a message arrives, her lamp lights
            before = list(carol_phone.notifies)
            message = await asyncio.to_thread(leave_message, carol, bob)
            await carol_phone.wait_notify(
                lambda n: is_new(n, before) and b"Messages-Waiting: yes" in n.body, timeout=5
            )
            # when she calls the voicemail service, types her PIN and 1
            call = await carol_phone.invite("555")
            await call.wait_status(200, timeout=5)
            await call.send_dtmf(f"{PIN}#1")
            # then the message plays (and is marked read)
            await asyncio.to_thread(wait_until, lambda: is_read(message), 20, "the message to be played")
            # and 0 gives its details, # goes back, 3 deletes it
            await call.send_dtmf("0#3")
            await asyncio.to_thread(
                wait_until, lambda: not Message.objects.filter(pk=message.pk).exists(), 20, "the deletion"
            )
            await carol_phone.wait_notify(
                lambda n: is_new(n, before) and b"Messages-Waiting: no" in n.body, timeout=5
            )
            await call.send_dtmf("*")
            await call.wait_ended(timeout=15)
            assert call.ended_by == "remote"

    asyncio.run(scenario())


def test_the_pin_is_changed_from_the_main_menu(carol: Person) -> None:
    set_pin(carol)

    async def scenario() -> None:
        async with phone(carol) as carol_phone:
            call = await carol_phone.invite("555")
            await call.wait_status(200, timeout=5)
            await call.send_dtmf(f"{PIN}#3")
            await call.send_dtmf("4731#4731#")
            await asyncio.to_thread(
                wait_until,
                lambda: Mailbox.objects.get(user=carol.user).check_pin("4731"),
                20,
                "the new PIN to be saved",
            )
            await call.hangup()

    asyncio.run(scenario())
    assert not Mailbox.objects.get(user=carol.user).check_pin(PIN)


def test_three_wrong_pins_end_the_call_and_are_logged(carol: Person) -> None:
    set_pin(carol)
    log = Path(LOG_DIR / "bridge.log")
    before = log.read_text().count("failed logins")

    async def scenario() -> None:
        async with phone(carol) as carol_phone:
            call = await carol_phone.invite("555")
            await call.wait_status(200, timeout=5)
            await call.send_dtmf("1111#2222#3333#")
            await call.wait_ended(timeout=30)
            assert call.ended_by == "remote"

    asyncio.run(scenario())
    wait_until(lambda: log.read_text().count("failed logins") > before, 5, "the failed logins in the log")


def test_a_mailbox_is_reachable_from_a_colleagues_phone_with_extension_and_pin(
    bob: Person, carol: Person, dave: Person
) -> None:
    set_pin(carol)
    message = leave_message(carol, bob)

    async def scenario() -> None:
        async with phone(dave) as dave_phone:
            call = await dave_phone.invite("555")
            await call.wait_status(200, timeout=5)
            # '*' instead of a PIN: another mailbox, by extension
            await call.send_dtmf(f"*#102#{PIN}#1")
            await asyncio.to_thread(wait_until, lambda: is_read(message), 25, "carol's message to be played")
            await call.hangup()

    asyncio.run(scenario())


async def call_back_from_details(owner: SipUA, sender: SipUA, message: Message) -> tuple[Call, Call]:
    """The mailbox's owner calls the voicemail service, listens to `message`, and from its details
    calls its sender back, whose phone answers. Returns the owner's call and the sender's."""
    call = await owner.invite("555")
    await call.wait_status(200, timeout=5)
    await call.send_dtmf(f"{PIN}#1")
    await asyncio.to_thread(wait_until, lambda: is_read(message), 20, "the message to be played")
    await call.send_dtmf("03")
    incoming = await sender.wait_incoming(timeout=20)
    await incoming.answer()
    return call, incoming


def test_from_a_messages_details_3_calls_the_sender_back(bob: Person, carol: Person) -> None:
    set_pin(carol)
    message = leave_message(carol, bob)

    async def scenario() -> None:
        async with phone(carol) as carol_phone, phone(bob) as bob_phone:
            call, incoming = await call_back_from_details(carol_phone, bob_phone, message)
            # bob's phone rang with carol's identity, he answered, and they talk
            assert incoming.caller_number == "102"
            before = call.rtp_received
            await incoming.wait_rtp(25, timeout=5)
            await call.wait_rtp(before + 25, timeout=5)
            await incoming.hangup()
            await call.wait_ended(timeout=5)

    asyncio.run(scenario())


def test_recording_ones_name_from_the_phone_makes_it_the_greeting(carol: Person) -> None:
    set_pin(carol)

    async def scenario() -> None:
        async with phone(carol) as carol_phone:
            call = await carol_phone.invite("555")
            await call.wait_status(200, timeout=5)
            # main menu 2 (greetings), then 1 (record my name)
            await call.send_dtmf(f"{PIN}#21")
            # the prompt and the beep take a few seconds; she speaks on after them, then presses #
            target = call.rtp_sent + 10 * 50
            while call.rtp_sent < target:
                await asyncio.sleep(0.02)
            await call.send_dtmf("#")
            await asyncio.to_thread(
                wait_until,
                lambda: bool(Mailbox.objects.get(user=carol.user).name_audio),
                15,
                "her recorded name to be saved",
            )
            await call.hangup()

    asyncio.run(scenario())

    mailbox = Mailbox.objects.get(user=carol.user)
    assert mailbox.greeting == Greeting.NAME
    with mailbox.name_audio.open("rb") as audio:
        assert wav_duration_ms(audio.read()) >= 2000
