"""Dial codes (B2, B3, B4): what *8, *2 103, *031... change, and the prompt that confirms it aloud."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from directory.choices import Role
from directory.models import User
from telephony.actions import call_settings as call_settings_actions
from telephony.actions import forwarding as forwarding_actions

from .choices import RuleCondition
from .models import Extension
from .routing import Feature

logger = logging.getLogger(__name__)

FORWARD_ON = {
    Feature.FORWARD_ALWAYS_ON: RuleCondition.ALWAYS,
    Feature.FORWARD_BUSY_ON: RuleCondition.BUSY,
    Feature.FORWARD_NO_ANSWER_ON: RuleCondition.NO_ANSWER,
}
FORWARD_OFF = {
    Feature.FORWARD_ALWAYS_OFF: RuleCondition.ALWAYS,
    Feature.FORWARD_BUSY_OFF: RuleCondition.BUSY,
    Feature.FORWARD_NO_ANSWER_OFF: RuleCondition.NO_ANSWER,
}

# Prompts (templates/asterisk/prompts.tsv) the caller hears afterwards.
PROMPT_FORWARD_ON = "fwd-on"
PROMPT_FORWARD_OFF = "fwd-off"
PROMPT_DND_ON = "dnd-on"
PROMPT_DND_OFF = "dnd-off"
PROMPT_CALL_WAITING_ON = "cw-on"
PROMPT_CALL_WAITING_OFF = "cw-off"
PROMPT_REFUSED = "code-refused"
PROMPT_NOT_ALLOWED = "code-not-allowed"


def apply_dial_code(*, user_id: int, feature: str, argument: str) -> str:
    """Change `user_id`'s settings as the code says; return the prompt to play.

    A destination that cannot be used (unknown extension, the user's own, a number they may not
    call) changes nothing and gets the "refused" prompt; so does another user's setting when the
    caller is neither an administrator nor a receptionist."""
    user = User.objects.select_related("company", "extension").get(pk=user_id)
    assert user.company_id is not None
    code = Feature(feature)
    try:
        if code in FORWARD_ON:
            forwarding_actions.set_dial_code_forward(user=user, condition=FORWARD_ON[code], number=argument)
            return PROMPT_FORWARD_ON
        if code in FORWARD_OFF:
            forwarding_actions.disable_forwarding(user=user, condition=FORWARD_OFF[code])
            return PROMPT_FORWARD_OFF
        if code in (Feature.DND_ON, Feature.DND_OFF):
            call_settings_actions.set_dnd(user=user, on=code == Feature.DND_ON)
            return PROMPT_DND_ON if code == Feature.DND_ON else PROMPT_DND_OFF
        if code in (Feature.CALL_WAITING_ON, Feature.CALL_WAITING_OFF):
            call_settings_actions.set_call_waiting(user=user, on=code == Feature.CALL_WAITING_ON)
            return PROMPT_CALL_WAITING_ON if code == Feature.CALL_WAITING_ON else PROMPT_CALL_WAITING_OFF
        if code in (Feature.CALL_WAITING_ON_FOR, Feature.CALL_WAITING_OFF_FOR):
            # *42 103 / *41 103: call waiting for extension 103: the caller's own, or (for an
            # administrator or receptionist) a colleague's.
            extension = (
                Extension.objects.select_related("user")
                .filter(company_id=user.company_id, number=argument, user__isnull=False)
                .first()
            )
            if extension is None or extension.user is None:
                return PROMPT_REFUSED
            target = extension.user
            if target.pk != user.pk and user.role not in (Role.ADMIN, Role.RECEPTIONIST):
                return PROMPT_NOT_ALLOWED
            on = code == Feature.CALL_WAITING_ON_FOR
            call_settings_actions.set_call_waiting(user=target, on=on)
            return PROMPT_CALL_WAITING_ON if on else PROMPT_CALL_WAITING_OFF
    except ValidationError as exc:
        logger.info("dial code %s %s refused for user %s: %s", feature, argument, user_id, exc.messages)
        return PROMPT_REFUSED
    return PROMPT_REFUSED
