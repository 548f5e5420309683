"""Background jobs of the telephony core."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import send_mail

from directory.choices import Role
from directory.models import Company, User

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


@shared_task
def send_fraud_alert(company_id: int, limit: str, number: str) -> int:
    """Tell the company's administrators a call out was refused at a toll-fraud limit; returns how
    many were written to."""
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return 0
    recipients = list(
        User.objects.filter(company=company, role=Role.ADMIN, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    what = {
        "simultaneous_calls": f"{company.max_outside_calls} simultaneous outside calls",
        "international_minutes": f"{company.max_international_minutes} international minutes today",
    }.get(limit, limit)
    logger.warning("toll-fraud alert for %s: %s reached (call to %s refused)", company, what, number)
    if not recipients:
        return 0
    send_mail(
        subject=f"[Istra] {company.name}: a call out was refused (limit of {what})",
        message=(
            f"A call from one of {company.name}'s phones to {number} was refused: the company reached "
            f"its limit of {what}.\n\nIf nobody in the company expected that much traffic, a phone "
            "account may be in the wrong hands: check the calls in myTelephony, change the SIP "
            "passwords of the phones involved, and tell your telephony provider.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)


@shared_task
def send_unusual_traffic_alert(company_id: int, minutes_today: int, number: str) -> int:
    """Tell the company's administrators that most of the day's international minutes are gone (the
    calls still go out); returns how many were written to."""
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return 0
    recipients = list(
        User.objects.filter(company=company, role=Role.ADMIN, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    send_mail(
        subject=f"[Istra] {company.name}: unusual international traffic today",
        message=(
            f"{company.name}'s phones have talked {minutes_today} minutes to international numbers "
            f"today (the latest call: {number}), of the {company.max_international_minutes} allowed a day. "
            "Calls will be refused at the limit.\n\nIf nobody in the company expected that much "
            "traffic, a phone account may be in the wrong hands: check the calls in myTelephony, change "
            "the SIP passwords of the phones involved, and tell your telephony provider.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
