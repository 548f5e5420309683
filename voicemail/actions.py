"""Writes on voicemail boxes and messages, with their side effects sent after commit: the phone lamp
(MWI), the MyIstra badge, and the e-mail/SMS notification."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from directory.models import User
from telephony.actions import users as user_actions
from telephony.actions.devices import SipCredentials
from telephony.events import VoicemailEvent, publish_event_on_commit

from . import mwi, tasks
from .audio import wav_duration_ms
from .choices import Greeting, MessageState
from .models import Mailbox, Message

logger = logging.getLogger(__name__)

# Shorter deposits are a caller hanging up at the beep, not a message.
MIN_MESSAGE_MS = 1000
MAX_MESSAGE_SECONDS = 120


def ensure_mailbox(*, user: User) -> Mailbox:
    assert user.company_id is not None
    mailbox, _ = Mailbox.objects.get_or_create(user=user, defaults={"company_id": user.company_id})
    return mailbox


@transaction.atomic
def create_user_with_mailbox(**fields: Any) -> tuple[User, SipCredentials | None]:
    """A user as `telephony.actions.users.create_user` makes them (same keywords), with their
    voicemail box: what the portal, the API and the demo seed create. Telephony sits below
    voicemail and knows nothing of mailboxes, so this step lives here."""
    user, credentials = user_actions.create_user(**fields)
    ensure_mailbox(user=user)
    return user, credentials


def mailbox_mwi_id(mailbox: Mailbox) -> str | None:
    extension = getattr(mailbox.user, "extension", None)
    if extension is None:
        return None
    return mwi.mailbox_id(extension.number, mailbox.company.slug)


def _announce_counts_on_commit(mailbox: Mailbox) -> None:
    """After commit: the lamp on the user's phones and the badge in their browsers follow the box."""
    stored = Message.objects.filter(mailbox=mailbox).stored()
    unread = stored.filter(read_at__isnull=True).count()
    old = stored.count() - unread
    publish_event_on_commit(mailbox.user_id, VoicemailEvent(unread=unread))
    box = mailbox_mwi_id(mailbox)
    if box:
        transaction.on_commit(lambda: mwi.publish(box, new=unread, old=old))


@transaction.atomic
def set_pin(*, mailbox: Mailbox, pin: str) -> None:
    mailbox.set_pin(pin)
    mailbox.save(update_fields=["pin_hash", "pin_failures", "remote_locked_at"])


class PinVerdict(StrEnum):
    OPEN = "open"
    WRONG = "wrong"
    # The mailbox has no PIN yet: it cannot be opened by phone.
    NO_PIN = "no_pin"
    # Remote access is locked after repeated wrong PINs; the PIN was not even checked.
    LOCKED = "locked"


@transaction.atomic
def try_pin(*, mailbox_id: int, pin: str, own_phone: bool, source: str) -> PinVerdict:
    """A PIN typed on the phone to open a mailbox (E2, E4), from the owner's own phone or elsewhere.

    Wrong PINs from elsewhere count across calls: at settings.VOICEMAIL_MAX_PIN_FAILURES in a row,
    remote access is locked (before any PIN is checked) until the owner sets a new PIN, and the
    owner is told by e-mail. The owner's own phone is never locked out, nor counts."""
    mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.has_pin:
        return PinVerdict.NO_PIN
    if own_phone:
        return PinVerdict.OPEN if mailbox.check_pin(pin) else PinVerdict.WRONG
    if mailbox.remote_locked_at is not None:
        logger.warning("voicemail: mailbox %s is locked; PIN from %s not checked", mailbox.pk, source)
        return PinVerdict.LOCKED
    if mailbox.check_pin(pin):
        if mailbox.pin_failures:
            mailbox.pin_failures = 0
            mailbox.save(update_fields=["pin_failures"])
        return PinVerdict.OPEN
    mailbox.pin_failures += 1
    fields = ["pin_failures"]
    if mailbox.pin_failures >= settings.VOICEMAIL_MAX_PIN_FAILURES:
        mailbox.remote_locked_at = timezone.now()
        fields.append("remote_locked_at")
        logger.warning(
            "voicemail: mailbox %s locked for remote access after %d wrong PINs (last from %s)",
            mailbox.pk,
            mailbox.pin_failures,
            source,
        )
        transaction.on_commit(lambda: tasks.notify_mailbox_locked.delay(mailbox_id))
    mailbox.save(update_fields=fields)
    return PinVerdict.WRONG


@transaction.atomic
def begin_message(
    *,
    mailbox_id: int,
    recording_name: str,
    asterisk_server: str,
    caller_number: str,
    caller_name: str,
    caller_user_id: int | None,
    call_id: uuid.UUID | None,
    at: datetime,
) -> uuid.UUID:
    """Note that Asterisk is recording a message: if anything restarts, we know it is there to fetch."""
    message = Message.objects.create(
        mailbox_id=mailbox_id,
        recording_name=recording_name,
        asterisk_server=asterisk_server,
        caller_number=caller_number,
        caller_name=caller_name,
        caller_user_id=caller_user_id,
        call_id=call_id,
        created_at=at,
    )
    return message.id


@transaction.atomic
def store_message(*, recording_name: str, audio: bytes) -> Message | None:
    """Keep the recording Asterisk made; None when it was too short to be a message (and is dropped)."""
    message = (
        Message.objects.select_for_update()
        .select_related("mailbox__user", "mailbox__company")
        .filter(recording_name=recording_name, state=MessageState.RECORDING)
        .first()
    )
    if message is None:
        return None
    duration = wav_duration_ms(audio)
    if duration < MIN_MESSAGE_MS:
        message.delete()
        return None
    message.duration_ms = duration
    message.state = MessageState.STORED
    message.audio.save(f"{message.id}.wav", ContentFile(audio), save=False)
    message.save(update_fields=["duration_ms", "state", "audio"])
    _announce_counts_on_commit(message.mailbox)

    message_id = str(message.id)
    transaction.on_commit(lambda: tasks.notify_new_message.delay(message_id))
    return message


@transaction.atomic
def discard_message(*, recording_name: str) -> None:
    Message.objects.filter(recording_name=recording_name, state=MessageState.RECORDING).delete()


@transaction.atomic
def mark_read(*, message: Message, at: datetime) -> None:
    if message.read_at is None:
        message.read_at = at
        message.save(update_fields=["read_at"])
        _announce_counts_on_commit(message.mailbox)


@transaction.atomic
def delete_message(*, message: Message) -> None:
    mailbox = message.mailbox
    if message.audio:
        audio = message.audio
        transaction.on_commit(lambda: audio.delete(save=False))
    message.delete()
    _announce_counts_on_commit(mailbox)


def recordings_in_progress(asterisk_server: str, *, started_before: datetime) -> list[str]:
    """Recording names Asterisk may still hold for us: what reconciliation fetches after a restart."""
    return list(
        Message.objects.filter(
            asterisk_server=asterisk_server, state=MessageState.RECORDING, created_at__lt=started_before
        ).values_list("recording_name", flat=True)
    )


def mark_read_by_id(*, message_id: uuid.UUID, at: datetime) -> None:
    message = (
        Message.objects.select_related("mailbox__user", "mailbox__company").filter(pk=message_id).first()
    )
    if message is not None:
        mark_read(message=message, at=at)


def delete_message_by_id(*, message_id: uuid.UUID) -> None:
    message = (
        Message.objects.select_related("mailbox__user", "mailbox__company").filter(pk=message_id).first()
    )
    if message is not None:
        delete_message(message=message)


def set_pin_by_id(*, mailbox_id: int, pin: str) -> None:
    set_pin(mailbox=Mailbox.objects.get(pk=mailbox_id), pin=pin)


def set_greeting_by_id(*, mailbox_id: int, greeting: str) -> None:
    Mailbox.objects.filter(pk=mailbox_id).update(greeting=greeting)


@transaction.atomic
def set_greeting_audio(*, mailbox_id: int, greeting: str, audio: bytes) -> bool:
    """Keep a name or greeting recorded on the phone (WAV) and switch the mailbox to it.

    False when the recording is too short to be one (a key pressed at once)."""
    if wav_duration_ms(audio) < MIN_MESSAGE_MS // 2:
        return False
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox_id)
    save_recording(mailbox=mailbox, kind="name" if greeting == Greeting.NAME else "greeting", wav=audio)
    mailbox.greeting = greeting
    mailbox.save(update_fields=["greeting"])
    return True


# The mailbox's own recordings, by the name URLs, forms and the phone menu use for them.
RECORDINGS = {"name": "name_audio", "greeting": "greeting_audio"}
SETTINGS_FIELDS = ("enabled", "notify", "sms_number")


@transaction.atomic
def save_recording(*, mailbox: Mailbox, kind: str, wav: bytes) -> None:
    """Keep a new recording of the user's name or greeting (phone-ready WAV); the old file goes."""
    audio: FieldFile = getattr(mailbox, RECORDINGS[kind])
    old_name = audio.name
    storage = audio.storage
    audio.save(f"{kind}-{mailbox.pk}.wav", ContentFile(wav), save=False)
    mailbox.save(update_fields=[RECORDINGS[kind]])
    if old_name and old_name != audio.name:
        # Only once the new one is certainly referenced: a rollback must not leave the box without audio.
        transaction.on_commit(lambda: storage.delete(old_name))


@transaction.atomic
def update_settings(*, mailbox: Mailbox, enabled: bool, notify: str, sms_number: str) -> None:
    mailbox.enabled = enabled
    mailbox.notify = notify
    mailbox.sms_number = sms_number
    mailbox.save(update_fields=list(SETTINGS_FIELDS))


@transaction.atomic
def update_greeting(
    *, mailbox: Mailbox, greeting: str, name_wav: bytes | None, greeting_wav: bytes | None
) -> None:
    """The greeting callers hear, with any new recording it needs, in one go."""
    if name_wav is not None:
        save_recording(mailbox=mailbox, kind="name", wav=name_wav)
    if greeting_wav is not None:
        save_recording(mailbox=mailbox, kind="greeting", wav=greeting_wav)
    mailbox.greeting = greeting
    mailbox.save(update_fields=["greeting"])
