from django.db import models
from django.utils.translation import gettext_lazy as _


class Notify(models.TextChoices):
    NONE = "none", _("No notification")
    EMAIL = "email", _("E-mail")
    EMAIL_AUDIO = "email_audio", _("E-mail with the message attached")


class Greeting(models.TextChoices):
    DEFAULT = "default", _("Standard greeting with my extension")
    NAME = "name", _("Standard greeting with my recorded name")
    FULL = "full", _("My own recorded greeting")


class MessageState(models.TextChoices):
    # Asterisk is recording it, or holds the recording until our storage has it.
    RECORDING = "recording", _("being recorded")
    STORED = "stored", _("stored")
