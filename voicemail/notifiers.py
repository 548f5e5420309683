"""Telling a user a new message arrived: by e-mail (optionally with the message as MP3), or by SMS.

Each way is a channel, sent on its own so that retrying one that failed does not repeat the others
(tasks.notify_new_message keeps track). SMS goes through a pluggable backend
(settings.VOICEMAIL_SMS_BACKEND, a dotted path to a callable taking the number and the text); the
default one only logs, since no SMS gateway is reachable here.
"""

from __future__ import annotations

import logging
import smtplib
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import formats, timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .audio import wav_to_mp3
from .choices import Notify
from .models import Mailbox, Message

logger = logging.getLogger(__name__)

EMAIL = "email"
SMS = "sms"


def channels(mailbox: Mailbox) -> list[str]:
    """The ways the mailbox's owner asked to hear of a new message, and can be reached by."""
    wanted = []
    if mailbox.notify in (Notify.EMAIL, Notify.EMAIL_AUDIO):
        if mailbox.user.email:
            wanted.append(EMAIL)
        else:
            logger.info("voicemail e-mail skipped: %s has no e-mail address", mailbox.user)
    if mailbox.sms_number:
        wanted.append(SMS)
    return wanted


def send(message: Message, channel: str) -> None:
    """Send one channel's notification; raises when it did not go (see is_permanent)."""
    if channel == EMAIL:
        send_email(message, with_audio=message.mailbox.notify == Notify.EMAIL_AUDIO)
    elif channel == SMS:
        send_sms(message)
    else:
        raise ValueError(f"unknown notification channel {channel!r}")


def notify(message: Message) -> None:
    """Every notification the mailbox asks for, at once (tasks.py sends them one by one, with retries)."""
    for channel in channels(message.mailbox):
        send(message, channel)


def is_permanent(error: Exception) -> bool:
    """A refusal that retrying will not change: the mail server answered 5xx (unknown address…)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reason in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


# --- What the notification says -------------------------------------------------------------------


def _local(message: Message) -> datetime:
    """When the message was left, on the clocks of the mailbox's company."""
    return timezone.localtime(message.created_at, timezone=ZoneInfo(message.mailbox.company.timezone))


def caller_label(message: Message) -> str:
    if message.caller_name and message.caller_number:
        return f"{message.caller_name} ({message.caller_number})"
    return message.caller_name or message.caller_number or _("an unknown caller")


def describe(message: Message) -> str:
    """One sentence, in the active language: the SMS, and the first line of the e-mail."""
    local = _local(message)
    return _("New voicemail message from %(caller)s, %(seconds)s s, left on %(when)s.") % {
        "caller": caller_label(message),
        "seconds": message.duration_seconds,
        # The date as the language writes it, and a 24-hour time ("10 a.m." would end the sentence twice).
        "when": f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {formats.time_format(local, 'H:i')}",
    }


def _email_body(message: Message, *, attached: bool, attach_failed: bool) -> str:
    lines = [describe(message), ""]
    if attached:
        lines.append(_("The message is attached to this e-mail."))
    elif attach_failed:
        lines.append(_("The message could not be attached to this e-mail."))
    lines.append(
        _("Listen to it in MyIstra, or call %(number)s from your phone.")
        % {"number": message.mailbox.company.voicemail_number}
    )
    return "\n".join(lines) + "\n"


def _mp3(message: Message) -> bytes | None:
    """The message as MP3, or None (logged) when it cannot be made: the e-mail then goes without it."""
    if not message.audio:
        return None
    try:
        with message.audio.open("rb") as handle:
            return wav_to_mp3(handle.read())
    except (OSError, subprocess.SubprocessError):
        logger.exception("voicemail %s: could not make the MP3 to attach", message.pk)
        return None


# --- Sending --------------------------------------------------------------------------------------


def send_email(message: Message, *, with_audio: bool) -> None:
    user = message.mailbox.user
    if not user.email:
        logger.info("voicemail e-mail skipped: %s has no e-mail address", user)
        return
    connection = get_connection(fail_silently=False)
    # Reach the mail server first: while it is down, an attempt fails at once, without transcoding.
    connection.open()
    try:
        with translation.override(user.effective_language):
            mp3 = _mp3(message) if with_audio else None
            email = EmailMessage(
                subject=_("New voicemail message from %(caller)s") % {"caller": caller_label(message)},
                body=_email_body(message, attached=mp3 is not None, attach_failed=with_audio and mp3 is None),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
                connection=connection,
            )
            if mp3 is not None:
                email.attach(f"voicemail-{_local(message):%Y%m%d-%H%M%S}.mp3", mp3, "audio/mpeg")
            email.send(fail_silently=False)
    finally:
        connection.close()


def log_sms(number: str, text: str) -> None:
    logger.info("SMS to %s: %s", number, text)


def send_sms(message: Message) -> None:
    number = message.mailbox.sms_number
    if not number:
        return
    backend = import_string(settings.VOICEMAIL_SMS_BACKEND)
    with translation.override(message.mailbox.user.effective_language):
        backend(number, describe(message))


def send_locked_email(mailbox: Mailbox) -> bool:
    """Tell the owner their mailbox can no longer be opened from other phones; False without an address."""
    user = mailbox.user
    if not user.email:
        logger.warning("voicemail lock e-mail skipped: %s has no e-mail address", user)
        return False
    with translation.override(user.effective_language):
        body = _(
            "Someone typed a wrong voicemail PIN for your mailbox %(count)d times in a row from a phone "
            "other than yours. Your voicemail can no longer be opened from other phones or from outside.\n\n"
            "Your own phone still opens it. Choose a new PIN in MyIstra to open it again from anywhere.\n"
        ) % {"count": mailbox.pin_failures}
        EmailMessage(
            subject=_("Your voicemail is locked after repeated wrong PINs"),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        ).send(fail_silently=False)
    return True
