"""A voicemail PIN guessed from outside (E4, J2): through the voicemail's public number, wrong PINs
count across calls; at the threshold remote access is locked even against the right PIN, the owner
is told by e-mail, and the owner's own phone still opens the mailbox."""

from __future__ import annotations

import asyncio
import email

import pytest
from django.conf import settings

from directory.models import Company
from telephony.models import PhoneNumber
from tests.personas import Person
from voicemail.models import Mailbox

from .conftest import SmtpInbox
from .phones import phone
from .processes import wait_until
from .test_carrier import carrier_phone
from .test_voicemail_menu import PIN, is_read, leave_message, set_pin

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge", "web_server", "celery_worker")]

VOICEMAIL_NUMBER = "+33140000555"
ATTEMPTS_PER_CALL = 3


async def guess_from_outside(pins: list[str]) -> None:
    """One call from outside to the voicemail's number: carol's extension, then these PINs; the
    platform ends the call itself."""
    carrier = await carrier_phone()
    try:
        call = await carrier.invite(VOICEMAIL_NUMBER)
        await call.wait_status(200, timeout=5)
        await call.send_dtmf("102#" + "".join(f"{pin}#" for pin in pins))
        await call.wait_ended(timeout=30)
        assert call.ended_by == "remote"
    finally:
        await carrier.close()


def test_a_pin_guessed_from_outside_is_locked_after_the_threshold(
    acme: Company, bob: Person, carol: Person, smtp_inbox: SmtpInbox
) -> None:
    # given: the voicemail reachable from outside, carol's PIN, a message waiting for her
    PhoneNumber.objects.create(
        company=acme, number=VOICEMAIL_NUMBER, destination=PhoneNumber.Destination.VOICEMAIL
    )
    carol.user.email = "carol@acme.example"
    carol.user.save(update_fields=["email"])
    set_pin(carol)
    message = leave_message(carol, bob)
    threshold = settings.VOICEMAIL_MAX_PIN_FAILURES
    already = len(smtp_inbox.messages)
    guesses = [f"{n:04d}" for n in range(3001, 3001 + threshold)]

    # when: a guesser calls again and again, three PINs a call, up to the threshold
    for start in range(0, threshold, ATTEMPTS_PER_CALL):
        asyncio.run(guess_from_outside(guesses[start : start + ATTEMPTS_PER_CALL]))

    # then: the right PIN from outside no longer opens the mailbox
    wait_until(lambda: Mailbox.objects.get(user=carol.user).remote_locked_at is not None, 5, "the lock")

    async def right_pin_from_outside() -> None:
        carrier = await carrier_phone()
        try:
            call = await carrier.invite(VOICEMAIL_NUMBER)
            await call.wait_status(200, timeout=5)
            await call.send_dtmf(f"102#{PIN}#1")
            await call.wait_ended(timeout=20)
            assert call.ended_by == "remote"
        finally:
            await carrier.close()

    asyncio.run(right_pin_from_outside())
    assert not is_read(message)

    # and carol is told by e-mail
    wait_until(lambda: len(smtp_inbox.messages) > already, 10, "the lock e-mail")
    received = email.message_from_bytes(smtp_inbox.messages[-1])
    assert received["To"] == "carol@acme.example"
    assert "locked" in received["Subject"]

    # while her own phone still opens it
    async def from_her_own_phone() -> None:
        async with phone(carol) as carol_phone:
            call = await carol_phone.invite("555")
            await call.wait_status(200, timeout=5)
            await call.send_dtmf(f"{PIN}#1")
            await asyncio.to_thread(wait_until, lambda: is_read(message), 25, "carol's message to be played")
            await call.hangup()

    asyncio.run(from_her_own_phone())
