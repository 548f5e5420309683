"""Writes that change a company's telephony: users with extensions, and their devices."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.choices import Role
from directory.models import Company, Site, User
from directory.validation import raise_errors

from . import provisioning, routing
from .choices import BarringDirection, CallerIdChoice, DeviceKind, NumberClass
from .models import BarringRule, CallSettings, Device, Extension, PhoneNumber, SpeedDial
from .routing import DEFAULT_DIAL_CODES, FEATURES_WITH_NUMBER, Feature, public_number

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class SipCredentials:
    """Shown once, when a device is created or its password reset; only its digest hash is kept."""

    server: str
    username: str
    password: str


def _server() -> str:
    from django.conf import settings

    return f"{settings.ASTERISK_SIP_HOST}:{settings.ASTERISK_SIP_PORT}"


def _push_now_or_later(device: Device) -> None:
    if not provisioning.push_device(device):
        # Asterisk did not take it (restarting?): a worker retries, and the bridge pushes everything
        # again when it reconnects anyway.
        from .tasks import push_device

        push_device.apply_async(args=[device.pk], countdown=5)


def _push_on_commit(device: Device) -> None:
    transaction.on_commit(lambda: _push_now_or_later(device))


def generate_sip_password() -> str:
    return secrets.token_urlsafe(12)


def _free_sip_username(company: Company, extension: str) -> str:
    base = slugify(f"{company.slug}-{extension}")
    candidate, n = base, 1
    while Device.objects.filter(sip_username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@transaction.atomic
def add_device(
    *, user: User, label: str = "Desk phone", ring_delay: int = 0, sip_username: str = "", password: str = ""
) -> tuple[Device, SipCredentials]:
    """Give a user one more SIP phone; it is registrable on Asterisk as soon as the transaction commits."""
    if user.company is None:
        raise ValidationError(_("Only a user of a company can have phones."))
    extension = Extension.objects.filter(user=user).first()
    username = sip_username or _free_sip_username(
        user.company, extension.number if extension else user.username
    )
    password = password or generate_sip_password()
    device = Device(
        company=user.company,
        user=user,
        label=label,
        sip_username=username,
        sip_ha1=provisioning.sip_ha1(username, password),
        ring_delay=ring_delay,
    )
    device.full_clean()
    device.save()
    _push_on_commit(device)
    return device, SipCredentials(server=_server(), username=username, password=password)


@transaction.atomic
def add_remote_terminal(
    *,
    user: User,
    number: str,
    label: str = "Mobile",
    ring_delay: int = 0,
    avoid_voicemail: bool = False,
    enabled: bool = True,
) -> Device:
    """An outside number (mobile, home) that rings as one of the user's phones, through the carrier
    (A6). The user must be allowed to call it (C4): a remote terminal is a way out of the platform."""
    from . import routing
    from .queries import policy_for

    if user.company is None:
        raise ValidationError(_("Only a user of a company can have phones."))
    policy = policy_for(user.company)
    target = routing.parse_destination(number, policy)
    if not isinstance(target, routing.External):
        raise ValidationError({"number": _("A remote terminal is an outside number, e.g. 0612345678.")})
    if routing.barred(target.number, "out", user.pk, policy):
        raise ValidationError({"number": _("You are not allowed to call %(number)s.") % {"number": number}})
    extension = Extension.objects.filter(user=user).first()
    base = f"{extension.number if extension else user.username}-remote"
    device = Device(
        company=user.company,
        user=user,
        kind=DeviceKind.REMOTE,
        label=label,
        # Never registered on Asterisk; the name only identifies the device.
        sip_username=_free_sip_username(user.company, base),
        sip_ha1="",
        number=number.strip().replace(" ", ""),
        ring_delay=ring_delay,
        avoid_voicemail=avoid_voicemail,
        enabled=enabled,
    )
    device.full_clean(exclude=["sip_ha1"])
    device.save()
    return device


@transaction.atomic
def update_device(
    *,
    device: Device,
    ring_delay: int | None = None,
    enabled: bool | None = None,
    label: str | None = None,
    max_calls: int | None = None,
    avoid_voicemail: bool | None = None,
) -> Device:
    if ring_delay is not None:
        device.ring_delay = ring_delay
    if enabled is not None:
        device.enabled = enabled
    if label is not None:
        device.label = label
    if max_calls is not None:
        device.max_calls = max_calls
    if avoid_voicemail is not None:
        device.avoid_voicemail = avoid_voicemail
    device.full_clean(exclude=["sip_ha1"] if device.is_remote else None)
    device.save()
    if not device.is_remote:
        _push_on_commit(device)
    return device


@transaction.atomic
def reset_sip_password(*, device: Device, password: str = "") -> SipCredentials:
    password = password or generate_sip_password()
    device.sip_ha1 = provisioning.sip_ha1(device.sip_username, password)
    device.save(update_fields=["sip_ha1"])
    _push_on_commit(device)
    return SipCredentials(server=_server(), username=device.sip_username, password=password)


@transaction.atomic
def delete_device(*, device: Device) -> None:
    username, remote = device.sip_username, device.is_remote
    device.delete()
    if not remote:
        transaction.on_commit(lambda: provisioning.remove_endpoint(username))


@transaction.atomic
def create_user(
    *,
    company: Company,
    username: str,
    extension: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    role: str = Role.USER,
    password: str | None = None,
    language: str = "",
    with_device: bool = True,
    sip_username: str = "",
    sip_password: str = "",
) -> tuple[User, SipCredentials | None]:
    """Create a user of `company` with an extension and (by default) one SIP phone.

    Raises ValidationError naming the field when the login or the extension is taken.
    """
    errors: dict[str, str] = {}
    if User.objects.filter(username=username).exists():
        errors["username"] = _("The login %(login)s is already taken.") % {"login": username}
    if Extension.objects.for_company(company).filter(number=extension).exists():
        errors["extension"] = _("Extension %(number)s already exists in %(company)s.") % {
            "number": extension,
            "company": company.name,
        }
    from .routing import EMERGENCY_NUMBERS

    if extension in EMERGENCY_NUMBERS and "extension" not in errors:
        errors["extension"] = _("%(number)s is an emergency number: it cannot be an extension.") % {
            "number": extension
        }
    if extension == company.voicemail_number and "extension" not in errors:
        # Dialling it reaches the voicemail service (routing.interpret): the user would never ring.
        errors["extension"] = _("%(number)s is the voicemail service number: it cannot be an extension.") % {
            "number": extension
        }
    prefix = company.outside_prefix
    if prefix and extension.startswith(prefix) and "extension" not in errors:
        errors["extension"] = _(
            "Extension %(number)s starts with the outside line prefix %(prefix)s: it could never be dialled."
        ) % {"number": extension, "prefix": prefix}
    if errors:
        raise ValidationError(errors)
    user = User(
        company=company,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        language=language,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    ext = Extension(company=company, number=extension, user=user)
    ext.full_clean()
    ext.save()
    from voicemail.actions import ensure_mailbox

    ensure_mailbox(user)
    credentials = None
    if with_device:
        _device, credentials = add_device(user=user, sip_username=sip_username, password=sip_password)
    return user, credentials


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
    from .settings_actions import tidy_number

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
    from .queries import policy_for
    from .settings_actions import tidy_number

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
    from .settings_actions import tidy_number

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
    from .settings_actions import tidy_number

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
