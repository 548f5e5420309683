"""Background jobs of voicemail: notifications, retried until they go through, each sent once."""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from . import notifiers
from .models import Mailbox, Message

logger = logging.getLogger(__name__)

# A worker sends one message's notifications at a time; the lock outlives any honest attempt
# (SMTP timeout, MP3 encoding) and expires if the worker dies holding it.
LOCK_SECONDS = 300
# Which channels already went, kept longer than the whole retry schedule (50 retries, 5 min apart at most).
SENT_SECONDS = 3 * 24 * 3600


def _sent_key(message_id: str, channel: str) -> str:
    return f"voicemail:notified:{message_id}:{channel}"


@contextmanager
def _only_worker(message_id: str) -> Iterator[bool]:
    """True when this worker holds the message's notification lock (acks_late may deliver a task twice)."""
    key = f"voicemail:notifying:{message_id}"
    token = uuid.uuid4().hex
    held = bool(cache.add(key, token, timeout=LOCK_SECONDS))
    try:
        yield held
    finally:
        if held and cache.get(key) == token:
            cache.delete(key)


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=50,
)
def notify_new_message(self, message_id: str) -> bool:  # type: ignore[no-untyped-def]
    """E-mail and/or SMS the mailbox owner about one new message; True when this run sent them.

    A failure that may pass (mail server unreachable, a 4xx answer, the SMS gateway down) raises, and
    Celery retries with backoff; channels already sent are remembered, so a retry sends only what is
    missing. A refusal that will not pass (a 5xx answer) is logged and not retried.
    """
    message = (
        Message.objects.select_related("mailbox__user", "mailbox__company").filter(pk=message_id).first()
    )
    if message is None or message.notified_at is not None:
        return False  # deleted meanwhile, or already sent
    with _only_worker(message_id) as held:
        if not held:
            raise self.retry(countdown=30)  # another worker is on it; look again once it is done
        for channel in notifiers.channels(message.mailbox):
            if cache.get(_sent_key(message_id, channel)):
                continue
            try:
                notifiers.send(message, channel)
            except (smtplib.SMTPException, OSError) as error:
                if not notifiers.is_permanent(error):
                    logger.warning(
                        "voicemail %s: %s notification failed (attempt %s): %s",
                        message_id, channel, self.request.retries + 1, error,
                    )  # fmt: skip
                    raise
                logger.error("voicemail %s: %s notification refused for good: %s", message_id, channel, error)
            # Sent (or refused for good): never again for this message.
            cache.set(_sent_key(message_id, channel), True, timeout=SENT_SECONDS)
        Message.objects.filter(pk=message_id).update(notified_at=timezone.now())
    return True


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=50,
)
def notify_mailbox_locked(mailbox_id: int) -> bool:
    """E-mail the owner that their mailbox's remote access was locked after repeated wrong PINs;
    True when it went. Retried while the mail server cannot be reached."""
    mailbox = Mailbox.objects.select_related("user", "company").filter(pk=mailbox_id).first()
    if mailbox is None or mailbox.remote_locked_at is None:
        return False  # gone, or unlocked meanwhile
    return notifiers.send_locked_email(mailbox)
