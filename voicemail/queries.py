"""Reads the voicemail service (the bridge's phone menu) needs, as plain values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from telephony.models import Extension

from .media import media_url
from .models import Mailbox, Message


@dataclass(frozen=True)
class MailboxInfo:
    mailbox_id: int
    user_id: int
    company_id: int
    extension: str
    name: str
    greeting: str
    name_url: str | None
    greeting_url: str | None


@dataclass(frozen=True)
class MessageInfo:
    message_id: uuid.UUID
    caller_number: str
    caller_name: str
    created_at: datetime
    audio_url: str


def _info(mailbox: Mailbox) -> MailboxInfo:
    user = mailbox.user
    extension = getattr(user, "extension", None)
    return MailboxInfo(
        mailbox_id=mailbox.pk,
        user_id=user.pk,
        company_id=mailbox.company_id,
        extension=extension.number if extension else "",
        name=user.display_name,
        greeting=mailbox.greeting,
        name_url=media_url("name", mailbox.pk) if mailbox.name_audio else None,
        greeting_url=media_url("greeting", mailbox.pk) if mailbox.greeting_audio else None,
    )


def mailbox_by_id(mailbox_id: int) -> MailboxInfo | None:
    mailbox = Mailbox.objects.select_related("user__extension").filter(pk=mailbox_id).first()
    return _info(mailbox) if mailbox else None


def mailbox_of_user(user_id: int) -> MailboxInfo | None:
    mailbox = Mailbox.objects.select_related("user__extension").filter(user_id=user_id).first()
    return _info(mailbox) if mailbox else None


def mailbox_by_extension(company_id: int, number: str) -> MailboxInfo | None:
    extension = Extension.objects.filter(company_id=company_id, number=number, user__isnull=False).first()
    if extension is None or extension.user_id is None:
        return None
    return mailbox_of_user(extension.user_id)


def new_messages(mailbox_id: int) -> list[MessageInfo]:
    """Unread messages, oldest first: the order the phone menu plays them in."""
    messages = Message.objects.filter(mailbox_id=mailbox_id).unread().order_by("created_at")
    return [
        MessageInfo(
            message_id=m.pk,
            caller_number=m.caller_number,
            caller_name=m.caller_name,
            created_at=m.created_at,
            audio_url=media_url("message", m.pk),
        )
        for m in messages
    ]
