from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from directory.models import Company
from telephony.models import Extension, PhoneNumber

from .choices import Greeting, MessageState, Notify

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")


def trivial_pin(pin: str, own_numbers: Iterable[str] = ()) -> bool:
    """Whether a PIN is among the first a guesser tries: one digit repeated (0000), a run up or down
    (1234, 9876, 7890), a pair repeated (1212), or the owner's own extension or number (its end)."""
    if len(set(pin)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {9}):
        return True
    if len(pin) % 2 == 0 and pin == pin[:2] * (len(pin) // 2):
        return True
    return any(number and (pin == number or number.endswith(pin)) for number in own_numbers)


def validate_pin(pin: str, own_numbers: Iterable[str] = ()) -> None:
    if not PIN_PATTERN.match(pin or ""):
        raise ValidationError(_("A voicemail PIN is 4 to 8 digits."), code="pin")
    if trivial_pin(pin, own_numbers):
        raise ValidationError(
            _("This PIN is too easy to guess (repeated digits, a run, or your own number): choose another."),
            code="trivial_pin",
        )


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
    # Wrong PINs typed in a row from phones other than the owner's own, across calls; at
    # VOICEMAIL_MAX_PIN_FAILURES remote access is locked until the owner sets a new PIN.
    pin_failures = models.PositiveIntegerField(default=0)
    remote_locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"mailbox of {self.user}"

    def set_pin(self, pin: str) -> None:
        """A new PIN, refused when trivial; it lifts a lock of remote access (guesses are worthless now)."""
        validate_pin(pin, self.own_numbers())
        self.pin_hash = make_password(pin)
        self.pin_failures = 0
        self.remote_locked_at = None

    def own_numbers(self) -> list[str]:
        """The owner's extension and public numbers: PINs a guesser who knows them would try."""
        numbers = list(Extension.objects.filter(user_id=self.user_id).values_list("number", flat=True))
        numbers += PhoneNumber.objects.filter(user_id=self.user_id).values_list("number", flat=True)
        return numbers

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
