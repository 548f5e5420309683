"""Background jobs of voicemail: notifications, retried until they go through."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.utils import timezone

from . import notifiers
from .models import Message

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=50,
)
def notify_new_message(self, message_id: str) -> bool:  # type: ignore[no-untyped-def]
    """E-mail and/or SMS the mailbox owner about one new message. Failures raise, so Celery retries."""
    message = Message.objects.select_related("mailbox__user", "mailbox__company").filter(pk=message_id).first()
    if message is None or message.notified_at is not None:
        return False  # deleted meanwhile, or already sent
    try:
        notifiers.notify(message)
    except Exception:
        logger.warning("voicemail notification for %s failed (attempt %s)", message_id, self.request.retries + 1)
        raise
    Message.objects.filter(pk=message_id).update(notified_at=timezone.now())
    return True
