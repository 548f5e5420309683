"""Destructive actions ask first. A button is a link to a confirmation page (GET on the action's URL),
which works without script; with script, htmx asks in a dialog and posts straight away (live.js)."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def is_htmx(request: HttpRequest) -> bool:
    """A request htmx sent (a form posted in place, a partial reloading itself): it gets a fragment."""
    return request.headers.get("HX-Request") == "true"


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    question: str,
    back: str,
    section: str,
    yes: str = "",
    consequences: Sequence[str] = (),
) -> HttpResponse:
    """What a destructive action's URL shows on GET: what will happen, the button that does it (a POST to
    the same URL) and a way back."""
    context = {
        "title": title,
        "question": question,
        "consequences": consequences,
        "action": request.path,
        "yes": yes or _("Delete"),
        "back": back,
        "section": section,
    }
    return render(request, "portal/confirm.html", context)
