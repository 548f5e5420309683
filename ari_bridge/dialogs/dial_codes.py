"""A dial code (*8, *2 103, ...): change the caller's setting, say so, hang up."""

from __future__ import annotations

from telephony import features
from telephony.routing import ApplyDialCode

from ..orm import db
from .base import CallerGone, Dialog, DialogChannel, prompt


async def apply_dial_code(channel: DialogChannel, plan: ApplyDialCode) -> None:
    """The caller's channel is answered already; returns once the confirmation is played (or the
    caller left)."""
    said = await db(
        features.apply_dial_code, user_id=plan.user_id, feature=plan.feature, argument=plan.argument
    )
    dialog = Dialog(channel)
    try:
        await dialog.play([prompt(said)], interruptible=False)
        await dialog.hangup()
    except CallerGone:
        pass
