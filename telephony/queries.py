"""Reads the ARI bridge needs, shaped as the plain values routing works on."""

from __future__ import annotations

from dataclasses import dataclass

from voicemail.models import Mailbox

from .models import CallLeg, Device, Extension
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
        Device.objects.select_related("user", "user__extension", "company")
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


def callee_by_extension(company_id: int, number: str) -> Callee | None:
    """The user `number` names in this company, with the state of their devices; None if nobody."""
    extension = (
        Extension.objects.select_related("user")
        .filter(company_id=company_id, number=number, user__isnull=False, user__is_active=True)
        .first()
    )
    if extension is None or extension.user is None:
        return None
    user = extension.user
    devices = list(Device.objects.filter(user=user).order_by("ring_delay", "id"))
    mailbox_id = Mailbox.objects.filter(user=user, enabled=True).values_list("id", flat=True).first()
    busy = set(
        CallLeg.objects.filter(device__in=devices, ended_at__isnull=True).values_list("device_id", flat=True)
    )
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
