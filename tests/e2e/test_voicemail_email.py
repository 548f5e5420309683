"""A new message reaches its owner by e-mail, with the audio attached as an MP3 of the same length."""

from __future__ import annotations

import asyncio
import email
import subprocess
import tempfile
import time

import pytest

from tests.personas import Person
from voicemail.choices import Notify
from voicemail.models import Mailbox

from .conftest import SmtpInbox
from .processes import wait_until
from .test_voicemail_deposit import leave_message, stored_message

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge", "web_server", "celery_worker")]


def mp3_seconds(data: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".mp3") as handle:
        handle.write(data)
        handle.flush()
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(out.stdout.strip())


def test_a_new_message_is_emailed_with_its_audio_within_two_seconds(
    bob: Person, carol: Person, smtp_inbox: SmtpInbox
) -> None:
    # given carol wants her messages by e-mail with the audio
    carol.user.email = "carol@acme.example"
    carol.user.save(update_fields=["email"])
    Mailbox.objects.filter(user=carol.user).update(notify=Notify.EMAIL_AUDIO)
    already = len(smtp_inbox.messages)

    # when bob leaves her a 4 s message
    asyncio.run(leave_message(bob, carol, dialled="*86102", seconds=4, carol_rings=False))
    hung_up = time.monotonic()

    # then within two seconds an e-mail arrives, with an MP3 as long as the message
    wait_until(lambda: len(smtp_inbox.messages) > already, 2.0, "the voicemail e-mail")
    delay = time.monotonic() - hung_up
    received = email.message_from_bytes(smtp_inbox.messages[-1])
    assert received["To"] == "carol@acme.example"
    assert "Bob" in received["Subject"]
    attachments = [part for part in received.walk() if part.get_content_type() == "audio/mpeg"]
    assert len(attachments) == 1
    message = stored_message()
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert abs(mp3_seconds(payload) - message.duration_ms / 1000) < 0.3
    assert delay < 2.0
