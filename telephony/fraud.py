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

from . import queries, routing, tasks
from .routing import Plan, RejectReason, RingDevices

logger = logging.getLogger(__name__)

ALERT_EVERY = 3600  # seconds between two e-mails about the same company and limit


def alert_key(company_id: int, limit: str) -> str:
    return f"istra:fraud-alert:{company_id}:{limit}"


def admit_outside_call(plan: Plan, *, company_id: int, country_code: str, now: datetime) -> Plan:
    """`plan` as it is, or a refusal (FRAUD_LIMIT) when it would ring an outside number over a limit."""
    if not isinstance(plan, RingDevices) or not plan.external:
        return plan
    trunk = plan.targets[0].endpoint
    usage = queries.outside_usage(company_id, trunk, now=now)
    decided = routing.within_fraud_limits(plan, country_code, usage)
    if isinstance(decided, routing.Reject) and decided.reason == RejectReason.FRAUD_LIMIT:
        number = plan.targets[0].number
        limit = routing.fraud_limit_reached(number, country_code, usage)
        logger.warning(
            "company %s: call out to %s refused, %s limit reached (%s open calls of %s, %s s "
            "international today of %s min)",
            company_id,
            number,
            limit,
            usage.open_calls,
            usage.max_calls,
            usage.international_seconds_today,
            usage.max_international_minutes,
        )
        if limit is not None and cache.add(alert_key(company_id, limit), 1, timeout=ALERT_EVERY):
            transaction.on_commit(lambda: tasks.send_fraud_alert.delay(company_id, str(limit), number))
    return decided
