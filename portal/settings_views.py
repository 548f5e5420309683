"""MyIstra's call settings: presence and do not disturb, forwarding rules, the user's numbers and
caller id, black and white lists, call waiting and remote terminals.

Each object a URL names is looked up among the requesting user's own, so anyone else's answers 404.
Every write is a telephony.actions.call_settings or .forwarding function, which also tells the
user's browsers after commit (the same event a dial code on their desk phone sends).


"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from directory.models import User
from telephony import status_profiles
from telephony.actions import call_settings as call_settings_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.choices import Presence, RuleCondition, RuleDestination, RuleOrigin
from telephony.models import CallSettings, Device, Extension, ForwardingRule, PhoneNumber

from .confirm import confirmation_page
from .forms import (
    CallWaitingForm,
    DndForm,
    ForwardingRuleForm,
    MyNumbersForm,
    PresenceForm,
    RemoteTerminalForm,
    RemoteTerminalSettingsForm,
    ScreeningForm,
    add_action_errors,
)
from .user_forms import StatusProfileForm
from .views import _from_script, _member, read_call_settings, status_context

# --- Presence and do not disturb (at the top of every MyIstra page) ------------------------------


def _status(call_settings: CallSettings) -> dict[str, Any]:
    return {"dnd": call_settings.dnd, "presence": call_settings.presence}


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (a MyIstra page), else `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


def _status_bar(request: HttpRequest, user: User) -> HttpResponse:
    return render(request, "portal/_status_bar.html", status_context(user))


@never_cache
@login_required
@require_GET
def status_bar(request: HttpRequest) -> HttpResponse:
    """Just the presence bar, which reloads itself on each live settings event."""
    return _status_bar(request, _member(request))


@login_required
@require_POST
def set_dnd(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = DndForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Do not disturb is on or off."))
    call_settings_actions.set_dnd(user=user, on=form.cleaned_data["dnd"] == "on")
    if _from_script(request):
        return _status_bar(request, user)
    return _back(request, "portal:myistra")


@login_required
@require_POST
def set_presence(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = PresenceForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown presence state."))
    call_settings_actions.set_presence(user=user, presence=form.cleaned_data["presence"])
    if _from_script(request):
        return _status_bar(request, user)
    return _back(request, "portal:myistra")


@never_cache
@require_GET
def status_snapshot(request: HttpRequest) -> JsonResponse:
    """DND and presence as JSON, for scripts of the user's own (the page reloads its presence bar)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not authenticated"}, status=401)
    return JsonResponse(_status(read_call_settings(_member(request))))


# --- Forwarding rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    """A forwarding rule in words, as the list shows it."""

    rule: ForwardingRule
    condition: str
    origin: str
    presences: str
    days: str
    window: str
    destination: str


def _rule_row(rule: ForwardingRule, call_settings: CallSettings, receptionist: str) -> RuleRow:
    condition = rule.get_condition_display()
    if rule.condition == RuleCondition.NO_ANSWER:
        condition = _("%(condition)s within %(seconds)s s") % {
            "condition": condition,
            "seconds": rule.no_answer_after,
        }
    origin = rule.get_origin_display()
    if rule.origin == RuleOrigin.LISTED:
        origin = f"{origin}: {', '.join(rule.callers)}"
    presence_labels = dict(Presence.choices)
    destination = str(rule.get_destination_display())
    detail = {
        RuleDestination.NUMBER: rule.destination_number,
        RuleDestination.HOME: call_settings.home_number,
        RuleDestination.MOBILE: call_settings.mobile_number,
        RuleDestination.RECEPTIONIST: receptionist,
    }.get(RuleDestination(rule.destination), "")
    if rule.time_from is not None and rule.time_to is not None:
        window = f"{rule.time_from:%H:%M} - {rule.time_to:%H:%M}"
    else:
        window = _("all day")
    return RuleRow(
        rule=rule,
        condition=str(condition),
        origin=str(origin),
        presences=", ".join(str(presence_labels[p]) for p in rule.presences if p in presence_labels)
        or _("any"),
        days=", ".join(str(WEEKDAYS_ABBR[int(d)]) for d in rule.days) or _("every day"),
        window=window,
        destination=f"{destination} ({detail})" if detail else destination,
    )


def _rule_rows(user: User) -> list[RuleRow]:
    assert user.company is not None
    call_settings = read_call_settings(user)
    receptionist = user.company.receptionist
    extension = getattr(receptionist, "extension", None) if receptionist else None
    receptionist_label = ""
    if receptionist is not None and extension is not None:
        receptionist_label = f"{receptionist.display_name}, {extension.number}"
    rules = ForwardingRule.objects.filter(user=user).order_by("position", "id")
    return [_rule_row(rule, call_settings, receptionist_label) for rule in rules]


def _rules_context(user: User) -> dict[str, Any]:
    return {"rule_rows": _rule_rows(user)}


def _rule_form(data: Any = None, *, rule: ForwardingRule | None = None) -> ForwardingRuleForm:
    initial = ForwardingRuleForm.initial_from(rule) if rule else None
    return ForwardingRuleForm(data, initial=initial, auto_id="rule-%s")


def _profile_forms(user: User, refused: tuple[str, StatusProfileForm] | None = None) -> list[Any]:
    """Each presence state with its profile's form (the refused one as it was sent)."""
    profiles = status_profiles.profiles_of(user)
    rows = []
    for presence, label in Presence.choices:
        rule = profiles.get(presence)
        if refused and refused[0] == presence:
            form = refused[1]
        else:
            initial = {"destination": rule.destination, "number": rule.destination_number} if rule else {}
            form = StatusProfileForm(initial=initial, auto_id=f"profile-{presence}-%s")
        rows.append((presence, label, form))
    return rows


def _forwarding_page(
    request: HttpRequest,
    user: User,
    form: ForwardingRuleForm | None = None,
    *,
    profile: tuple[str, StatusProfileForm] | None = None,
) -> HttpResponse:
    context = {
        **status_context(user),
        **_rules_context(user),
        "profiles": _profile_forms(user, profile),
        "form": form or _rule_form(),
        "section": "forwarding",
    }
    return render(request, "portal/forwarding.html", context, status=400 if form or profile else 200)


def _own_rule(request: HttpRequest, rule_id: int) -> ForwardingRule:
    user = _member(request)
    return get_object_or_404(
        ForwardingRule.objects.select_related("user__company__receptionist", "user__extension"),
        pk=rule_id,
        user=user,
    )


def _rule_fields(form: ForwardingRuleForm) -> forwarding_actions.RuleFields:
    data = form.cleaned_data
    return forwarding_actions.RuleFields(
        label=data["label"],
        enabled=data["enabled"],
        condition=data["condition"],
        no_answer_after=data["no_answer_after"],
        origin=data["origin"],
        callers=data["callers"],
        presences=data["presences"],
        days=data["days"],
        time_from=data["time_from"],
        time_to=data["time_to"],
        destination=data["destination"],
        destination_number=data["destination_number"],
    )


@login_required
@require_GET
def forwarding(request: HttpRequest) -> HttpResponse:
    return _forwarding_page(request, _member(request))


@login_required
@require_GET
def forwarding_list(request: HttpRequest) -> HttpResponse:
    """Just the rules table, which reloads itself when the settings change elsewhere (*2 on a phone)."""
    return render(request, "portal/_forwarding_rules.html", _rules_context(_member(request)))


@login_required
@require_POST
def status_profile(request: HttpRequest, presence: str) -> HttpResponse:
    """Where calls go while the user is in this presence state."""
    user = _member(request)
    if presence not in Presence.values:
        return HttpResponseBadRequest(_("Unknown presence state."))
    form = StatusProfileForm(request.POST, auto_id=f"profile-{presence}-%s")
    if form.is_valid():
        try:
            status_profiles.set_status_forwarding(
                user=user,
                presence=presence,
                destination=form.cleaned_data["destination"],
                number=form.cleaned_data["number"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):  # the rule's number is this form's
                error = ValidationError(
                    {
                        "number" if field == "destination_number" else field: messages_
                        for field, messages_ in error.message_dict.items()
                    }
                )
            add_action_errors(form, error)
    if not form.is_valid():
        return _forwarding_page(request, user, profile=(presence, form))
    messages.success(request, _("Saved: when you are %(presence)s.") % {"presence": Presence(presence).label})
    return redirect("portal:forwarding")


@login_required
@require_POST
def forwarding_create(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = _rule_form(request.POST)
    if form.is_valid():
        try:
            forwarding_actions.create_forwarding_rule(user=user, **_rule_fields(form))
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _forwarding_page(request, user, form)
    messages.success(request, _("Forwarding rule added."))
    return redirect("portal:forwarding")


@login_required
@require_http_methods(["GET", "POST"])
def forwarding_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _own_rule(request, rule_id)
    if request.method == "GET":
        form = _rule_form(rule=rule)
    else:
        form = _rule_form(request.POST, rule=rule)
        if form.is_valid():
            try:
                forwarding_actions.update_forwarding_rule(rule=rule, **_rule_fields(form))
            except ValidationError as error:
                add_action_errors(form, error)
        if form.is_valid():
            messages.success(request, _("Forwarding rule saved."))
            return redirect("portal:forwarding")
    context = {**status_context(rule.user), "rule": rule, "form": form, "section": "forwarding"}
    return render(request, "portal/forwarding_edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def forwarding_enabled(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _own_rule(request, rule_id)
    try:
        forwarding_actions.set_forwarding_rule_enabled(rule=rule, on=request.POST.get("enabled") == "on")
    except ValidationError as error:
        messages.error(
            request,
            _("This rule cannot be switched on: %(reason)s") % {"reason": " ".join(error.messages)},
        )
    return _after_rule_change(request, rule.user)


def _after_rule_change(request: HttpRequest, user: User) -> HttpResponse:
    """The rules list for htmx (with the messages, out of band); the page without script."""
    if _from_script(request):
        return render(
            request, "portal/_forwarding_rules.html", {**_rules_context(user), "oob_messages": True}
        )
    return redirect("portal:forwarding")


@login_required
@require_POST
def forwarding_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _own_rule(request, rule_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest(_("Move a rule up or down."))
    forwarding_actions.move_forwarding_rule(rule=rule, up=direction == "up")
    return _after_rule_change(request, rule.user)


@login_required
@require_http_methods(["GET", "POST"])
def forwarding_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _own_rule(request, rule_id)
    if request.method == "GET":
        return confirmation_page(
            request,
            title=_("Delete a forwarding rule"),
            question=_("Delete the rule “%(rule)s”? Calls it forwarded will ring your phones again.")
            % {"rule": rule.label or rule.get_condition_display()},
            back=reverse("portal:forwarding"),
            section="forwarding",
        )
    forwarding_actions.delete_forwarding_rule(rule=rule)
    messages.success(request, _("Forwarding rule deleted."))
    return _after_rule_change(request, rule.user)


# --- Numbers, caller id, black and white lists, call waiting, remote terminals ---------------------


def _numbers_form(user: User, call_settings: CallSettings, data: Any = None) -> MyNumbersForm:
    initial = {
        "home_number": call_settings.home_number,
        "mobile_number": call_settings.mobile_number,
        "caller_id": call_settings.caller_id,
        "caller_id_number": call_settings.caller_id_number_id,
    }
    return MyNumbersForm(data, initial=initial, user=user, auto_id="numbers-%s")


def _screening_form(call_settings: CallSettings, data: Any = None) -> ScreeningForm:
    initial = {
        "screening": call_settings.screening,
        "screened_numbers": ", ".join(call_settings.screened_numbers),
        "reject_anonymous": call_settings.reject_anonymous,
    }
    return ScreeningForm(data, initial=initial, auto_id="screening-%s")


def _call_waiting_form(device: Device, data: Any = None) -> CallWaitingForm:
    return CallWaitingForm(data, initial={"max_calls": device.max_calls}, auto_id=f"phone-{device.pk}-%s")


def _remote_form(device: Device, data: Any = None) -> RemoteTerminalSettingsForm:
    initial = {
        "ring_delay": device.ring_delay,
        "enabled": device.enabled,
        "avoid_voicemail": device.avoid_voicemail,
    }
    return RemoteTerminalSettingsForm(data, initial=initial, auto_id=f"remote-{device.pk}-%s")


def _settings_page(
    request: HttpRequest,
    user: User,
    *,
    numbers_form: MyNumbersForm | None = None,
    screening_form: ScreeningForm | None = None,
    invalid_phone: tuple[int, CallWaitingForm | RemoteTerminalSettingsForm] | None = None,
    add_remote_form: RemoteTerminalForm | None = None,
) -> HttpResponse:
    """The page; a refused form is passed in to be shown again with its errors (and a 400)."""
    call_settings = read_call_settings(user)
    devices = list(Device.objects.filter(user=user).order_by("ring_delay", "id"))

    def phone_form(device: Device, make: Any) -> Any:
        if invalid_phone and invalid_phone[0] == device.pk and isinstance(invalid_phone[1], make):
            return invalid_phone[1]
        return _call_waiting_form(device) if make is CallWaitingForm else _remote_form(device)

    context = {
        **status_context(user),
        "extension": Extension.objects.filter(user=user).first(),
        "public_numbers": PhoneNumber.objects.filter(user=user).order_by("number"),
        "numbers_form": numbers_form or _numbers_form(user, call_settings),
        "screening_form": screening_form or _screening_form(call_settings),
        "phones": [(device, phone_form(device, CallWaitingForm)) for device in devices],
        "remote_terminals": [
            (device, phone_form(device, RemoteTerminalSettingsForm)) for device in devices if device.is_remote
        ],
        "add_remote_form": add_remote_form or RemoteTerminalForm(auto_id="add-remote-%s"),
        "section": "settings",
    }
    refused = numbers_form or screening_form or invalid_phone or add_remote_form
    return render(request, "portal/settings.html", context, status=400 if refused else 200)


def _own_device(request: HttpRequest, device_id: int) -> Device:
    return get_object_or_404(Device, pk=device_id, user=_member(request))


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    return _settings_page(request, _member(request))


@login_required
@require_POST
def settings_numbers(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = _numbers_form(user, read_call_settings(user), request.POST)
    return _save_call_settings(
        request,
        user,
        form,
        _("Your numbers are saved."),
        lambda: _settings_page(request, user, numbers_form=form),
    )


@login_required
@require_POST
def settings_screening(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = _screening_form(read_call_settings(user), request.POST)
    return _save_call_settings(
        request,
        user,
        form,
        _("Your caller screening is saved."),
        lambda: _settings_page(request, user, screening_form=form),
    )


def _save_call_settings(
    request: HttpRequest, user: User, form: forms.Form, saved: str, show_again: Callable[[], HttpResponse]
) -> HttpResponse:
    """Save one form of the settings page; on an error, show the page again with that form."""
    if form.is_valid():
        try:
            call_settings_actions.update_call_settings(user=user, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return show_again()
    messages.success(request, saved)
    return redirect("portal:settings")


@login_required
@require_POST
def phone_call_waiting(request: HttpRequest, device_id: int) -> HttpResponse:
    user = _member(request)
    device = _own_device(request, device_id)
    form = _call_waiting_form(device, request.POST)
    if form.is_valid():
        try:
            call_settings_actions.set_phone_call_waiting(
                user=user, device=device, max_calls=form.cleaned_data["max_calls"]
            )
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _settings_page(request, user, invalid_phone=(device.pk, form))
    messages.success(request, _("Call waiting of %(label)s saved.") % {"label": device.label})
    return redirect("portal:settings")


@login_required
@require_POST
def remote_terminal_add(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = RemoteTerminalForm(request.POST, auto_id="add-remote-%s")
    if form.is_valid():
        try:
            call_settings_actions.add_remote_terminal(user=user, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _settings_page(request, user, add_remote_form=form)
    label = form.cleaned_data["label"]
    messages.success(request, _("%(label)s now rings with your phones.") % {"label": label})
    return redirect("portal:settings")


@login_required
@require_POST
def remote_terminal_update(request: HttpRequest, device_id: int) -> HttpResponse:
    user = _member(request)
    device = _own_device(request, device_id)
    form = _remote_form(device, request.POST)
    if form.is_valid():
        try:
            call_settings_actions.update_remote_terminal(user=user, device=device, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _settings_page(request, user, invalid_phone=(device.pk, form))
    messages.success(request, _("Settings of %(label)s saved.") % {"label": device.label})
    return redirect("portal:settings")


@login_required
@require_http_methods(["GET", "POST"])
def remote_terminal_delete(request: HttpRequest, device_id: int) -> HttpResponse:
    user = _member(request)
    device = _own_device(request, device_id)
    if request.method == "GET":
        return confirmation_page(
            request,
            title=_("Remove a remote terminal"),
            question=_("Remove %(label)s (%(number)s)? It will no longer ring with your phones.")
            % {"label": device.label, "number": device.number},
            back=reverse("portal:settings"),
            section="settings",
            yes=_("Remove"),
        )
    try:
        call_settings_actions.delete_remote_terminal(user=user, device=device)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(label)s removed.") % {"label": device.label})
    return redirect("portal:settings")
