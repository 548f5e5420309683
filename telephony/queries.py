"""Reads the ARI bridge needs, shaped as the plain values routing works on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from directory.models import Company, Site, User

from . import numbers, routing
from .choices import DeviceKind, LegRole
from .models import (
    BarringRule,
    Call,
    CallLeg,
    CallSettings,
    Device,
    Extension,
    ForwardingRule,
    PhoneNumber,
    SpeedDial,
)
from .routing import Callee, DeviceState, Party, Policy


@dataclass(frozen=True)
class CallerDevice:
    device_id: int
    party: Party
    language: str
    voicemail_number: str
    timezone: str


def caller_by_endpoint(endpoint: str) -> CallerDevice | None:
    """The device (and so the company and user) an incoming channel comes from, or None if unknown."""
    device = (
        Device.objects.select_related(
            "user", "user__extension", "user__company", "user__call_settings", "user__site", "company"
        )
        .filter(sip_username=endpoint, enabled=True, kind=DeviceKind.SIP)
        .first()
    )
    if device is None:
        return None
    user = device.user
    extension = getattr(user, "extension", None)
    return CallerDevice(
        device_id=device.id,
        party=Party(
            company_id=device.company_id,
            user_id=user.id,
            number=extension.number if extension else device.sip_username,
            name=user.display_name,
            outside_number=outside_number_of(user, device.company),
        ),
        language=user.effective_language,
        voicemail_number=device.company.voicemail_number,
        timezone=user.site.timezone if user.site and user.site.timezone else device.company.timezone,
    )


def site_of(user: User) -> Site | None:
    """The user's site, read with the user when the query asked for it (select_related)."""
    return user.site if user.site_id is not None else None


def outside_number_of(user: User, company: Company) -> str:
    """What an outside callee sees when `user` calls out or forwards a call out (A4); empty: withheld.

    "The company number" of a user of a site with a number of its own is the site's number."""
    settings: CallSettings | None = getattr(user, "call_settings", None)
    own = tuple(PhoneNumber.objects.filter(user=user).order_by("number").values_list("number", flat=True))
    site = site_of(user)
    company_number = site.main_number if site is not None and site.main_number else company.main_number
    if settings is None:
        return routing.outside_caller_id("auto", "", own, company_number)
    chosen = ""
    if settings.caller_id_number_id is not None:
        chosen = (
            PhoneNumber.objects.filter(pk=settings.caller_id_number_id, company=company, user=user)
            .values_list("number", flat=True)
            .first()
            or ""
        )
    return routing.outside_caller_id(settings.caller_id, chosen, own, company_number)


def policy_for(company: Company | int) -> Policy:
    """The company's routing policy: prefix, codes, speed dials, barring, receptionist."""
    if not isinstance(company, Company):
        company = Company.objects.select_related("receptionist__extension").get(pk=company)
    cc = company.country_code
    receptionist = ""
    if company.receptionist is not None:
        extension = getattr(company.receptionist, "extension", None)
        receptionist = extension.number if extension is not None else ""
    speed_dials = {
        short: numbers.canonical(number, cc)
        for short, number in SpeedDial.objects.filter(company=company).values_list("short_number", "number")
    }
    barring = []
    for rule in BarringRule.objects.filter(company=company):
        prefix, number_class = (
            routing.barring_target(rule.prefix, cc) if rule.prefix else ("", rule.number_class)
        )
        barring.append(
            routing.BarringRule(
                direction=rule.direction,
                user_id=rule.user_id,
                number_class=number_class,
                prefix=prefix,
                allow=rule.allow,
            )
        )
    return Policy(
        company_id=company.pk,
        timezone=company.timezone,
        voicemail_number=company.voicemail_number,
        outside_prefix=company.outside_prefix,
        country_code=cc,
        main_number=company.main_number,
        receptionist=receptionist,
        dial_codes=routing.dial_code_table(company.dial_codes),
        speed_dials=speed_dials,
        barring=tuple(barring),
        bar_high_risk=company.bar_high_risk,
        own_numbers=own_numbers_of(company),
    )


def own_numbers_of(company: Company) -> dict[str, str]:
    """The company's own public numbers (E.164) -> what each rings inside, as `did_target` says
    (its DIDs first, then its sites' and its own main numbers): routing reroutes a call to one of
    them on the platform rather than out through the carrier and back."""
    cc = company.country_code
    found: dict[str, str] = {}
    for phone_number in PhoneNumber.objects.select_related("user__extension").filter(company=company):
        if phone_number.destination == PhoneNumber.Destination.VOICEMAIL:
            dial = company.voicemail_number
        else:
            extension = getattr(phone_number.user, "extension", None) if phone_number.user else None
            dial = extension.number if extension is not None else ""
        if dial:
            found[numbers.canonical(phone_number.number, cc)] = dial
    mains = [*Site.objects.filter(company=company).values_list("main_number", flat=True), company.main_number]
    for number in mains:
        key = numbers.canonical(number, cc) if number else ""
        if key and key not in found:
            main = main_number_target(number)
            if main is not None and main[0].pk == company.pk:
                found[key] = main[1]
    return found


def rules_of(user_id: int, country_code: str) -> tuple[routing.Rule, ...]:
    return tuple(
        routing.Rule(
            rule_id=rule.pk,
            condition=rule.condition,
            destination=rule.destination,
            destination_number=numbers.canonical(rule.destination_number, country_code)
            if rule.destination_number
            else "",
            label=rule.label,
            enabled=rule.enabled,
            no_answer_after=rule.no_answer_after,
            origin=rule.origin,
            callers=frozenset(numbers.canonical(n, country_code) for n in rule.callers),
            presences=frozenset(rule.presences),
            days=frozenset(int(d) for d in rule.days),
            time_from=rule.time_from,
            time_to=rule.time_to,
        )
        # A dial code's rule (*2 103) comes first among rules of the same position.
        for rule in ForwardingRule.objects.filter(user_id=user_id, enabled=True).order_by(
            "position", "-from_dial_code", "id"
        )
    )


def callee_by_extension(
    company_id: int, number: str, *, live_server: str = "", policy: Policy | None = None
) -> Callee | None:
    """The user `number` names in this company, with their settings and the state of their devices;
    None if nobody.

    `live_server` is the Asterisk server whose calls the asking bridge tracks itself (its records
    may lag behind): only the other servers' open legs are read from the database."""
    if not number:
        return None
    extension = (
        Extension.objects.select_related(
            "user", "user__call_settings", "user__site__receptionist__extension", "company"
        )
        # The user's voicemail box, read through the relation (voicemail sits above telephony).
        .annotate(mailbox_pk=F("user__mailbox__id"), mailbox_on=F("user__mailbox__enabled"))
        .filter(company_id=company_id, number=number, user__isnull=False, user__is_active=True)
        .first()
    )
    if extension is None or extension.user is None:
        return None
    user = extension.user
    company = extension.company
    cc = policy.country_code if policy is not None else company.country_code
    # One query for the phones and how many calls each is in now (its open legs).
    open_legs = (
        CallLeg.objects.filter(device=OuterRef("pk"), ended_at__isnull=True)
        .exclude(call__asterisk_server=live_server)
        .values("device")
        .annotate(n=Count("id"))
        .values("n")
    )
    devices = list(
        Device.objects.filter(user=user).annotate(active=Subquery(open_legs)).order_by("ring_delay", "id")
    )
    mailbox_id: int | None = (
        getattr(extension, "mailbox_pk", None) if getattr(extension, "mailbox_on", False) else None
    )
    settings: CallSettings | None = getattr(user, "call_settings", None)
    site = site_of(user)
    site_receptionist = getattr(site.receptionist, "extension", None) if site and site.receptionist else None
    return Callee(
        company_id=company_id,
        user_id=user.pk,
        extension=extension.number,
        name=user.display_name,
        ring_timeout=extension.ring_timeout,
        devices=tuple(
            DeviceState(
                device_id=d.id,
                endpoint=d.sip_username,
                ring_delay=d.ring_delay,
                enabled=d.enabled,
                active_calls=getattr(d, "active", None) or 0,  # the Subquery annotation above
                max_calls=d.max_calls,
                kind=routing.DeviceKind(d.kind),
                number=numbers.canonical(d.number, cc) if d.number else "",
                confirm=d.avoid_voicemail,
            )
            for d in devices
        ),
        mailbox_id=mailbox_id,
        dnd=settings.dnd if settings else False,
        presence=settings.presence if settings else "available",
        rules=rules_of(user.pk, cc),
        home_number=numbers.canonical(settings.home_number, cc) if settings and settings.home_number else "",
        mobile_number=numbers.canonical(settings.mobile_number, cc)
        if settings and settings.mobile_number
        else "",
        outside_number=outside_number_of(user, company),
        screening=routing.Screening(settings.screening) if settings else routing.Screening.OFF,
        reject_anonymous=settings.reject_anonymous if settings else False,
        screened_numbers=frozenset(numbers.canonical(n, cc) for n in settings.screened_numbers)
        if settings
        else frozenset(),
        timezone=site.timezone if site is not None else "",
        receptionist=site_receptionist.number if site_receptionist is not None else "",
    )


@dataclass(frozen=True)
class RoutingInputs:
    caller: CallerDevice | None
    policy: Policy | None
    callee: Callee | None


def routing_inputs(endpoint: str, dialled: str, *, live_server: str = "") -> RoutingInputs:
    """Every lookup a new call from a phone needs, in one trip to the database thread."""
    caller = caller_by_endpoint(endpoint)
    if caller is None:
        return RoutingInputs(None, None, None)
    policy = policy_for(caller.party.company_id)
    number = routing.callee_number(dialled, policy)
    callee = callee_by_extension(caller.party.company_id, number, live_server=live_server, policy=policy)
    return RoutingInputs(caller, policy, callee)


@dataclass(frozen=True)
class DidTarget:
    """Where a call from the carrier to one of the platform's public numbers goes."""

    company_id: int
    timezone: str
    voicemail_number: str
    # What the call is routed to, as if dialled inside the company: an extension or the voicemail service.
    dial: str
    policy: Policy


def _receptionist_extension(user: User | None) -> str:
    extension = getattr(user, "extension", None) if user is not None else None
    return extension.number if extension is not None else ""


def main_number_target(number: str) -> tuple[Company, str, str] | None:
    """(company, extension, time zone) a company's or a site's main number rings: the site's
    receptionist, else the company's. None if the number is neither, or nobody receives its calls.

    A site's number wins over the company's: a company whose first site keeps the company number
    sends its calls to that site."""
    site = (
        Site.objects.select_related("company__receptionist__extension", "receptionist__extension")
        .filter(main_number=number)
        .first()
    )
    if site is not None:
        extension = _receptionist_extension(site.receptionist) or _receptionist_extension(
            site.company.receptionist
        )
        return (site.company, extension, site.effective_timezone) if extension else None
    company = Company.objects.select_related("receptionist__extension").filter(main_number=number).first()
    if company is None:
        return None
    extension = _receptionist_extension(company.receptionist)
    return (company, extension, company.timezone) if extension else None


def did_target(number: str) -> DidTarget | None:
    """Where a call to a public number goes: a user's or the voicemail's number (a DID), else a
    company's or site's main number (its receptionist). Used for calls from the carrier and for
    the company's own numbers dialled on the platform (on-net). The number is compared in E.164,
    however the carrier writes it (0150000100, 33150000100, 0033150000100: +33150000100)."""
    number = numbers.public_number(number, django_settings.CARRIER_COUNTRY_CODE)
    phone_number = (
        PhoneNumber.objects.select_related("company", "user__extension").filter(number=number).first()
    )
    if phone_number is None:
        main = main_number_target(number)
        if main is None:
            return None
        company, dial, timezone = main
        return DidTarget(
            company_id=company.pk,
            timezone=timezone,
            voicemail_number=company.voicemail_number,
            dial=dial,
            policy=policy_for(company),
        )
    company = phone_number.company
    if phone_number.destination == PhoneNumber.Destination.VOICEMAIL:
        dial = company.voicemail_number
    else:
        extension = getattr(phone_number.user, "extension", None) if phone_number.user else None
        if extension is None:
            return None
        dial = extension.number
    return DidTarget(
        company_id=company.pk,
        timezone=company.timezone,
        voicemail_number=company.voicemail_number,
        dial=dial,
        policy=policy_for(company),
    )


def outside_usage(company_id: int, trunk: str, *, now: datetime) -> routing.OutsideUsage:
    """The company's open calls through the carrier (its callee legs on the trunk not ended) and its
    answered international talk today, in the company's time zone, with the limits the operator set."""
    company = Company.objects.only(
        "timezone", "country_code", "max_outside_calls", "max_international_minutes"
    ).get(pk=company_id)
    # The bridge records an outside leg's endpoint as "<number>@<trunk>".
    open_calls = (
        CallLeg.objects.filter(call__company_id=company_id, role=LegRole.CALLEE, ended_at__isnull=True)
        .filter(Q(endpoint=trunk) | Q(endpoint__endswith=f"@{trunk}"))
        .count()
    )
    local = now.astimezone(ZoneInfo(company.timezone))
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    talk = (
        Call.objects.filter(
            company_id=company_id,
            answered_at__gte=start_of_day,
            callee_user__isnull=True,
            callee_number__startswith="+",
        )
        .exclude(callee_number__startswith=f"+{company.country_code}")
        .aggregate(
            total=Sum(
                ExpressionWrapper(
                    Coalesce(F("ended_at"), Value(now)) - F("answered_at"), output_field=DurationField()
                )
            )
        )["total"]
    ) or timedelta(0)
    return routing.OutsideUsage(
        open_calls=open_calls,
        international_seconds_today=int(talk.total_seconds()),
        max_calls=company.max_outside_calls,
        max_international_minutes=company.max_international_minutes,
    )
