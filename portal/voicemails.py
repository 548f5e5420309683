"""Voicemail as one user sees it in MyIstra: their stored messages, the unread count, their recordings."""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.shortcuts import get_object_or_404

from directory.models import User
from voicemail.models import Mailbox, Message, MessageQuerySet

# Until voicemail.actions has update_mailbox / save_recording, the portal writes these mailbox fields
# itself; they are the owner's preferences and have no side effect elsewhere.
SETTINGS_FIELDS = ("enabled", "notify", "sms_number")

# The mailbox's recordings a user uploads, by the name the URLs and forms use for them.
RECORDINGS = {"name": "name_audio", "greeting": "greeting_audio"}


def messages_of(user: User) -> MessageQuerySet:
    """The user's own messages, newest first; recordings still on Asterisk are not messages yet."""
    return Message.objects.stored().of_user(user.pk).order_by("-created_at")


def unread_count(user: User) -> int:
    return Message.objects.of_user(user.pk).unread().count()


def own_message(user: User, message_id: uuid.UUID) -> Message:
    """One of the user's messages, or 404: another user's message, even a colleague's, is not found."""
    # mark_read and delete_message announce the new counts to the user's phones and browsers, which
    # reads the mailbox's user, extension and company: load them with the message.
    messages = messages_of(user).select_related("mailbox__user__extension", "mailbox__company")
    return get_object_or_404(messages, pk=message_id)


def recording(mailbox: Mailbox, kind: str) -> FieldFile:
    return getattr(mailbox, RECORDINGS[kind])  # type: ignore[no-any-return]


@transaction.atomic
def save_recording(*, mailbox: Mailbox, kind: str, wav: bytes) -> None:
    """Keep a new recording of the user's name or greeting (phone-ready WAV); the old file goes."""
    audio = recording(mailbox, kind)
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
