"""Writes on a user's forwarding (B1-B3): the dial codes a phone sends and the rules MyIstra and
the API edit. Each write tells the user's browsers after commit."""

from __future__ import annotations

from datetime import time
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import User
from directory.validation import raise_errors

from .. import numbers, routing
from ..choices import (
    Presence,
    RuleCondition,
    RuleDestination,
    RuleOrigin,
)
from ..models import (
    Extension,
    ForwardingRule,
)
from ..numbers import tidy_number, tidy_numbers
from ..queries import policy_for
from .call_settings import bad_numbers, call_settings_for, settings_changed


def check_forward_destination(*, user: User, number: str) -> str:
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
    own_numbers = {
        numbers.canonical(n, policy.country_code) for n in user.phone_numbers.values_list("number", flat=True)
    }
    if target.number in own_numbers:
        raise ValidationError(
            _("%(number)s is your own public number: calls cannot be forwarded to it.") % {"number": number}
        )
    return target.number


DIAL_CODE_LABELS = {
    RuleCondition.ALWAYS: "*2",
    RuleCondition.BUSY: "*2*",
    RuleCondition.NO_ANSWER: "*2#",
}


@transaction.atomic
def set_dial_code_forward(*, user: User, condition: str, number: str) -> ForwardingRule:
    """*2xxx, *2*xxx, *2#xxx: forward every call (or when busy, or not answering) to `number`.

    Replaces the rule the same code set before; rules made in MyIstra stay as they are. The new rule
    comes first among the user's rules."""
    assert user.company is not None
    destination = check_forward_destination(user=user, number=number)
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
def disable_forwarding(*, user: User, condition: str) -> int:
    """*3, *031, *032: switch off every rule of that condition (they stay listed, to switch on again)."""
    count = ForwardingRule.objects.filter(user=user, condition=condition, enabled=True).update(enabled=False)
    settings_changed(user)
    return count


# --- Forwarding rules (MyIstra, API) --------------------------------------------------------------


class RuleFields(TypedDict, total=False):
    label: str
    enabled: bool
    condition: str
    no_answer_after: int
    origin: str
    callers: list[str]
    presences: list[str]
    days: list[int]
    time_from: time | None
    time_to: time | None
    destination: str
    destination_number: str


def _rule_errors(user: User, rule: ForwardingRule) -> dict[str, list[str]]:
    """What is wrong with `rule` as `user` would save it; tidies what it checks on the way (numbers
    in the form routing compares, lists without repeats)."""
    assert user.company is not None
    errors: dict[str, list[str]] = {}
    rule.label = rule.label.strip()

    if rule.origin == RuleOrigin.LISTED:
        rule.callers = tidy_numbers(rule.callers)
        if not rule.callers:
            errors["callers"] = [_("List the numbers of the callers this rule is for.")]
        elif bad := bad_numbers(rule.callers):
            errors["callers"] = bad
    else:
        rule.callers = []

    unknown = [p for p in rule.presences if p not in Presence.values]
    if unknown:
        errors["presences"] = [_("Unknown presence state: %(value)s.") % {"value": ", ".join(unknown)}]
    else:
        rule.presences = [p for p in Presence.values if p in rule.presences]

    try:
        days = sorted({int(day) for day in rule.days})
    except (TypeError, ValueError):
        days = [-1]
    if any(day not in range(7) for day in days):
        errors["days"] = [_("Days are numbered 0 (Monday) to 6 (Sunday).")]
    else:
        rule.days = days

    if (rule.time_from is None) != (rule.time_to is None):
        errors["time_to" if rule.time_to is None else "time_from"] = [
            _("Give both the start and the end of the time window, or neither.")
        ]
    elif rule.time_from is not None and rule.time_from == rule.time_to:
        errors["time_to"] = [_("The time window ends when it starts: it would never apply.")]

    destination_error = _destination_error(user, rule)
    if destination_error:
        field = "destination_number" if rule.destination == RuleDestination.NUMBER else "destination"
        errors[field] = [destination_error]
    return errors


def _destination_error(user: User, rule: ForwardingRule) -> str:
    """Why calls cannot go where the rule says (empty if they can); the number is made canonical."""
    assert user.company is not None
    if rule.destination != RuleDestination.NUMBER:
        rule.destination_number = ""
    if rule.destination == RuleDestination.NUMBER:
        number = tidy_number(rule.destination_number)
        if not number:
            return _("Enter the number to forward calls to.")
        try:
            rule.destination_number = check_forward_destination(user=user, number=number)
        except ValidationError as error:
            return " ".join(error.messages)
    elif rule.destination in (RuleDestination.HOME, RuleDestination.MOBILE):
        settings = call_settings_for(user)
        if rule.destination == RuleDestination.HOME:
            number = settings.home_number
            missing = _("Your home number is not set: add it in your settings first.")
        else:
            number = settings.mobile_number
            missing = _("Your mobile number is not set: add it in your settings first.")
        if not number:
            return missing
        try:
            check_forward_destination(user=user, number=number)
        except ValidationError as error:
            return " ".join(error.messages)
    elif rule.destination == RuleDestination.RECEPTIONIST:
        # The receptionist of the user's site when it has one, else the company's (as routing does).
        site = user.site
        receptionist = user.company.receptionist
        if site is not None and site.receptionist is not None:
            receptionist = site.receptionist
        if receptionist is None or getattr(receptionist, "extension", None) is None:
            return _("Your company has no receptionist: ask your administrator.")
        if receptionist.pk == user.pk:
            return _("You are the company's receptionist: calls cannot be forwarded to yourself.")
    return ""


def _validate_rule(user: User, rule: ForwardingRule) -> None:
    errors = _rule_errors(user, rule)
    raise_errors(rule, errors, exclude=["company", "user"])


def _renumber(user: User) -> list[ForwardingRule]:
    """The user's rules in order, numbered 1, 2, 3...; position 0 stays free for a dial code's rule,
    which comes first (set_dial_code_forward)."""
    rules = list(ForwardingRule.objects.select_for_update().filter(user=user).order_by("position", "id"))
    for index, rule in enumerate(rules, start=1):
        if rule.position != index:
            rule.position = index
            rule.save(update_fields=["position"])
    return rules


@transaction.atomic
def create_forwarding_rule(*, user: User, **fields: Unpack[RuleFields]) -> ForwardingRule:
    """A new rule of the user's, after their others; ValidationError names each field refused."""
    assert user.company is not None
    rule = ForwardingRule(company=user.company, user=user)
    for name, value in fields.items():
        setattr(rule, name, value)
    _validate_rule(user, rule)
    rules = _renumber(user)
    rule.position = len(rules) + 1
    rule.save()
    settings_changed(user)
    return rule


@transaction.atomic
def update_forwarding_rule(*, rule: ForwardingRule, **changes: Unpack[RuleFields]) -> ForwardingRule:
    """Change a rule; the whole rule is checked again, as if new."""
    user = rule.user
    for name, value in changes.items():
        setattr(rule, name, value)
    _validate_rule(user, rule)
    rule.save()
    settings_changed(user)
    return rule


@transaction.atomic
def set_forwarding_rule_enabled(*, rule: ForwardingRule, on: bool) -> ForwardingRule:
    """Switch a rule on (checked again: its destination may have gone meanwhile) or off (always)."""
    rule.enabled = on
    if on:
        _validate_rule(rule.user, rule)
        rule.save()
    else:
        rule.save(update_fields=["enabled"])
    settings_changed(rule.user)
    return rule


@transaction.atomic
def move_forwarding_rule(*, rule: ForwardingRule, up: bool) -> ForwardingRule:
    """Swap the rule with the one before (up) or after it: among rules of one condition that match a
    call, the first one wins. The first rule does not go further up, nor the last further down."""
    rules = _renumber(rule.user)
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(rules):
        mine, theirs = rules[index], rules[other]
        mine.position, theirs.position = theirs.position, mine.position
        mine.save(update_fields=["position"])
        theirs.save(update_fields=["position"])
        rule.position = mine.position
    settings_changed(rule.user)
    return rule


@transaction.atomic
def delete_forwarding_rule(*, rule: ForwardingRule) -> None:
    user = rule.user
    rule.delete()
    settings_changed(user)
