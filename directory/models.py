from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Language, Role
from .validation import validate_printable


class Company(models.Model):
    """A tenant: one business renting the platform, with its own extension plan and users."""

    name = models.CharField(_("name"), max_length=120, validators=[validate_printable])
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
    # Outside calls to high-risk numbers (satellite, international premium rate: where toll fraud
    # sends calls) are barred for everyone unless the administrator lifts it (telephony.routing).
    bar_high_risk = models.BooleanField(_("bar high-risk numbers"), default=True)
    # The company's own dial codes, where they differ from the defaults: {"dnd_on": "*78", ...}.
    dial_codes = models.JSONField(_("dial codes"), default=dict, blank=True)
    # Toll-fraud limits, set by the platform operator (Django admin only; shown read-only to the
    # company's administrators): a call out over either is refused with an announcement and an alert.
    # Empty: no limit.
    max_outside_calls = models.PositiveIntegerField(
        _("simultaneous outside calls at most"),
        null=True,
        blank=True,
        default=10,
        help_text=_("Calls out through the carrier at the same time; empty: no limit."),
    )
    max_international_minutes = models.PositiveIntegerField(
        _("international minutes a day at most"),
        null=True,
        blank=True,
        default=120,
        help_text=_(
            "Answered calls to other countries, per day in the company's time zone; empty: no limit."
        ),
    )

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# A public number as the carrier presents it (E.164 digits, optional leading +).
public_number_validator = RegexValidator(r"^\+?[0-9]{4,19}$", _("A public number, e.g. +33140000000."))


class Site(models.Model):
    """A place where a company works (an office, a shop): its own public number, receptionist and
    time zone; one extension plan spans every site of the company (the voice VPN, C5)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=80, validators=[validate_printable])
    # Empty: the company's time zone. Forwarding rules of the site's users follow it.
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    # Calls from the carrier to it ring the site's receptionist; the site's users present it on
    # outside calls instead of the company number.
    main_number = models.CharField(
        _("site number"), max_length=20, blank=True, validators=[public_number_validator]
    )
    # Where calls to the site's number go; empty: the company's receptionist.
    receptionist = models.ForeignKey(
        "User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receptionist"),
    )

    class Meta:
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="site_name_unique_per_company"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.company.timezone


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
    # As Django's, but printable: names show on phones' displays, pages and call records.
    first_name = models.CharField(
        _("first name"), max_length=150, blank=True, validators=[validate_printable]
    )
    last_name = models.CharField(_("last name"), max_length=150, blank=True, validators=[validate_printable])
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.USER)
    # Empty means: follow the company's language.
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)
    # Where the user works; none: the company's number, receptionist and time zone apply.
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        verbose_name=_("site"),
    )

    class Meta:
        ordering = ["username"]

    def clean(self) -> None:
        super().clean()
        # A user works at a site of their own company only (telephony.actions.sites.set_user_site).
        if self.site_id is not None and self.site is not None and self.site.company_id != self.company_id:
            raise ValidationError({"site": _("This site is not of your company.")})

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


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def valid(self, at: datetime) -> ApiTokenQuerySet:
        return self.filter(expires_at__gt=at, user__is_active=True)


class ApiToken(models.Model):
    """A key a program signs in to the API with (I5): kept only as its SHA-256, so that a copy of the
    database opens nobody's account, and valid until it expires (settings.API_TOKEN_DAYS)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"API token of {self.user} until {self.expires_at:%Y-%m-%d}"
