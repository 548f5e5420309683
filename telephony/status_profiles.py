"""Status profiles (I3, G6): each presence state may carry its own forwarding ("in a meeting: to my
voicemail", "on holiday: to the receptionist"), so switching presence, in one click in MyIstra or by a
dial code, switches where calls go. A profile is an ordinary forwarding rule (always, only when my
presence is that state), so the rule editor lists it and routing needs nothing new."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import User

from .actions import forwarding as forwarding_actions
from .choices import Presence, RuleCondition, RuleOrigin
from .models import ForwardingRule


def _is_profile(rule: ForwardingRule) -> bool:
    return (
        rule.condition == RuleCondition.ALWAYS
        and rule.origin == RuleOrigin.ALL
        and len(rule.presences) == 1
        and not rule.days
        and rule.time_from is None
        and not rule.from_dial_code
    )


def profiles_of(user: User) -> dict[str, ForwardingRule]:
    """The user's profile rule of each presence state that has one (one query)."""
    profiles: dict[str, ForwardingRule] = {}
    for rule in ForwardingRule.objects.filter(user=user, condition=RuleCondition.ALWAYS).order_by(
        "position", "id"
    ):
        if _is_profile(rule):
            profiles.setdefault(rule.presences[0], rule)
    return profiles


@transaction.atomic
def set_status_forwarding(
    *, user: User, presence: str, destination: str, number: str = ""
) -> ForwardingRule | None:
    """Where calls go while the user's presence is `presence`: `destination` (a RuleDestination, with
    `number` for another number), or "" to let them ring the user's phones as usual. ValidationError
    names the field refused (an unknown extension, a barred number); nothing is saved then."""
    Presence(presence)  # ValueError for a state that does not exist
    rule = profiles_of(user).get(presence)
    if not destination:
        if rule is not None:
            forwarding_actions.delete_forwarding_rule(rule=rule)
        return None
    if rule is not None:
        return forwarding_actions.update_forwarding_rule(
            rule=rule, destination=destination, destination_number=number, enabled=True
        )
    return forwarding_actions.create_forwarding_rule(
        user=user,
        label=_("When I am %(presence)s") % {"presence": Presence(presence).label},
        condition=RuleCondition.ALWAYS,
        presences=[presence],
        destination=destination,
        destination_number=number,
        enabled=True,
    )
