"""Writes on a company's numbering plan (C2): how users dial out, dial codes, speed dials,
barring rules and public numbers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import Company, Site, User
from directory.validation import raise_errors

from .. import routing
from ..choices import (
    BarringDirection,
    CallerIdChoice,
    NumberClass,
)
from ..models import (
    BarringRule,
    CallSettings,
    Extension,
    PhoneNumber,
    SpeedDial,
)
from ..numbers import public_number, tidy_number
from ..queries import policy_for
from ..routing import DEFAULT_DIAL_CODES, FEATURES_WITH_NUMBER, Feature

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# --- A company's call routing (myTelephony, API) ----------------------------------------------------

# What each dial code does, in the order myTelephony lists them.
DIAL_CODE_FEATURES: tuple[tuple[Feature, StrOrPromise], ...] = (
    (Feature.FORWARD_ALWAYS_ON, gettext_lazy("Forward every call to a number")),
    (Feature.FORWARD_ALWAYS_OFF, gettext_lazy("Stop forwarding every call")),
    (Feature.FORWARD_BUSY_ON, gettext_lazy("Forward calls when busy to a number")),
    (Feature.FORWARD_BUSY_OFF, gettext_lazy("Stop forwarding calls when busy")),
    (Feature.FORWARD_NO_ANSWER_ON, gettext_lazy("Forward unanswered calls to a number")),
    (Feature.FORWARD_NO_ANSWER_OFF, gettext_lazy("Stop forwarding unanswered calls")),
    (Feature.DND_ON, gettext_lazy("Do not disturb on")),
    (Feature.DND_OFF, gettext_lazy("Do not disturb off")),
    (Feature.CALL_WAITING_ON_FOR, gettext_lazy("Call waiting on for an extension")),
    (Feature.CALL_WAITING_OFF_FOR, gettext_lazy("Call waiting off for an extension")),
    (Feature.CALL_WAITING_ON, gettext_lazy("Call waiting on")),
    (Feature.CALL_WAITING_OFF, gettext_lazy("Call waiting off")),
    (Feature.VOICEMAIL_DROP, gettext_lazy("Leave a message without ringing")),
)
DIAL_CODE_PATTERN = re.compile(r"^[*#][0-9*#]{1,4}$")


def _company_user(company: Company, user: User | None, *, field: str) -> None:
    if user is not None and user.company_id != company.pk:
        raise ValidationError({field: _("This user is not of your company.")})


@transaction.atomic
def update_routing_policy(
    *,
    company: Company,
    outside_prefix: str,
    country_code: str,
    main_number: str,
    receptionist: User | None,
    bar_high_risk: bool | None = None,
) -> Company:
    """How the company's users dial out (C2) and where "receptionist" forwarding rules go; whether
    high-risk numbers are barred (None: as they are).

    An outside prefix that begins some extension of the company is refused: that extension could not
    be dialled any more."""
    _company_user(company, receptionist, field="receptionist")
    errors: dict[str, list[str]] = {}
    if receptionist is not None and not Extension.objects.filter(user=receptionist).exists():
        errors["receptionist"] = [_("The receptionist needs an extension, where calls are forwarded.")]
    if outside_prefix:
        clashing = list(
            Extension.objects.for_company(company)
            .filter(number__startswith=outside_prefix)
            .values_list("number", flat=True)[:3]
        )
        if clashing:
            errors["outside_prefix"] = [
                _("Extensions %(numbers)s begin with %(prefix)s: choose another prefix.")
                % {"numbers": ", ".join(clashing), "prefix": outside_prefix}
            ]
    company.outside_prefix = outside_prefix
    company.country_code = country_code
    main_number = tidy_number(main_number)
    company.main_number = public_number(main_number, country_code) if main_number else ""
    if company.main_number and (
        Site.objects.filter(main_number=company.main_number).exclude(company=company).exists()
        or PhoneNumber.objects.filter(number=company.main_number).exclude(company=company).exists()
        or Company.objects.filter(main_number=company.main_number).exclude(pk=company.pk).exists()
    ):
        errors["main_number"] = [_("%(number)s is already in use.") % {"number": company.main_number}]
    company.receptionist = receptionist
    if bar_high_risk is not None:
        company.bar_high_risk = bar_high_risk
    raise_errors(company, errors, exclude=["slug"])
    company.save(
        update_fields=["outside_prefix", "country_code", "main_number", "receptionist", "bar_high_risk"]
    )
    return company


def dial_code_errors(codes: Mapping[Feature, str]) -> dict[Feature, str]:
    """What is wrong with a company's dial codes (feature -> code, the defaults where absent), by
    feature; only the features given are blamed, since the defaults agree with each other.

    A code is * or # then 1 to 4 of 0-9 * #. Two features may not share a code; nor may a longer
    code begin with a code that takes a number, followed by a digit: *21 would steal every number
    dialled after *2 that starts with 1. (*8 and *86 may coexist: *8 is matched only on its own.)"""
    errors: dict[Feature, str] = {}
    table = {feature: codes.get(feature) or default for feature, default in DEFAULT_DIAL_CODES.items()}
    for feature, code in table.items():
        if feature in codes and not DIAL_CODE_PATTERN.match(code):
            errors[feature] = _("A code is * or # followed by 1 to 4 digits, * or #, e.g. *78.")
    labels = dict(DIAL_CODE_FEATURES)
    for feature, code in table.items():
        if feature not in codes or feature in errors:
            continue
        for other, other_code in table.items():
            if other == feature or other in errors:
                continue
            if code == other_code:
                errors[feature] = _("%(code)s is already the code of “%(feature)s”.") % {
                    "code": code,
                    "feature": labels[other],
                }
                break
            shorter, longer, takes_number = (
                (other_code, code, other in FEATURES_WITH_NUMBER)
                if len(other_code) < len(code)
                else (code, other_code, feature in FEATURES_WITH_NUMBER)
            )
            if takes_number and longer.startswith(shorter) and longer[len(shorter)].isdigit():
                errors[feature] = _(
                    "%(code)s conflicts with %(other)s (“%(feature)s”): a number dialled after "
                    "%(shorter)s could begin with the digits of %(longer)s."
                ) % {
                    "code": code,
                    "other": other_code,
                    "feature": labels[other],
                    "shorter": shorter,
                    "longer": longer,
                }
                break
    return errors


@transaction.atomic
def set_dial_codes(*, company: Company, codes: Mapping[str, str]) -> Company:
    """The company's own dial codes: feature -> code; an empty code (or the default) means the default.
    Only codes that differ from the defaults are kept."""
    unknown = [name for name in codes if name not in DEFAULT_DIAL_CODES]
    if unknown:
        raise ValidationError({name: _("Unknown dial code feature.") for name in unknown})
    given = {Feature(name): code.strip() for name, code in codes.items() if code and code.strip()}
    errors = dial_code_errors(given)
    if errors:
        raise ValidationError({str(feature): message for feature, message in errors.items()})
    company.dial_codes = {
        str(feature): code for feature, code in given.items() if code != DEFAULT_DIAL_CODES[feature]
    }
    company.save(update_fields=["dial_codes"])
    return company


def effective_dial_codes(company: Company) -> dict[Feature, str]:
    """Every feature's code for this company: its own where it set one, else the default."""
    own = company.dial_codes or {}
    return {feature: own.get(feature) or default for feature, default in DEFAULT_DIAL_CODES.items()}


def _check_speed_dial(speed_dial: SpeedDial) -> None:

    company = speed_dial.company
    errors: dict[str, list[str]] = {}
    speed_dial.label = speed_dial.label.strip()
    speed_dial.number = tidy_number(speed_dial.number)
    short = speed_dial.short_number.strip()
    speed_dial.short_number = short
    taken = SpeedDial.objects.for_company(company).filter(short_number=short).exclude(pk=speed_dial.pk)
    if taken.exists():
        errors["short_number"] = [_("%(number)s is already a speed dial.") % {"number": short}]
    elif Extension.objects.for_company(company).filter(number=short).exists():
        # Speed dials are looked up before extensions: the extension could not be called any more.
        errors["short_number"] = [_("%(number)s is an extension of the company.") % {"number": short}]
    elif short == company.voicemail_number:
        errors["short_number"] = [_("%(number)s is the voicemail service number.") % {"number": short}]
    # What the number dials, read with the other speed dials left out (a speed dial never dials another).
    policy = dataclasses.replace(policy_for(company), speed_dials={})
    target = routing.parse_destination(speed_dial.number, policy)
    if isinstance(target, routing.Unknown):
        errors["number"] = [_("“%(number)s” is not a phone number.") % {"number": speed_dial.number}]
    elif (
        isinstance(target, routing.Internal)
        and not Extension.objects.for_company(company).filter(number=target.extension).exists()
    ):
        errors["number"] = [
            _("Extension %(number)s does not exist in your company.") % {"number": target.extension}
        ]
    raise_errors(speed_dial, errors, exclude=["company"], validate_constraints=False)


@transaction.atomic
def create_speed_dial(*, company: Company, short_number: str, number: str, label: str = "") -> SpeedDial:
    """A short number every phone of the company may dial instead of a full one (C3)."""
    speed_dial = SpeedDial(company=company, short_number=short_number, number=number, label=label)
    _check_speed_dial(speed_dial)
    speed_dial.save()
    return speed_dial


@transaction.atomic
def update_speed_dial(*, speed_dial: SpeedDial, short_number: str, number: str, label: str = "") -> SpeedDial:
    speed_dial.short_number, speed_dial.number, speed_dial.label = short_number, number, label
    _check_speed_dial(speed_dial)
    speed_dial.save()
    return speed_dial


@transaction.atomic
def delete_speed_dial(*, speed_dial: SpeedDial) -> None:
    speed_dial.delete()


def _check_barring_rule(rule: BarringRule) -> None:
    _company_user(rule.company, rule.user, field="user")
    rule.prefix = tidy_number(rule.prefix)
    errors: dict[str, list[str]] = {}
    if bool(rule.number_class) == bool(rule.prefix):
        errors["prefix"] = [_("Choose a class of numbers or type a number (or its beginning), not both.")]
    elif rule.number_class == NumberClass.ANONYMOUS and rule.direction != BarringDirection.INCOMING:
        errors["number_class"] = [_("Only incoming calls can be anonymous.")]
    raise_errors(rule, errors, exclude=["company"], validate_constraints=False)


@transaction.atomic
def create_barring_rule(
    *,
    company: Company,
    direction: str,
    number_class: str = "",
    prefix: str = "",
    allow: bool = False,
    user: User | None = None,
) -> BarringRule:
    """Forbid (or allow, as an exception) a class of numbers or the numbers that begin with a prefix,
    for incoming (B5) or outgoing (C4) calls, for one user or the whole company."""
    rule = BarringRule(
        company=company, direction=direction, number_class=number_class, prefix=prefix, allow=allow, user=user
    )
    _check_barring_rule(rule)
    rule.save()
    return rule


@transaction.atomic
def update_barring_rule(
    *,
    rule: BarringRule,
    direction: str,
    number_class: str = "",
    prefix: str = "",
    allow: bool = False,
    user: User | None = None,
) -> BarringRule:
    rule.direction, rule.number_class, rule.prefix = direction, number_class, prefix
    rule.allow, rule.user = allow, user
    _check_barring_rule(rule)
    rule.save()
    return rule


@transaction.atomic
def delete_barring_rule(*, rule: BarringRule) -> None:
    rule.delete()


def _check_phone_number(phone_number: PhoneNumber) -> None:
    _company_user(phone_number.company, phone_number.user, field="user")
    company = phone_number.company
    # In E.164, as carriers' numbers are compared: 0150000100 and 0033150000100 are +33150000100.
    phone_number.number = public_number(tidy_number(phone_number.number), company.country_code)
    errors: dict[str, list[str]] = {}
    number = phone_number.number
    if (
        PhoneNumber.objects.filter(number=number).exclude(pk=phone_number.pk).exists()
        or Site.objects.filter(main_number=number).exists()
        or Company.objects.filter(main_number=number).exclude(pk=company.pk).exists()
    ):
        # Numbers are unique across the platform (a site's number included); whose it is stays private.
        errors["number"] = [_("%(number)s is already in use.") % {"number": phone_number.number}]
    if phone_number.destination == PhoneNumber.Destination.USER:
        if phone_number.user is None:
            errors["user"] = [_("Choose the user this number rings.")]
        elif not Extension.objects.filter(user=phone_number.user).exists():
            errors["user"] = [_("This user has no extension to ring.")]
    else:
        phone_number.user = None
    raise_errors(phone_number, errors, exclude=["company"], validate_unique=False)


def _forget_caller_id(phone_number: PhoneNumber) -> None:
    """Users who showed this number but no longer own it show their default again (A4)."""
    CallSettings.objects.filter(caller_id_number=phone_number).exclude(user=phone_number.user).update(
        caller_id_number=None, caller_id=CallerIdChoice.AUTO
    )


@transaction.atomic
def create_phone_number(
    *, company: Company, number: str, destination: str, user: User | None = None
) -> PhoneNumber:
    """A public number (DID) of the company: calls to it ring `user`, or reach the voicemail service."""
    phone_number = PhoneNumber(company=company, number=number, destination=destination, user=user)
    _check_phone_number(phone_number)
    phone_number.save()
    return phone_number


@transaction.atomic
def update_phone_number(
    *, phone_number: PhoneNumber, number: str, destination: str, user: User | None = None
) -> PhoneNumber:
    phone_number.number, phone_number.destination, phone_number.user = number, destination, user
    _check_phone_number(phone_number)
    phone_number.save()
    _forget_caller_id(phone_number)
    return phone_number


@transaction.atomic
def delete_phone_number(*, phone_number: PhoneNumber) -> None:
    CallSettings.objects.filter(caller_id_number=phone_number).update(caller_id=CallerIdChoice.AUTO)
    phone_number.delete()
