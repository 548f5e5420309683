"""MyIstra (a user's own phones and calls) and myTelephony (a company admin's users and devices).

Every object a URL names is looked up within the requesting user's company, so another company's ids
are simply not found.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from directory.models import User
from telephony import actions
from telephony.actions import SipCredentials
from telephony.models import Device, Extension

from . import calls
from .forms import AddDeviceForm, CreateUserForm, DeviceSettingsForm, add_action_errors


def _member(request: HttpRequest) -> User:
    """The logged-in user, who must belong to a company: the portals show nothing outside one."""
    user = request.user
    assert isinstance(user, User)
    if user.company_id is None:
        raise PermissionDenied
    return user


def _admin(request: HttpRequest) -> User:
    user = _member(request)
    if not user.is_company_admin:
        raise PermissionDenied
    return user


def _get_user_for_admin(request: HttpRequest, user_id: int) -> User:
    admin = _admin(request)
    return get_object_or_404(User, pk=user_id, company_id=admin.company_id)


def _get_device_for_admin(request: HttpRequest, device_id: int) -> Device:
    admin = _admin(request)
    return get_object_or_404(Device.objects.select_related("user"), pk=device_id, company_id=admin.company_id)


def _device_form(device: Device, data: Any = None) -> DeviceSettingsForm:
    return DeviceSettingsForm(
        data,
        initial={"ring_delay": device.ring_delay, "enabled": device.enabled},
        auto_id=f"device-{device.pk}-%s",
    )


def _credentials_page(
    request: HttpRequest, owner: User, credentials: SipCredentials, *, status: int
) -> HttpResponse:
    """The only time a SIP password is shown: it is in this response and nowhere else, not even the DB."""
    context = {"owner": owner, "credentials": credentials, "section": "mytelephony"}
    return render(request, "portal/credentials.html", context, status=status)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.company_id is None and user.is_staff:
        return redirect("admin:index")  # the platform's own operators have no company portal
    user = _member(request)
    return redirect("portal:mytelephony" if user.is_company_admin else "portal:myistra")


# --- MyIstra ----------------------------------------------------------------------------------------


def _myistra_page(
    request: HttpRequest, user: User, *, invalid: tuple[int, DeviceSettingsForm] | None = None
) -> HttpResponse:
    """The page; `invalid` is a device's refused form, shown again with its errors and the input kept."""
    devices = Device.objects.filter(user=user).order_by("ring_delay", "id")
    device_forms = [
        (device, invalid[1] if invalid and invalid[0] == device.pk else _device_form(device))
        for device in devices
    ]
    event = calls.active_call_event(user)
    context = {
        "extension": Extension.objects.filter(user=user).first(),
        "device_forms": device_forms,
        "rows": calls.history_rows(user),
        "company": user.company,
        "call": event,
        "banner_text": calls.banner_text(event),
        "snapshot": calls.snapshot_from(event),
        "banner_texts": calls.BANNER_TEXTS,
        "section": "myistra",
    }
    return render(request, "portal/myistra.html", context, status=400 if invalid else 200)


@login_required
@require_GET
def myistra(request: HttpRequest) -> HttpResponse:
    return _myistra_page(request, _member(request))


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """Just the history table, which live.js swaps in when a call ends."""
    user = _member(request)
    context = {"rows": calls.history_rows(user), "company": user.company}
    return render(request, "portal/_history.html", context)


@never_cache
@require_GET
def live_snapshot(request: HttpRequest) -> JsonResponse:
    """The call banner's state as JSON; live.js reloads it whenever its WebSocket (re)connects."""
    if not request.user.is_authenticated:
        # 401 rather than a redirect to the login page, which a script could not tell from JSON.
        return JsonResponse({"error": "not authenticated"}, status=401)
    return JsonResponse(calls.snapshot(_member(request)))


@login_required
@require_POST
def device_settings(request: HttpRequest, device_id: int) -> HttpResponse:
    user = _member(request)
    device = get_object_or_404(Device, pk=device_id, user=user)
    form = _device_form(device, request.POST)
    if form.is_valid():
        try:
            actions.update_device(
                device=device,
                ring_delay=form.cleaned_data["ring_delay"],
                enabled=form.cleaned_data["enabled"],
            )
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _myistra_page(request, user, invalid=(device.pk, form))
    messages.success(request, _("Settings of %(label)s saved.") % {"label": device.label})
    return redirect("portal:myistra")


# --- myTelephony ------------------------------------------------------------------------------------


def _mytelephony_page(
    request: HttpRequest, admin: User, form: CreateUserForm, *, status: int = 200
) -> HttpResponse:
    users = (
        User.objects.filter(company=admin.company)
        .select_related("extension")
        .annotate(device_count=Count("devices"))
        .order_by("extension__number", "username")
    )
    context = {"company": admin.company, "users": users, "form": form, "section": "mytelephony"}
    return render(request, "portal/mytelephony.html", context, status=status)


@login_required
@require_GET
def mytelephony(request: HttpRequest) -> HttpResponse:
    return _mytelephony_page(request, _admin(request), CreateUserForm())


@never_cache
@login_required
@require_POST
def create_user(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    assert admin.company is not None
    form = CreateUserForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user, credentials = actions.create_user(
                company=admin.company,
                username=data["username"],
                extension=data["extension"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                password=data["password"] or None,
                language=data["language"],
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            assert credentials is not None
            return _credentials_page(request, user, credentials, status=201)
    return _mytelephony_page(request, admin, form, status=400)


def _user_page(request: HttpRequest, owner: User, form: AddDeviceForm, *, status: int = 200) -> HttpResponse:
    context = {
        "owner": owner,
        "extension": Extension.objects.filter(user=owner).first(),
        "devices": Device.objects.filter(user=owner).order_by("ring_delay", "id"),
        "form": form,
        "section": "mytelephony",
    }
    return render(request, "portal/user_detail.html", context, status=status)


@login_required
@require_GET
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_page(request, _get_user_for_admin(request, user_id), AddDeviceForm())


@never_cache
@login_required
@require_POST
def add_device(request: HttpRequest, user_id: int) -> HttpResponse:
    owner = _get_user_for_admin(request, user_id)
    form = AddDeviceForm(request.POST)
    if form.is_valid():
        try:
            _, credentials = actions.add_device(
                user=owner, label=form.cleaned_data["label"], ring_delay=form.cleaned_data["ring_delay"]
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            return _credentials_page(request, owner, credentials, status=201)
    return _user_page(request, owner, form, status=400)


@never_cache
@login_required
@require_POST
def reset_sip_password(request: HttpRequest, device_id: int) -> HttpResponse:
    device = _get_device_for_admin(request, device_id)
    credentials = actions.reset_sip_password(device=device)
    return _credentials_page(request, device.user, credentials, status=200)
