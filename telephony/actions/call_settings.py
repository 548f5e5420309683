"""Writes to a user's call settings (DND, presence, forwarding rules, call waiting), shared by the
dial codes a phone sends and by the portals and the API. Each write tells the user's browsers after
commit, so MyIstra shows a change made from a phone at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import User
from directory.validation import raise_errors

from .. import events
from ..choices import (
    CallerIdChoice,
    Presence,
    Screening,
)
from ..models import (
    CallSettings,
    Device,
    Extension,
    PhoneNumber,
    phone_number_validator,
)
from ..numbers import tidy_number, tidy_numbers
from . import devices


@dataclass(frozen=True)
class SettingsEvent:
    """The user's call settings changed (from a phone's dial code, another browser, the API)."""

    dnd: bool
    presence: str
    type: str = "settings.changed"

    def as_message(self) -> dict[str, Any]:
        return {"type": "live.event", "event": asdict(self)}


def call_settings_for(user: User) -> CallSettings:
    settings, _created = CallSettings.objects.get_or_create(user=user)
    return settings


def settings_changed(user: User) -> None:
    """Tell the user's browsers, once the change is committed."""
    settings = call_settings_for(user)
    message = SettingsEvent(dnd=settings.dnd, presence=settings.presence).as_message()
    transaction.on_commit(lambda: events.send_now(user.pk, message))


def directory_status_changed(user: User, settings: CallSettings) -> None:
    """Tell the browsers showing the user's company directory, once the change is committed."""
    extension = Extension.objects.filter(user=user).values_list("number", flat=True).first()
    if user.company_id is None or extension is None:
        return  # no line of the directory shows it
    events.publish_directory_status_on_commit(
        company_id=user.company_id, extension=extension, presence=settings.presence, dnd=settings.dnd
    )


@transaction.atomic
def set_dnd(*, user: User, on: bool) -> CallSettings:
    settings = call_settings_for(user)
    changed = settings.dnd != on
    settings.dnd = on
    settings.save(update_fields=["dnd"])
    settings_changed(user)
    if changed:
        directory_status_changed(user, settings)
    return settings


@transaction.atomic
def set_presence(*, user: User, presence: str) -> CallSettings:
    if presence not in Presence.values:
        raise ValidationError({"presence": _("Unknown presence state: %(value)s.") % {"value": presence}})
    settings = call_settings_for(user)
    changed = settings.presence != presence
    settings.presence = presence
    settings.save(update_fields=["presence"])
    settings_changed(user)
    if changed:
        directory_status_changed(user, settings)
    return settings


@transaction.atomic
def set_call_waiting(*, user: User, on: bool, calls: int = 2) -> int:
    """*44 / *43 (and MyIstra): let every phone of the user take `calls` calls at once, or one only."""
    count = Device.objects.filter(user=user).update(max_calls=calls if on else 1)
    settings_changed(user)
    return count


def bad_numbers(numbers: Iterable[str]) -> list[str]:
    messages = []
    for number in numbers:
        try:
            phone_number_validator(number)
        except ValidationError:
            messages.append(_("“%(number)s” is not a phone number.") % {"number": number})
    return messages


# --- The user's own settings (MyIstra, API) -----------------------------------------------------


class CallSettingsFields(TypedDict, total=False):
    dnd: bool
    presence: str
    home_number: str
    mobile_number: str
    caller_id: str
    caller_id_number: PhoneNumber | None
    screening: str
    reject_anonymous: bool
    screened_numbers: list[str]


@transaction.atomic
def update_call_settings(*, user: User, **changes: Unpack[CallSettingsFields]) -> CallSettings:
    """Change any of the user's own call settings at once (one live event for all of them).

    Refused, naming the field: a malformed number, a public number that is not the user's own shown
    as caller id, or a white list with nobody on it (it would refuse every caller)."""
    settings = CallSettings.objects.select_for_update().filter(user=user).first() or call_settings_for(user)
    shown_in_directory = (settings.dnd, settings.presence)
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.home_number = tidy_number(settings.home_number)
    settings.mobile_number = tidy_number(settings.mobile_number)
    settings.screened_numbers = tidy_numbers(settings.screened_numbers)

    errors: dict[str, list[str]] = {}
    if settings.caller_id == CallerIdChoice.NUMBER:
        chosen = settings.caller_id_number
        if chosen is None:
            errors["caller_id_number"] = [_("Choose which of your public numbers to show.")]
        elif chosen.user_id != user.pk:
            errors["caller_id_number"] = [_("%(number)s is not one of your numbers.") % {"number": chosen}]
    else:
        settings.caller_id_number = None
    if bad := bad_numbers(settings.screened_numbers):
        errors["screened_numbers"] = bad
    elif settings.screening == Screening.WHITELIST and not settings.screened_numbers:
        errors["screened_numbers"] = [
            _("A white list with nobody on it would refuse every caller: list the callers to accept.")
        ]
    raise_errors(settings, errors, exclude=["user"])
    settings.save()
    settings_changed(user)
    if (settings.dnd, settings.presence) != shown_in_directory:
        directory_status_changed(user, settings)
    return settings


# --- The user's phones: call waiting, remote terminals (MyIstra) -------------------------------------


def _own(user: User, device: Device) -> None:
    if device.user_id != user.pk:
        raise ValidationError(_("This phone is not yours."))


@transaction.atomic
def set_phone_call_waiting(*, user: User, device: Device, max_calls: int) -> Device:
    """How many calls one of the user's phones takes at once (B4); 1 is "one call only"."""
    _own(user, device)
    device = devices.update_device(device=device, max_calls=max_calls)
    settings_changed(user)
    return device


@transaction.atomic
def add_remote_terminal(
    *,
    user: User,
    number: str,
    label: str,
    ring_delay: int = 0,
    avoid_voicemail: bool = False,
    enabled: bool = True,
) -> Device:
    """An outside number that rings as one of the user's phones (A6), optionally asked to press a key
    before the call is put through, so its own voicemail never takes the call (A7)."""
    device = devices.add_remote_terminal(
        user=user,
        number=tidy_number(number),
        label=label,
        ring_delay=ring_delay,
        avoid_voicemail=avoid_voicemail,
        enabled=enabled,
    )
    settings_changed(user)
    return device


@transaction.atomic
def update_remote_terminal(
    *,
    user: User,
    device: Device,
    label: str | None = None,
    ring_delay: int | None = None,
    enabled: bool | None = None,
    avoid_voicemail: bool | None = None,
) -> Device:
    _own(user, device)
    if not device.is_remote:
        raise ValidationError(_("This phone is not a remote terminal."))
    device = devices.update_device(
        device=device, label=label, ring_delay=ring_delay, enabled=enabled, avoid_voicemail=avoid_voicemail
    )
    settings_changed(user)
    return device


@transaction.atomic
def delete_remote_terminal(*, user: User, device: Device) -> None:
    """A user removes their own remote terminals; SIP phones are their administrator's to remove."""
    _own(user, device)
    if not device.is_remote:
        raise ValidationError(_("Only your administrator can remove this phone."))
    devices.delete_device(device=device)
    settings_changed(user)
