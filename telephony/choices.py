from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    SIP = "sip", _("SIP phone")
    # An outside number (mobile, home) that rings through the carrier as one of the user's phones (A6).
    REMOTE = "remote", _("remote terminal")


class CallState(models.TextChoices):
    ROUTING = "routing", _("routing")
    RINGING = "ringing", _("ringing")
    ANSWERED = "answered", _("in a call")
    ENDED = "ended", _("ended")


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", _("answered")
    BUSY = "busy", _("busy")
    NO_ANSWER = "no_answer", _("no answer")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class LegRole(models.TextChoices):
    CALLER = "caller", _("caller")
    CALLEE = "callee", _("callee")


class Presence(models.TextChoices):
    """What a user says of themselves (G6); forwarding rules can switch on and off with it."""

    AVAILABLE = "available", _("available")
    AT_WORK = "at_work", _("at work")
    MEETING = "meeting", _("in a meeting")
    TRAINING = "training", _("in training")
    BUSINESS_TRIP = "business_trip", _("on a business trip")
    UNREACHABLE = "unreachable", _("unreachable")
    HOLIDAY = "holiday", _("on holiday")
    SICK = "sick", _("sick")


class RuleCondition(models.TextChoices):
    ALWAYS = "always", _("always")
    BUSY = "busy", _("when I am busy")
    NO_ANSWER = "no_answer", _("when I do not answer")
    UNREACHABLE = "unreachable", _("when I am unreachable")


class RuleOrigin(models.TextChoices):
    ALL = "all", _("all calls")
    ANONYMOUS = "anonymous", _("anonymous calls")
    EXTERNAL = "external", _("external calls")
    INTERNAL = "internal", _("internal calls")
    LISTED = "listed", _("these callers only")


class RuleDestination(models.TextChoices):
    RECEPTIONIST = "receptionist", _("the company receptionist")
    HOME = "home", _("my home number")
    MOBILE = "mobile", _("my mobile number")
    VOICEMAIL = "voicemail", _("my voicemail")
    NUMBER = "number", _("another number")


class CallerIdChoice(models.TextChoices):
    """The number an outside callee sees when the user calls out (A4)."""

    AUTO = "auto", _("my own public number, else the company number")
    NUMBER = "number", _("this public number")
    COMPANY = "company", _("the company number")
    WITHHELD = "withheld", _("withheld (anonymous)")


class Screening(models.TextChoices):
    """Black and white lists (B6)."""

    OFF = "off", _("accept every caller")
    BLACKLIST = "blacklist", _("reject the listed callers")
    WHITELIST = "whitelist", _("accept only the listed callers")


class BarringDirection(models.TextChoices):
    INCOMING = "in", _("incoming")
    OUTGOING = "out", _("outgoing")


class NumberClass(models.TextChoices):
    """Classes of outside numbers that barring rules name (B5, C4)."""

    INTERNATIONAL = "international", _("international")
    MOBILE = "mobile", _("mobile")
    PREMIUM = "premium", _("premium rate")
    NATIONAL = "national", _("national")
    ANONYMOUS = "anonymous", _("anonymous (incoming only)")
    HIGH_RISK = "high_risk", _("high risk (satellite, international premium rate)")
