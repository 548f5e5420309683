from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Language, Role


class Company(models.Model):
    """A tenant: one business renting the platform, with its own extension plan and users."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.FRENCH
    )
    # The company's voicemail service: dialled from any of its phones to reach one's mailbox.
    voicemail_number = models.CharField(_("voicemail service number"), max_length=6, default="555")
    # Dialled before an outside number (C2), e.g. 0 then 0612345678. Empty: any number longer than
    # an extension goes out.
    outside_prefix = models.CharField(
        _("outside line prefix"),
        max_length=3,
        default="0",
        blank=True,
        validators=[RegexValidator(r"^[0-9]{0,3}$", _("Up to 3 digits."))],
    )
    # The country the company dials from: national numbers (06...) become +33 6...
    country_code = models.CharField(
        _("country code"),
        max_length=3,
        default="33",
        validators=[RegexValidator(r"^[1-9][0-9]{0,2}$", _("1 to 3 digits, e.g. 33."))],
    )
    # Presented on outside calls by users without a public number of their own (A4).
    main_number = models.CharField(
        _("company number"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^\+?[0-9]{4,19}$", _("A public number, e.g. +33140000000."))],
    )
    # Where forwarding rules to "the receptionist" send calls.
    receptionist = models.ForeignKey(
        "User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receptionist"),
    )
    # The company's own dial codes, where they differ from the defaults: {"dnd_on": "*78", ...}.
    dial_codes = models.JSONField(_("dial codes"), default=dict, blank=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person of a company who logs in to the portals and owns an extension and phones."""

    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        verbose_name=_("company"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.USER)
    # Empty means: follow the company's language.
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)

    class Meta:
        ordering = ["username"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_company_admin(self) -> bool:
        return self.company_id is not None and self.role == Role.ADMIN

    @property
    def effective_language(self) -> str:
        if self.language:
            return self.language
        return self.company.language if self.company else "en"
