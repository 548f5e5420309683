"""Writes of the SIP guard: a source blocked, a block lifted by an administrator."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction

from directory.models import User
from telephony.models import Device

from .detector import Offender
from .models import SipBlock

logger = logging.getLogger(__name__)


@transaction.atomic
def record_block(*, offender: Offender, seconds: int, now: datetime) -> SipBlock:
    """The offender is blocked for `seconds` from `now`; the companies whose accounts it tried see it."""
    block = SipBlock.objects.create(
        address=offender.address,
        reason=offender.reason[:200],
        failures=offender.failures,
        accounts=list(offender.accounts),
        blocked_at=now,
        expires_at=now + timedelta(seconds=seconds),
    )
    company_ids = set(
        Device.objects.filter(sip_username__in=offender.accounts).values_list("company_id", flat=True)
    )
    block.companies.set(company_ids)
    logger.warning(
        "SIP source %s blocked for %ss after %s failed requests (%s); accounts tried: %s",
        offender.address,
        seconds,
        offender.failures,
        offender.reason,
        ", ".join(offender.accounts) or "none named",
    )
    return block


def lift_block(*, block: SipBlock, by: User | None, now: datetime) -> SipBlock:
    """End a block before it expires; the guard lets the source in again within a second."""
    if block.lifted_at is None:
        block.lifted_at = now
        block.lifted_by = by
        block.save(update_fields=["lifted_at", "lifted_by"])
        logger.warning("SIP block of %s lifted by %s", block.address, by or "the platform")
    return block
