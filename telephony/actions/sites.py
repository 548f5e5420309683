"""Writes on a company's sites (A1, C5): where its users work, each with its own public number,
receptionist and time zone, all sharing the company's one extension plan."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import Company, Site, User
from directory.validation import raise_errors

from ..models import (
    Extension,
    PhoneNumber,
)
from ..numbers import public_number, tidy_number


@cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_site(site: Site) -> None:
    """Refuse what would make the site's number or receptionist unusable; tidies on the way."""
    company = site.company
    errors: dict[str, list[str]] = {}
    site.name = site.name.strip()
    site.timezone = site.timezone.strip()
    # In E.164, as the carrier presents numbers and as dialled numbers are compared: 04 72 00 00 00
    # and +33472000000 are the same site number.
    number = tidy_number(site.main_number)
    site.main_number = public_number(number, company.country_code) if number else ""
    if not site.name:
        errors["name"] = [_("Give the site a name.")]
    elif Site.objects.filter(company=company, name__iexact=site.name).exclude(pk=site.pk).exists():
        errors["name"] = [_("Your company already has a site named %(name)s.") % {"name": site.name}]
    if site.timezone and site.timezone not in time_zones():
        errors["timezone"] = [_("Unknown time zone %(zone)s, e.g. Europe/Paris.") % {"zone": site.timezone}]
    number = site.main_number
    if number:
        # A public number rings one place: a user's number, another site or another company
        # cannot share it. The company's own number may become a site's (its first office).
        taken = (
            PhoneNumber.objects.filter(number=number).exists()
            or Site.objects.filter(main_number=number).exclude(pk=site.pk).exists()
            or Company.objects.filter(main_number=number).exclude(pk=company.pk).exists()
        )
        if taken:
            errors["main_number"] = [_("%(number)s is already in use.") % {"number": number}]
    receptionist = site.receptionist
    if receptionist is not None:
        if receptionist.company_id != company.pk:
            errors["receptionist"] = [_("This user is not of your company.")]
        elif not Extension.objects.filter(user=receptionist).exists():
            errors["receptionist"] = [_("The receptionist needs an extension, where calls are forwarded.")]
    raise_errors(site, errors, exclude=["company"], validate_constraints=False)


@transaction.atomic
def create_site(
    *,
    company: Company,
    name: str,
    timezone: str = "",
    main_number: str = "",
    receptionist: User | None = None,
) -> Site:
    """A site of the company; nobody works there until the admin assigns users to it."""
    site = Site(
        company=company, name=name, timezone=timezone, main_number=main_number, receptionist=receptionist
    )
    _check_site(site)
    site.save()
    return site


@transaction.atomic
def update_site(
    *,
    site: Site,
    name: str,
    timezone: str = "",
    main_number: str = "",
    receptionist: User | None = None,
) -> Site:
    site.name, site.timezone, site.main_number, site.receptionist = name, timezone, main_number, receptionist
    _check_site(site)
    site.save()
    return site


@transaction.atomic
def delete_site(*, site: Site) -> None:
    """Refused while users work there: moving them silently would change the number they show
    and the hours of their rules; the admin moves them first."""
    count = User.objects.filter(site=site).count()
    if count:
        raise ValidationError(
            _(
                "Users still work at %(name)s (%(count)d): assign them to another site, or to none, "
                "before deleting it."
            )
            % {"name": site.name, "count": count}
        )
    site.delete()


@transaction.atomic
def set_user_site(*, user: User, site: Site | None) -> User:
    """Where the user works; None: no site (the company's number, receptionist and time zone)."""
    if site is not None and site.company_id != user.company_id:
        raise ValidationError({"site": _("This site is not of your company.")})
    user.site = site
    user.save(update_fields=["site"])
    return user
