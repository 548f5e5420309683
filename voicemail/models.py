from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from directory.models import Company

from .choices import Greeting, MessageState, Notify

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")


def validate_pin(pin: str) -> None:
    if not PIN_PATTERN.match(pin or ""):
        raise ValidationError(_("A voicemail PIN is 4 to 8 digits."), code="pin")


class Mailbox(models.Model):
    """A user's voicemail box: where unanswered callers leave messages, with its PIN and greetings."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="mailboxes")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailbox")
    enabled = models.BooleanField(_("voicemail on"), default=True)
    # Hashed like a password; never readable back.
    pin_hash = models.CharField(max_length=128, blank=True)
    greeting = models.CharField(
        _("greeting"), max_length=10, choices=Greeting.choices, default=Greeting.DEFAULT
    )
    name_audio = models.FileField(upload_to="voicemail/greetings/", blank=True)
    greeting_audio = models.FileField(upload_to="voicemail/greetings/", blank=True)
    notify = models.CharField(_("notification"), max_length=12, choices=Notify.choices, default=Notify.NONE)
    sms_number = models.CharField(_("SMS notification number"), max_length=20, blank=True)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"mailbox of {self.user}"

    def set_pin(self, pin: str) -> None:
        validate_pin(pin)
        self.pin_hash = make_password(pin)

    def check_pin(self, pin: str) -> bool:
        return bool(self.pin_hash) and check_password(pin, self.pin_hash)

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)


class MessageQuerySet(models.QuerySet["Message"]):
    def stored(self) -> MessageQuerySet:
        return self.filter(state=MessageState.STORED)

    def unread(self) -> MessageQuerySet:
        return self.stored().filter(read_at__isnull=True)

    def of_user(self, user_id: int) -> MessageQuerySet:
        return self.filter(mailbox__user_id=user_id)


class Message(models.Model):
    """A voicemail message a caller left: who, when, how long, and its audio."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="messages")
    state = models.CharField(max_length=10, choices=MessageState.choices, default=MessageState.RECORDING)
    caller_number = models.CharField(max_length=32, blank=True)
    caller_name = models.CharField(max_length=120, blank=True)
    caller_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    call = models.ForeignKey(
        "telephony.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Name of the recording on Asterisk while Asterisk holds it; which server holds it.
    recording_name = models.CharField(max_length=80, unique=True)
    asterisk_server = models.CharField(max_length=40)
    audio = models.FileField(upload_to="voicemail/messages/%Y/%m/", blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["mailbox", "state", "read_at"])]

    def __str__(self) -> str:
        return f"message from {self.caller_number} ({self.duration_ms} ms)"

    @property
    def duration_seconds(self) -> int:
        return round(self.duration_ms / 1000)
