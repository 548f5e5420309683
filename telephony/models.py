from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import Company
from directory.validation import validate_printable

from .choices import (
    BarringDirection,
    CallerIdChoice,
    CallOutcome,
    CallState,
    DeviceKind,
    LegRole,
    NumberClass,
    Presence,
    RuleCondition,
    RuleDestination,
    RuleOrigin,
    Screening,
)

extension_number_validator = RegexValidator(r"^[0-9]{2,6}$", _("An extension is 2 to 6 digits."))
# What a user may type as a phone number: digits, optional leading +, 2 to 20 of them.
phone_number_validator = RegexValidator(r"^\+?[0-9]{2,20}$", _("Digits only, with an optional leading +."))
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
    label = models.CharField(_("label"), max_length=60, default="Desk phone", validators=[validate_printable])
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
    # Call waiting (B4): how many calls the phone takes at once; 1 means one call only.
    max_calls = models.PositiveSmallIntegerField(
        _("simultaneous calls"), default=1, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    # A remote terminal (kind remote) is this outside number, rung through the carrier (A6).
    number = models.CharField(_("number"), max_length=20, blank=True, validators=[phone_number_validator])
    # The remote leg must press a key before it is connected, so its own voicemail never takes the call (A7).
    avoid_voicemail = models.BooleanField(_("avoid this phone's own voicemail"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["user", "ring_delay", "id"]

    def __str__(self) -> str:
        return self.sip_username

    @property
    def is_remote(self) -> bool:
        return self.kind == DeviceKind.REMOTE


class CallQuerySet(models.QuerySet["Call"]):
    def for_company(self, company: Company | int) -> CallQuerySet:
        return self.filter(company=company)

    def involving(self, user_id: int) -> CallQuerySet:
        return self.filter(Q(caller_user_id=user_id) | Q(callee_user_id=user_id) | Q(forwarded_by_id=user_id))

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
    # The user whose forwarding rule sent the call on (the last one, when rules chained).
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

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


class CallSettings(models.Model):
    """A user's own telephony settings: DND, presence, their numbers, caller id, black/white list."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="call_settings"
    )
    dnd = models.BooleanField(_("do not disturb"), default=False)
    presence = models.CharField(
        _("presence"), max_length=20, choices=Presence.choices, default=Presence.AVAILABLE
    )
    home_number = models.CharField(
        _("home number"), max_length=20, blank=True, validators=[phone_number_validator]
    )
    mobile_number = models.CharField(
        _("mobile number"), max_length=20, blank=True, validators=[phone_number_validator]
    )
    caller_id = models.CharField(
        _("number shown on outside calls"),
        max_length=10,
        choices=CallerIdChoice.choices,
        default=CallerIdChoice.AUTO,
    )
    caller_id_number = models.ForeignKey(
        "PhoneNumber",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("public number shown"),
    )
    screening = models.CharField(
        _("caller screening"), max_length=10, choices=Screening.choices, default=Screening.OFF
    )
    reject_anonymous = models.BooleanField(_("reject anonymous callers"), default=False)
    # Numbers of the black or white list, as callers present them (extensions or outside numbers).
    screened_numbers = models.JSONField(_("listed callers"), default=list, blank=True)

    class Meta:
        verbose_name_plural = "call settings"

    def __str__(self) -> str:
        return f"settings of {self.user}"


class ForwardingRuleQuerySet(models.QuerySet["ForwardingRule"]):
    def for_company(self, company: Company | int) -> ForwardingRuleQuerySet:
        return self.filter(company=company)


class ForwardingRule(models.Model):
    """One of a user's call forwarding rules (B2). Precedence is documented in telephony.routing."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forwarding_rules"
    )
    label = models.CharField(_("label"), max_length=60, blank=True, validators=[validate_printable])
    # Lower first: among rules of the same condition that match a call, the first one wins.
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    enabled = models.BooleanField(_("active"), default=True)
    condition = models.CharField(_("condition"), max_length=12, choices=RuleCondition.choices)
    no_answer_after = models.PositiveSmallIntegerField(
        _("no answer after (s)"), default=15, validators=[MinValueValidator(5), MaxValueValidator(120)]
    )
    origin = models.CharField(_("calls"), max_length=10, choices=RuleOrigin.choices, default=RuleOrigin.ALL)
    # With origin "listed": the callers' numbers (extensions or outside numbers).
    callers = models.JSONField(_("callers"), default=list, blank=True)
    # Active only in these presence states; empty means whatever the presence.
    presences = models.JSONField(_("presence states"), default=list, blank=True)
    # Active only on these weekdays (0 = Monday) and between these times, in the company's time zone.
    days = models.JSONField(_("days"), default=list, blank=True)
    time_from = models.TimeField(_("from"), null=True, blank=True)
    time_to = models.TimeField(_("to"), null=True, blank=True)
    destination = models.CharField(_("destination"), max_length=12, choices=RuleDestination.choices)
    destination_number = models.CharField(
        _("number"), max_length=20, blank=True, validators=[phone_number_validator]
    )
    # Set by a dial code (*2xxx, *2*xxx, *2#xxx), which replaces it the next time it is dialled.
    from_dial_code = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ForwardingRuleQuerySet.as_manager()

    class Meta:
        ordering = ["user", "position", "id"]

    def __str__(self) -> str:
        return self.label or f"{self.condition} -> {self.destination}"


class BarringRuleQuerySet(models.QuerySet["BarringRule"]):
    def for_company(self, company: Company | int) -> BarringRuleQuerySet:
        return self.filter(company=company)


class BarringRule(models.Model):
    """An administrator's call barring rule (B5 incoming, C4 outgoing): a class or a prefix, forbidden
    or allowed as an exception. The most specific rule that matches a number decides."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="barring_rules")
    # Empty: every user of the company.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="barring_rules",
    )
    direction = models.CharField(_("direction"), max_length=3, choices=BarringDirection.choices)
    number_class = models.CharField(
        _("class of numbers"), max_length=15, choices=NumberClass.choices, blank=True
    )
    # A number or its beginning, as users dial it without the outside prefix (06, 0612345678, +44).
    prefix = models.CharField(_("prefix"), max_length=20, blank=True, validators=[phone_number_validator])
    allow = models.BooleanField(_("allow (an exception)"), default=False)

    objects = BarringRuleQuerySet.as_manager()

    class Meta:
        ordering = ["company", "direction", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(number_class="") & ~Q(prefix="")) | (~Q(number_class="") & Q(prefix="")),
                name="barring_class_xor_prefix",
            )
        ]

    def __str__(self) -> str:
        what = self.number_class or self.prefix
        return f"{'allow' if self.allow else 'forbid'} {self.direction} {what}"


class SpeedDialQuerySet(models.QuerySet["SpeedDial"]):
    def for_company(self, company: Company | int) -> SpeedDialQuerySet:
        return self.filter(company=company)


class SpeedDial(models.Model):
    """A short number of the company that dials a full one (C3): 230 -> 0612345678."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="speed_dials")
    short_number = models.CharField(
        _("short number"), max_length=6, validators=[RegexValidator(r"^[0-9]{2,6}$", _("2 to 6 digits."))]
    )
    # An extension, or an outside number written without the outside prefix (0612345678, +44...).
    number = models.CharField(_("number"), max_length=20, validators=[phone_number_validator])
    label = models.CharField(_("label"), max_length=60, blank=True, validators=[validate_printable])

    objects = SpeedDialQuerySet.as_manager()

    class Meta:
        ordering = ["company", "short_number"]
        constraints = [
            models.UniqueConstraint(fields=["company", "short_number"], name="speed_dial_unique_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.short_number} -> {self.number}"
