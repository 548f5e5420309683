from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Company administrator")
    RECEPTIONIST = "receptionist", _("Receptionist")
    USER = "user", _("User")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")
