"""MyIstra's one-click switch: forward all my calls to my mobile (I3). It is an ordinary forwarding
rule (always, to my mobile number, for every call at any time), first in the list, so the rule editor
shows it and routing needs nothing new; switching off keeps it, switched off, for next time."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import User

from .actions import forwarding as forwarding_actions
from .choices import RuleCondition, RuleDestination, RuleOrigin
from .models import CallSettings, ForwardingRule


def quick_forward_rule(user: User) -> ForwardingRule | None:
    """The user's rule that forwards every call, always, to their mobile, if they have one."""
    return (
        ForwardingRule.objects.filter(
            user=user,
            condition=RuleCondition.ALWAYS,
            destination=RuleDestination.MOBILE,
            origin=RuleOrigin.ALL,
            presences=[],
            days=[],
            time_from__isnull=True,
        )
        .order_by("position", "id")
        .first()
    )


@transaction.atomic
def set_forward_all_to_mobile(*, user: User, on: bool) -> ForwardingRule | None:
    """Switch forwarding of every call to the user's mobile on or off. On needs a mobile number
    (ValidationError otherwise); the rule comes first, so it wins over the user's other rules."""
    rule = quick_forward_rule(user)
    if not on:
        if rule is not None and rule.enabled:
            forwarding_actions.set_forwarding_rule_enabled(rule=rule, on=False)
        return rule
    mobile = CallSettings.objects.filter(user=user).values_list("mobile_number", flat=True).first()
    if not mobile:
        raise ValidationError(_("Set your mobile number in your settings first."))
    if rule is None:
        rule = forwarding_actions.create_forwarding_rule(
            user=user,
            label=_("All my calls to my mobile"),
            condition=RuleCondition.ALWAYS,
            destination=RuleDestination.MOBILE,
            enabled=True,
        )
    elif not rule.enabled:
        forwarding_actions.set_forwarding_rule_enabled(rule=rule, on=True)
    # First among the rules, where an "always" rule wins at once.
    while ForwardingRule.objects.filter(user=user, position__lt=rule.position).exists():
        rule = forwarding_actions.move_forwarding_rule(rule=rule, up=True)
    return rule
