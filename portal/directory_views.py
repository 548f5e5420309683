"""myCompany's directory: the colleagues of the user's own company, their presence, do not disturb and
phone state (kept live by static/portal/live.js), and a button that calls them through the user's
own phone (click-to-call: the user's phone rings first)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from telephony import clicktocall
from telephony.choices import Presence
from telephony.colleagues import Colleague, colleagues
from telephony.events import PhoneState
from telephony.models import Extension

from .views import _from_script, _member


def _status(colleague: Colleague) -> dict[str, Any]:
    """A line as a `directory.status` event describes it."""
    return {
        "extension": colleague.extension,
        "presence": colleague.presence,
        "dnd": colleague.dnd,
        "phone_state": colleague.phone_state,
    }


def _labels() -> dict[str, Any]:
    """What live.js writes when an event changes a line: the same words as the page."""
    return {
        "presence": {str(value): str(label) for value, label in Presence.choices},
        "phone_state": {str(value): str(label) for value, label in PhoneState.choices},
    }


@login_required
@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    assert user.company_id is not None
    search = request.GET.get("q", "").strip()
    context = {
        "colleagues": colleagues(user.company_id, search=search),
        "search": search,
        "labels": _labels(),
        "section": "directory",
    }
    return render(request, "portal/directory.html", context)


@never_cache
@require_GET
def directory_status(request: HttpRequest) -> JsonResponse:
    """Every line's status as JSON (the page itself reloads its table on each (re)connection)."""
    if not request.user.is_authenticated:
        # 401 rather than a redirect to the login page, which a script could not tell from JSON.
        return JsonResponse({"error": "not authenticated"}, status=401)
    user = _member(request)
    assert user.company_id is not None
    lines = [_status(colleague) for colleague in colleagues(user.company_id) if colleague.extension]
    return JsonResponse({"colleagues": lines})


@login_required
@require_POST
def directory_call(request: HttpRequest) -> HttpResponse:
    """The Call button of a line: ring my phone, then the colleague's extension."""
    user = _member(request)
    extension = get_object_or_404(
        Extension.objects.select_related("user"),
        company_id=user.company_id,
        number=request.POST.get("extension", ""),
        user__isnull=False,
    )
    if extension.user_id == user.pk:
        error: str | None = _("You cannot call yourself.")
    else:
        error = None
        try:
            clicktocall.place_call(user=user, number=extension.number)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except clicktocall.ClickToCallError as exc:
            error = str(exc)
    assert extension.user is not None
    text = error or _("Your phone is ringing: answer it to call %(name)s (%(number)s).") % {
        "name": extension.user.display_name,
        "number": extension.number,
    }
    if _from_script(request):
        context = {"feedback": text, "feedback_error": error is not None}
        return render(request, "portal/_directory_feedback.html", context)
    if error:
        messages.error(request, text)
    else:
        messages.success(request, text)
    return redirect("portal:directory")
