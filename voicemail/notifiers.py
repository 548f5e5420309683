"""Telling a user a new message arrived: by e-mail (optionally with the message as MP3), or by SMS.

SMS goes through a pluggable backend (settings.VOICEMAIL_SMS_BACKEND, a dotted path to a callable
taking the number and the text); the default one only logs, since no SMS gateway is reachable here.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .audio import wav_to_mp3
from .choices import Notify
from .models import Message

logger = logging.getLogger(__name__)


def describe(message: Message) -> str:
    caller = message.caller_name or message.caller_number or _("an unknown caller")
    if message.caller_name and message.caller_number:
        caller = f"{message.caller_name} ({message.caller_number})"
    when = timezone.localtime(message.created_at, timezone=_zone(message)).strftime("%Y-%m-%d %H:%M")
    return _("New voicemail message from %(caller)s, %(seconds)s s, left on %(when)s.") % {
        "caller": caller,
        "seconds": message.duration_seconds,
        "when": when,
    }


def _zone(message: Message):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(message.mailbox.company.timezone)


def send_email(message: Message, *, with_audio: bool) -> None:
    user = message.mailbox.user
    if not user.email:
        logger.info("voicemail e-mail skipped: %s has no e-mail address", user)
        return
    with translation.override(user.effective_language):
        email = EmailMessage(
            subject=_("New voicemail message from %(caller)s")
            % {"caller": message.caller_name or message.caller_number or _("an unknown caller")},
            body=describe(message),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        if with_audio and message.audio:
            with message.audio.open("rb") as handle:
                email.attach(f"voicemail-{message.created_at:%Y%m%d-%H%M%S}.mp3", wav_to_mp3(handle.read()),
                             "audio/mpeg")
        email.send(fail_silently=False)


def log_sms(number: str, text: str) -> None:
    logger.info("SMS to %s: %s", number, text)


def send_sms(message: Message) -> None:
    number = message.mailbox.sms_number
    if not number:
        return
    backend = import_string(settings.VOICEMAIL_SMS_BACKEND)
    with translation.override(message.mailbox.user.effective_language):
        backend(number, describe(message))


def notify(message: Message) -> None:
    choice = message.mailbox.notify
    if choice in (Notify.EMAIL, Notify.EMAIL_AUDIO):
        send_email(message, with_audio=choice == Notify.EMAIL_AUDIO)
    send_sms(message)
