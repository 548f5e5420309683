"""myTelephony, security: SIP sources blocked after trying the company's accounts (R3), and the
toll-fraud limits the platform operator set for the company (read-only here)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from sipguard import actions, queries
from telephony import queries as telephony_queries
from telephony.provisioning import CARRIER_ENDPOINT
from telephony.routing import unusual_international_traffic

from .views import _admin


@never_cache
@login_required
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    company = admin.company
    assert company is not None
    now = timezone.now()
    usage = telephony_queries.outside_usage(company.pk, CARRIER_ENDPOINT, now=now)
    minutes_today = usage.international_seconds_today // 60
    return render(
        request,
        "portal/sip_security.html",
        {
            "section": "security",
            "company": company,
            "blocks": queries.company_blocks(company, now),
            "usage": usage,
            "international_minutes_today": minutes_today,
            "international_warning": unusual_international_traffic(usage),
        },
    )


@never_cache
@login_required
@require_POST
def lift_sip_block(request: HttpRequest, block_id: int) -> HttpResponse:
    admin = _admin(request)
    assert admin.company is not None
    now = timezone.now()
    block = queries.company_block(admin.company, block_id, now)
    if block is None:
        raise Http404
    actions.lift_block(block=block, by=admin, now=now)
    messages.success(request, _("%(address)s may connect again.") % {"address": block.address})
    return redirect("portal:security")
