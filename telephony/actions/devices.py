"""Writes on a company's phones: SIP devices and remote terminals, and their credentials."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from directory.models import Company, User

from .. import provisioning, routing
from ..choices import (
    DeviceKind,
)
from ..models import (
    Device,
    Extension,
)
from ..queries import policy_for
from ..tasks import push_device


@dataclass(frozen=True)
class SipCredentials:
    """Shown once, when a device is created or its password reset; only its digest hash is kept."""

    server: str
    username: str
    password: str


def _server() -> str:
    return f"{settings.ASTERISK_SIP_HOST}:{settings.ASTERISK_SIP_PORT}"


def _push_now_or_later(device: Device) -> None:
    if not provisioning.push_device(device):
        # Asterisk did not take it (restarting?): a worker retries, and the bridge pushes everything
        # again when it reconnects anyway.
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
