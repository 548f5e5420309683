from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    SIP = "sip", _("SIP phone")


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
