from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import Company

from .choices import CallOutcome, CallState, DeviceKind, LegRole

extension_number_validator = RegexValidator(r"^[0-9]{2,6}$", _("An extension is 2 to 6 digits."))
sip_username_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{2,39}$",
    _("3 to 40 characters: lower-case letters, digits, dot, dash, underscore."),
)


class ExtensionQuerySet(models.QuerySet["Extension"]):
    def for_company(self, company: Company | int) -> ExtensionQuerySet:
        return self.filter(company=company)


class Extension(models.Model):
    """A short internal number of a company's plan; dialling it rings its user's phones."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="extensions")
    number = models.CharField(_("extension"), max_length=6, validators=[extension_number_validator])
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extension", null=True, blank=True
    )
    # After this many seconds of ringing without an answer the call ends as "no answer".
    ring_timeout = models.PositiveSmallIntegerField(
        _("ring timeout (s)"), default=20, validators=[MinValueValidator(5), MaxValueValidator(120)]
    )

    objects = ExtensionQuerySet.as_manager()

    class Meta:
        ordering = ["company", "number"]
        constraints = [
            # Unique per company, not globally: Acme's 101 and Globex's 101 are different people.
            models.UniqueConstraint(fields=["company", "number"], name="extension_unique_per_company"),
        ]

    def __str__(self) -> str:
        return f"{self.company.slug}/{self.number}"


class DeviceQuerySet(models.QuerySet["Device"]):
    def for_company(self, company: Company | int) -> DeviceQuerySet:
        return self.filter(company=company)

    def enabled(self) -> DeviceQuerySet:
        return self.filter(enabled=True)


class Device(models.Model):
    """A phone of a user: a SIP account on Asterisk that rings after its own delay when the user is called."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="devices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    label = models.CharField(_("label"), max_length=60, default="Desk phone")
    kind = models.CharField(_("kind"), max_length=10, choices=DeviceKind.choices, default=DeviceKind.SIP)
    # The SIP username is also the Asterisk endpoint id, so it is unique across all companies.
    sip_username = models.CharField(
        _("SIP username"), max_length=40, unique=True, validators=[sip_username_validator]
    )
    # MD5(username:realm:password): Asterisk checks digests against it; the password itself is never kept.
    sip_ha1 = models.CharField(max_length=32)
    ring_delay = models.PositiveSmallIntegerField(
        _("ring delay (s)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(30)]
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["user", "ring_delay", "id"]

    def __str__(self) -> str:
        return self.sip_username


class CallQuerySet(models.QuerySet["Call"]):
    def for_company(self, company: Company | int) -> CallQuerySet:
        return self.filter(company=company)

    def involving(self, user_id: int) -> CallQuerySet:
        return self.filter(Q(caller_user_id=user_id) | Q(callee_user_id=user_id))

    def active(self) -> CallQuerySet:
        return self.exclude(state=CallState.ENDED)

    def history_for(self, user_id: int) -> CallQuerySet:
        return (
            self.involving(user_id)
            .filter(state=CallState.ENDED)
            .select_related("caller_user", "callee_user")
            .order_by("-started_at")
        )


class Call(models.Model):
    """One call as its caller placed it: who called whom, when it rang, was answered and ended, and how."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="calls")
    # Which Asterisk carried the call: platforms that outgrow one server run several behind a SIP proxy.
    asterisk_server = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=CallState.choices, default=CallState.ROUTING)
    outcome = models.CharField(max_length=10, choices=CallOutcome.choices, blank=True)
    # Why a call failed or ended that way, in a word: unknown_number, app_unavailable, ...
    reason = models.CharField(max_length=40, blank=True)

    caller_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="placed_calls"
    )
    caller_device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, related_name="+")
    caller_number = models.CharField(max_length=32)
    caller_name = models.CharField(max_length=120, blank=True)
    dialled_number = models.CharField(max_length=64)
    callee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="received_calls"
    )
    callee_number = models.CharField(max_length=32, blank=True)
    callee_name = models.CharField(max_length=120, blank=True)

    started_at = models.DateTimeField()
    ringing_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    # What the bridge needs to pick the call up again after its own restart.
    bridge_id = models.CharField(max_length=80, blank=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["caller_user", "-started_at"]),
            models.Index(fields=["callee_user", "-started_at"]),
            models.Index(fields=["asterisk_server", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.caller_number} -> {self.dialled_number} ({self.state})"

    @property
    def duration(self) -> timedelta | None:
        """Talk time: from answer to hang-up; None for a call nobody answered."""
        if self.answered_at and self.ended_at:
            return self.ended_at - self.answered_at
        return None

    @property
    def duration_seconds(self) -> int:
        d = self.duration
        return int(d.total_seconds()) if d else 0

    def direction_for(self, user_id: int) -> str:
        """placed, received or missed, as the user's history shows it."""
        if self.caller_user_id == user_id:
            return "placed"
        return "received" if self.answered_at else "missed"


class CallLeg(models.Model):
    """One channel of a call on Asterisk: the caller's own leg, or one device rung for the callee."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="legs")
    role = models.CharField(max_length=10, choices=LegRole.choices)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, related_name="legs")
    channel_id = models.CharField(max_length=80, unique=True)
    endpoint = models.CharField(max_length=80)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=CallOutcome.choices, blank=True)
    hangup_cause = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["device"], condition=Q(ended_at__isnull=True), name="leg_active_device")
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.endpoint} ({self.channel_id})"


class PhoneNumberQuerySet(models.QuerySet["PhoneNumber"]):
    def for_company(self, company: Company | int) -> PhoneNumberQuerySet:
        return self.filter(company=company)


class PhoneNumber(models.Model):
    """A public number (DID) the carrier routes to the platform, and where its calls go in the company."""

    class Destination(models.TextChoices):
        USER = "user", _("a user")
        VOICEMAIL = "voicemail", _("the voicemail service")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="phone_numbers")
    # As the carrier presents it (E.164 digits, optional leading +); unique across the platform.
    number = models.CharField(
        _("number"), max_length=20, unique=True, validators=[RegexValidator(r"^\+?[0-9]{4,19}$")]
    )
    destination = models.CharField(_("destination"), max_length=10, choices=Destination.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="phone_numbers",
    )

    objects = PhoneNumberQuerySet.as_manager()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number
