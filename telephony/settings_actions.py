"""Writes to a user's call settings (DND, presence, forwarding rules, call waiting), shared by the
dial codes a phone sends and by the portals and the API. Each write tells the user's browsers after
commit, so MyIstra shows a change made from a phone at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import User

from . import events, routing
from .choices import RuleCondition, RuleDestination
from .models import CallSettings, Device, Extension, ForwardingRule
from .queries import policy_for


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


@transaction.atomic
def set_dnd(user: User, on: bool) -> CallSettings:
    settings = call_settings_for(user)
    settings.dnd = on
    settings.save(update_fields=["dnd"])
    settings_changed(user)
    return settings


@transaction.atomic
def set_presence(user: User, presence: str) -> CallSettings:
    from .choices import Presence

    if presence not in Presence.values:
        raise ValidationError({"presence": _("Unknown presence state: %(value)s.") % {"value": presence}})
    settings = call_settings_for(user)
    settings.presence = presence
    settings.save(update_fields=["presence"])
    settings_changed(user)
    return settings


def check_forward_destination(user: User, number: str) -> str:
    """The canonical form of a forwarding destination typed by `user` (an extension of the company,
    or an outside number without the outside prefix), or a ValidationError saying what is wrong:
    unknown extension, the user's own, or an outside number the user may not call (toll fraud)."""
    assert user.company is not None
    policy = policy_for(user.company)
    target = routing.parse_destination(number, policy)
    if isinstance(target, routing.Unknown):
        raise ValidationError(_("“%(number)s” is not a phone number.") % {"number": number})
    if isinstance(target, routing.Internal):
        own = getattr(user, "extension", None)
        if own is not None and own.number == target.extension:
            raise ValidationError(_("Calls cannot be forwarded to your own extension."))
        if not Extension.objects.filter(company=user.company, number=target.extension).exists():
            raise ValidationError(
                _("Extension %(number)s does not exist in your company.") % {"number": target.extension}
            )
        return target.extension
    if routing.barred(target.number, "out", user.pk, policy):
        raise ValidationError(
            _("You are not allowed to call %(number)s, so calls cannot be forwarded there.")
            % {"number": number}
        )
    return target.number


DIAL_CODE_LABELS = {
    RuleCondition.ALWAYS: "*2",
    RuleCondition.BUSY: "*2*",
    RuleCondition.NO_ANSWER: "*2#",
}


@transaction.atomic
def set_dial_code_forward(user: User, condition: str, number: str) -> ForwardingRule:
    """*2xxx, *2*xxx, *2#xxx: forward every call (or when busy, or not answering) to `number`.

    Replaces the rule the same code set before; rules made in MyIstra stay as they are. The new rule
    comes first among the user's rules."""
    assert user.company is not None
    destination = check_forward_destination(user, number)
    rule = ForwardingRule.objects.filter(user=user, condition=condition, from_dial_code=True).first()
    if rule is None:
        rule = ForwardingRule(company=user.company, user=user, condition=condition, from_dial_code=True)
    rule.label = DIAL_CODE_LABELS.get(RuleCondition(condition), "")
    rule.destination = RuleDestination.NUMBER
    rule.destination_number = destination
    rule.enabled = True
    rule.origin = "all"
    rule.presences, rule.days, rule.callers = [], [], []
    rule.time_from = rule.time_to = None
    rule.position = 0
    rule.save()
    settings_changed(user)
    return rule


@transaction.atomic
def disable_forwarding(user: User, condition: str) -> int:
    """*3, *031, *032: switch off every rule of that condition (they stay listed, to switch on again)."""
    count = ForwardingRule.objects.filter(user=user, condition=condition, enabled=True).update(enabled=False)
    settings_changed(user)
    return count


@transaction.atomic
def set_call_waiting(user: User, on: bool, *, calls: int = 2) -> int:
    """*44 / *43 (and MyIstra): let every phone of the user take `calls` calls at once, or one only."""
    count = Device.objects.filter(user=user).update(max_calls=calls if on else 1)
    settings_changed(user)
    return count
