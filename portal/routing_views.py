"""myTelephony's call routing: the company's outside prefix, country code, company number and
receptionist, its dial codes, speed dials, call barring rules and public numbers (DIDs).

For company admins only (anyone else: 403). Each object a URL names is looked up within the admin's
company, so another company's answers 404. Writes are telephony.actions functions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from directory.models import Company, User
from telephony.actions import dial_plan as dial_plan_actions
from telephony.models import BarringRule, PhoneNumber, SpeedDial
from telephony.routing import DEFAULT_DIAL_CODES

from .confirm import confirmation_page
from .forms import (
    BarringRuleForm,
    DialCodesForm,
    PhoneNumberForm,
    RoutingPolicyForm,
    SpeedDialForm,
    add_action_errors,
)
from .views import _admin


def _company(admin: User) -> Company:
    assert admin.company is not None
    return admin.company


def _policy_form(company: Company, data: Any = None) -> RoutingPolicyForm:
    initial = {
        "outside_prefix": company.outside_prefix,
        "country_code": company.country_code,
        "main_number": company.main_number,
        "receptionist": company.receptionist_id,
        "bar_high_risk": company.bar_high_risk,
    }
    return RoutingPolicyForm(data, initial=initial, company=company, auto_id="policy-%s")


def _dial_codes_form(company: Company, data: Any = None) -> DialCodesForm:
    return DialCodesForm(data, initial=dict(company.dial_codes or {}), auto_id="code-%s")


def _speed_dial_form(data: Any = None, initial: dict[str, Any] | None = None) -> SpeedDialForm:
    return SpeedDialForm(data, initial=initial, auto_id="speed-dial-%s")


def _barring_form(
    company: Company, data: Any = None, initial: dict[str, Any] | None = None
) -> BarringRuleForm:
    return BarringRuleForm(data, initial=initial, company=company, auto_id="barring-%s")


def _number_form(
    company: Company, data: Any = None, initial: dict[str, Any] | None = None
) -> PhoneNumberForm:
    return PhoneNumberForm(data, initial=initial, company=company, auto_id="did-%s")


# Call routing's pages, in the order of its menu: (part, URL name, title).
ROUTING_PARTS = (
    ("policy", "portal:routing", gettext_lazy("Outside calls")),
    ("dial-codes", "portal:routing_dial_codes", gettext_lazy("Dial codes")),
    ("speed-dials", "portal:speed_dial_create", gettext_lazy("Speed dials")),
    ("barring", "portal:barring_create", gettext_lazy("Call barring")),
    ("numbers", "portal:phone_number_create", gettext_lazy("Public numbers")),
)


def _routing_page(request: HttpRequest, admin: User, part: str, **refused: Any) -> HttpResponse:
    """One page of call routing; a refused form is passed in by name to be shown again with its
    errors (and a 400)."""
    company = _company(admin)
    dial_codes = dial_plan_actions.effective_dial_codes(company)
    codes_form = refused.get("dial_codes_form") or _dial_codes_form(company)
    context = {
        "part": part,
        "parts": [(key, reverse(name), title) for key, name, title in ROUTING_PARTS],
        "title": next(title for key, _name, title in ROUTING_PARTS if key == part),
        "company": company,
        "policy_form": refused.get("policy_form") or _policy_form(company),
        "dial_codes_form": codes_form,
        "dial_code_rows": [
            (codes_form[str(feature)], DEFAULT_DIAL_CODES[feature], dial_codes[feature])
            for feature, _label in dial_plan_actions.DIAL_CODE_FEATURES
        ],
        "speed_dials": SpeedDial.objects.for_company(company).order_by("short_number"),
        "speed_dial_form": refused.get("speed_dial_form") or _speed_dial_form(),
        "barring_rules": BarringRule.objects.for_company(company).select_related("user__extension"),
        "barring_form": refused.get("barring_form") or _barring_form(company),
        "phone_numbers": PhoneNumber.objects.for_company(company).select_related("user__extension"),
        "number_form": refused.get("number_form") or _number_form(company),
        "section": "routing",
    }
    return render(request, "portal/routing.html", context, status=400 if refused else 200)


def _edit_page(
    request: HttpRequest, *, title: str, form: Any, action: str, delete: str, back: str
) -> HttpResponse:
    context = {
        "title": title,
        "form": form,
        "action": action,
        "delete": delete,
        "back": reverse(back),
        "section": "routing",
    }
    return render(request, "portal/routing_edit.html", context, status=400 if form.errors else 200)


def _confirm_delete(request: HttpRequest, question: str, back: str) -> HttpResponse:
    return confirmation_page(
        request, title=_("Delete"), question=question, back=reverse(back), section="routing"
    )


@login_required
@require_GET
def routing(request: HttpRequest) -> HttpResponse:
    return _routing_page(request, _admin(request), "policy")


@login_required
@require_POST
def routing_policy(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    company = _company(admin)
    form = _policy_form(company, request.POST)
    if form.is_valid():
        try:
            dial_plan_actions.update_routing_policy(company=company, **form.cleaned_data)
        except ValidationError as error:
            company.refresh_from_db()
            add_action_errors(form, error)
    if not form.is_valid():
        return _routing_page(request, admin, "policy", policy_form=form)
    messages.success(request, _("Call routing settings saved."))
    return redirect("portal:routing")


@login_required
@require_http_methods(["GET", "POST"])
def routing_dial_codes(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if request.method == "GET":
        return _routing_page(request, admin, "dial-codes")
    company = _company(admin)
    form = _dial_codes_form(company, request.POST)
    if form.is_valid():
        try:
            dial_plan_actions.set_dial_codes(company=company, codes=form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _routing_page(request, admin, "dial-codes", dial_codes_form=form)
    messages.success(request, _("Dial codes saved."))
    return redirect("portal:routing_dial_codes")


# --- Speed dials ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def speed_dial_create(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if request.method == "GET":
        return _routing_page(request, admin, "speed-dials")
    form = _speed_dial_form(request.POST)
    if form.is_valid():
        try:
            dial_plan_actions.create_speed_dial(company=_company(admin), **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _routing_page(request, admin, "speed-dials", speed_dial_form=form)
    messages.success(
        request, _("Speed dial %(number)s added.") % {"number": form.cleaned_data["short_number"]}
    )
    return redirect("portal:speed_dial_create")


@login_required
@require_http_methods(["GET", "POST"])
def speed_dial_edit(request: HttpRequest, speed_dial_id: int) -> HttpResponse:
    admin = _admin(request)
    speed_dial = get_object_or_404(SpeedDial, pk=speed_dial_id, company=admin.company)
    initial = {
        "short_number": speed_dial.short_number,
        "number": speed_dial.number,
        "label": speed_dial.label,
    }
    if request.method == "GET":
        form = _speed_dial_form(initial=initial)
    else:
        form = _speed_dial_form(request.POST, initial=initial)
        if form.is_valid():
            try:
                dial_plan_actions.update_speed_dial(speed_dial=speed_dial, **form.cleaned_data)
            except ValidationError as error:
                add_action_errors(form, error)
        if form.is_valid():
            messages.success(request, _("Speed dial %(number)s saved.") % {"number": speed_dial.short_number})
            return redirect("portal:speed_dial_create")
    return _edit_page(
        request,
        title=_("Speed dial %(number)s") % {"number": initial["short_number"]},
        form=form,
        action=request.path,
        delete=f"{request.path}delete/",
        back="portal:speed_dial_create",
    )


@login_required
@require_http_methods(["GET", "POST"])
def speed_dial_delete(request: HttpRequest, speed_dial_id: int) -> HttpResponse:
    admin = _admin(request)
    speed_dial = get_object_or_404(SpeedDial, pk=speed_dial_id, company=admin.company)
    if request.method == "GET":
        return _confirm_delete(
            request,
            _("Delete speed dial %(short)s (%(number)s)? Dialling %(short)s will no longer call it.")
            % {"short": speed_dial.short_number, "number": speed_dial.number},
            "portal:speed_dial_create",
        )
    dial_plan_actions.delete_speed_dial(speed_dial=speed_dial)
    messages.success(request, _("Speed dial %(number)s deleted.") % {"number": speed_dial.short_number})
    return redirect("portal:speed_dial_create")


# --- Call barring ----------------------------------------------------------------------------------


def _barring_fields(form: BarringRuleForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "direction": data["direction"],
        "number_class": data["number_class"],
        "prefix": data["number_prefix"],
        "allow": data["allow"],
        "user": data["user"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def barring_create(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if request.method == "GET":
        return _routing_page(request, admin, "barring")
    company = _company(admin)
    form = _barring_form(company, request.POST)
    if form.is_valid():
        try:
            dial_plan_actions.create_barring_rule(company=company, **_barring_fields(form))
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _routing_page(request, admin, "barring", barring_form=form)
    messages.success(request, _("Barring rule added."))
    return redirect("portal:barring_create")


@login_required
@require_http_methods(["GET", "POST"])
def barring_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    admin = _admin(request)
    company = _company(admin)
    rule = get_object_or_404(BarringRule, pk=rule_id, company=company)
    initial = {
        "direction": rule.direction,
        "allow": "true" if rule.allow else "false",
        "number_class": rule.number_class,
        "number_prefix": rule.prefix,
        "user": rule.user_id,
    }
    if request.method == "GET":
        form = _barring_form(company, initial=initial)
    else:
        form = _barring_form(company, request.POST, initial=initial)
        if form.is_valid():
            try:
                dial_plan_actions.update_barring_rule(rule=rule, **_barring_fields(form))
            except ValidationError as error:
                add_action_errors(form, error)
        if form.is_valid():
            messages.success(request, _("Barring rule saved."))
            return redirect("portal:barring_create")
    return _edit_page(
        request,
        title=_("Barring rule"),
        form=form,
        action=request.path,
        delete=f"{request.path}delete/",
        back="portal:barring_create",
    )


@login_required
@require_http_methods(["GET", "POST"])
def barring_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    admin = _admin(request)
    rule = get_object_or_404(BarringRule, pk=rule_id, company=admin.company)
    if request.method == "GET":
        return _confirm_delete(
            request,
            _("Delete this barring rule? The numbers it named follow the other rules again."),
            "portal:barring_create",
        )
    dial_plan_actions.delete_barring_rule(rule=rule)
    messages.success(request, _("Barring rule deleted."))
    return redirect("portal:barring_create")


# --- Public numbers (DIDs) -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def phone_number_create(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if request.method == "GET":
        return _routing_page(request, admin, "numbers")
    company = _company(admin)
    form = _number_form(company, request.POST)
    if form.is_valid():
        try:
            dial_plan_actions.create_phone_number(company=company, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _routing_page(request, admin, "numbers", number_form=form)
    messages.success(request, _("Public number %(number)s added.") % {"number": form.cleaned_data["number"]})
    return redirect("portal:phone_number_create")


@login_required
@require_http_methods(["GET", "POST"])
def phone_number_edit(request: HttpRequest, number_id: int) -> HttpResponse:
    admin = _admin(request)
    company = _company(admin)
    phone_number = get_object_or_404(PhoneNumber, pk=number_id, company=company)
    initial = {
        "number": phone_number.number,
        "destination": phone_number.destination,
        "user": phone_number.user_id,
    }
    if request.method == "GET":
        form = _number_form(company, initial=initial)
    else:
        form = _number_form(company, request.POST, initial=initial)
        if form.is_valid():
            try:
                dial_plan_actions.update_phone_number(phone_number=phone_number, **form.cleaned_data)
            except ValidationError as error:
                add_action_errors(form, error)
        if form.is_valid():
            messages.success(request, _("Public number %(number)s saved.") % {"number": phone_number.number})
            return redirect("portal:phone_number_create")
    return _edit_page(
        request,
        title=_("Public number %(number)s") % {"number": initial["number"]},
        form=form,
        action=request.path,
        delete=f"{request.path}delete/",
        back="portal:phone_number_create",
    )


@login_required
@require_http_methods(["GET", "POST"])
def phone_number_delete(request: HttpRequest, number_id: int) -> HttpResponse:
    admin = _admin(request)
    phone_number = get_object_or_404(PhoneNumber, pk=number_id, company=admin.company)
    if request.method == "GET":
        return _confirm_delete(
            request,
            _("Delete the public number %(number)s? Calls to it will no longer reach your company.")
            % {"number": phone_number.number},
            "portal:phone_number_create",
        )
    dial_plan_actions.delete_phone_number(phone_number=phone_number)
    messages.success(request, _("Public number %(number)s deleted.") % {"number": phone_number.number})
    return redirect("portal:phone_number_create")
