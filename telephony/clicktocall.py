"""Click-to-call (C1): ring the user's own phone, and once they answer, call the number for them.

Asterisk originates a channel to the phone straight into our Stasis application; when the user
answers, the bridge routes their call as if they had dialled the number on the phone.
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from directory.models import User

from .ari_http import ari_request
from .contract import ClickToCall
from .models import Device
from .routing import VOICEMAIL_DROP_CODE

NUMBER_PATTERN = re.compile(r"^[0-9*#+]{1,32}$")
# How long the user's own phone rings before we give up.
ANSWER_TIMEOUT = 30


class ClickToCallError(Exception):
    pass


def place_call(*, user: User, number: str, message_only: bool = False) -> str:
    """Ring `user`'s first enabled phone; once answered, it calls `number` (or, with `message_only`,
    goes straight to that colleague's voicemail, E10). Returns the channel id."""
    number = number.strip().replace(" ", "")
    if not NUMBER_PATTERN.match(number):
        raise ValidationError({"number": _("Enter a number: digits, and *, # or + only.")})
    device = Device.objects.filter(user=user, enabled=True).order_by("ring_delay", "id").first()
    if device is None:
        raise ClickToCallError(_("You have no phone to ring: add or enable one first."))
    dialled = f"{VOICEMAIL_DROP_CODE}{number}" if message_only else number
    channel_id = f"{settings.ARI_APP}-c2c-{uuid.uuid4()}"
    params = {
        "endpoint": f"PJSIP/{device.sip_username}",
        "app": settings.ARI_APP,
        "appArgs": ClickToCall(dialled).args(),
        "channelId": channel_id,
        "timeout": str(ANSWER_TIMEOUT),
        # The phone shows whom it is about to call.
        "callerId": f'"{number}" <{number}>',
    }
    try:
        status = ari_request("POST", "/channels", params=params)
    except OSError as exc:
        raise ClickToCallError(_("The telephone service is unavailable; please try again.")) from exc
    if status >= 300:
        raise ClickToCallError(_("Your phone could not be rung (is it registered?)."))
    return channel_id
