"""Voicemail as one user sees it in MyIstra: their stored messages, the unread count, their recordings."""

from __future__ import annotations

import uuid

from django.db.models.fields.files import FieldFile
from django.shortcuts import get_object_or_404

from directory.models import User
from voicemail.actions import RECORDINGS
from voicemail.models import Mailbox, Message, MessageQuerySet


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
