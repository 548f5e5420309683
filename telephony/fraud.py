"""Toll-fraud limits on calls out (J2): what the bridge asks before ringing an outside number.

The decision is routing's (`within_fraud_limits`, pure); this module feeds it the company's usage
(telephony.queries.outside_usage) and raises the alert when a call is refused: a log line, and an
e-mail to the company's administrators (at most one an hour per company and limit, so an attack
placing a call a second does not flood their inboxes).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from directory.models import Company

from . import queries, routing, tasks
from .provisioning import CARRIER_ENDPOINT
from .routing import Plan, RingDevices

logger = logging.getLogger(__name__)

ALERT_EVERY = 3600  # seconds between two e-mails about the same company and limit


def alert_key(company_id: int, limit: str) -> str:
    return f"istra:fraud-alert:{company_id}:{limit}"


def rings_outside(plan: Plan) -> bool:
    """Whether the plan rings an outside number: a call out, or a user's remote terminal."""
    return isinstance(plan, RingDevices) and any(target.number for target in plan.targets)


def admit_outside_call(plan: Plan, *, company_id: int, country_code: str, now: datetime) -> Plan:
    """`plan` within the toll-fraud limits (routing.within_limits): a call out over a limit is
    refused (FRAUD_LIMIT), remote terminals over one are left out of the ringing; either is alerted."""
    if not isinstance(plan, RingDevices) or not rings_outside(plan):
        return plan
    outside = [target for target in plan.targets if target.number]
    usage = queries.outside_usage(company_id, outside[0].endpoint, now=now)
    passed = routing.fraud_limits_passed(plan, country_code, usage)
    if not passed:
        _tell_of_unusual_traffic(company_id, outside, country_code, usage)
        return plan
    index, limit = next(iter(passed.items()))
    over = plan.targets[index].number
    logger.warning(
        "company %s: %s %s, %s limit reached (%s open calls of %s, %s s international today of %s min)",
        company_id,
        "call out to" if plan.external else "remote terminal left out of the ringing:",
        over,
        limit,
        usage.open_calls,
        usage.max_calls,
        usage.international_seconds_today,
        usage.max_international_minutes,
    )
    if cache.add(alert_key(company_id, limit), 1, timeout=ALERT_EVERY):
        transaction.on_commit(lambda: tasks.send_fraud_alert.delay(company_id, str(limit), over))
    return routing.within_limits(plan, passed)


def _tell_of_unusual_traffic(
    company_id: int, outside: list[routing.RingTarget], country_code: str, usage: routing.OutsideUsage
) -> None:
    """An international call going out with most of the day's allowance gone: the administrators are
    e-mailed, once a day, before calls are refused at the limit."""
    international = [
        t.number
        for t in outside
        if routing.NumberClass.INTERNATIONAL in routing.number_classes(t.number, country_code)
    ]
    if not international or not routing.unusual_international_traffic(usage):
        return
    if cache.add(alert_key(company_id, "unusual_international"), 1, timeout=24 * 3600):
        minutes = usage.international_seconds_today // 60
        logger.warning("company %s: unusual international traffic, %s minutes today", company_id, minutes)
        transaction.on_commit(
            lambda: tasks.send_unusual_traffic_alert.delay(company_id, minutes, international[0])
        )


def unusual_international_traffic_now(*, company: Company | None) -> bool:
    """Whether the company's international traffic today is unusual (its administrators' banner)."""
    if company is None or company.max_international_minutes is None:
        return False  # no limit, nothing to compare with (and no query)
    usage = queries.outside_usage(company.pk, CARRIER_ENDPOINT, now=timezone.now())
    return routing.unusual_international_traffic(usage)
