"""Background jobs of the telephony core."""

from __future__ import annotations

import logging

from celery import shared_task

from . import provisioning
from .models import Device

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=10, default_retry_delay=5)
def push_device(self, device_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Retry pushing a device Asterisk did not take at once (Asterisk restarting, network blip)."""
    device = Device.objects.select_related("user__company", "user__extension").filter(pk=device_id).first()
    if device is None:
        return False  # deleted since: nothing to push
    if provisioning.push_device(device):
        return True
    raise self.retry()
