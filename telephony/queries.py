"""Reads the ARI bridge needs, shaped as the plain values routing works on."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from voicemail.models import Mailbox

from .models import CallLeg, Device, Extension, PhoneNumber
from .routing import Callee, DeviceState, Party


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
        Device.objects.select_related("user", "user__extension", "user__company", "company")
        .filter(sip_username=endpoint, enabled=True)
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
        ),
        language=user.effective_language,
        voicemail_number=device.company.voicemail_number,
        timezone=device.company.timezone,
    )


def callee_by_extension(company_id: int, number: str, *, live_server: str = "") -> Callee | None:
    """The user `number` names in this company, with the state of their devices; None if nobody.

    `live_server` is the Asterisk server whose calls the asking bridge tracks itself (its records
    may lag behind): only the other servers' open legs are read from the database."""
    extension = (
        Extension.objects.select_related("user", "user__mailbox")
        .filter(company_id=company_id, number=number, user__isnull=False, user__is_active=True)
        .first()
    )
    if extension is None or extension.user is None:
        return None
    user = extension.user
    # One query for the phones and whether each is in a call now (an open leg).
    devices = list(
        Device.objects.filter(user=user)
        .annotate(
            in_call=Exists(
                CallLeg.objects.filter(device=OuterRef("pk"), ended_at__isnull=True).exclude(
                    call__asterisk_server=live_server
                )
            )
        )
        .order_by("ring_delay", "id")
    )
    busy = {d.id for d in devices if d.in_call}
    mailbox: Mailbox | None = getattr(user, "mailbox", None)
    mailbox_id = mailbox.pk if mailbox is not None and mailbox.enabled else None
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
                in_call=d.id in busy,
            )
            for d in devices
        ),
        mailbox_id=mailbox_id,
    )


def routing_inputs(
    endpoint: str, dialled_extension: str, *, live_server: str = ""
) -> tuple[CallerDevice | None, Callee | None]:
    """Both lookups a new call needs, in one trip to the database thread."""
    caller = caller_by_endpoint(endpoint)
    if caller is None:
        return None, None
    return caller, callee_by_extension(caller.party.company_id, dialled_extension, live_server=live_server)


@dataclass(frozen=True)
class DidTarget:
    """Where a call from the carrier to one of the platform's public numbers goes."""

    company_id: int
    timezone: str
    voicemail_number: str
    # What the call is routed to, as if dialled inside the company: an extension or the voicemail service.
    dial: str


def did_target(number: str) -> DidTarget | None:
    phone_number = (
        PhoneNumber.objects.select_related("company", "user__extension").filter(number=number).first()
    )
    if phone_number is None:
        return None
    company = phone_number.company
    if phone_number.destination == PhoneNumber.Destination.VOICEMAIL:
        dial = company.voicemail_number
    else:
        extension = getattr(phone_number.user, "extension", None) if phone_number.user else None
        if extension is None:
            return None
        dial = extension.number
    return DidTarget(
        company_id=company.pk, timezone=company.timezone, voicemail_number=company.voicemail_number, dial=dial
    )
