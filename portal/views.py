"""MyIstra (a user's own phones, calls and voicemail) and myTelephony (a company admin's users and
devices); and the media URL through which Asterisk fetches voicemail audio.

Every object a URL names is looked up within the requesting user's company, so another company's ids
are simply not found; a voicemail message, within the requesting user's own mailbox.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from directory.models import User
from telephony import bridge_commands, clicktocall, fraud, registrations
from telephony import quick_forward as quick_forward_actions
from telephony.actions import devices as device_actions
from telephony.actions.devices import SipCredentials
from telephony.contract import NOT_FOUND
from telephony.models import CallSettings, Device, Extension
from voicemail import actions as voicemail_actions
from voicemail import media
from voicemail.models import Mailbox

from . import calls, voicemails
from .confirm import confirmation_page, is_htmx
from .forms import (
    AddDeviceForm,
    CreateUserForm,
    DeviceSettingsForm,
    GreetingForm,
    PinForm,
    PresenceForm,
    VoicemailSettingsForm,
    add_action_errors,
)
from .site_forms import UserSiteForm


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
    context = {
        "owner": owner,
        "credentials": credentials,
        "realm": django_settings.SIP_REALM,
        "section": "mytelephony",
    }
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


def read_call_settings(user: User) -> CallSettings:
    """The user's call settings as stored, or the defaults (unsaved) for a user who never changed
    them: showing a page creates nothing. Read through the user, so that a caller who
    select_related() it pays no query."""
    call_settings: CallSettings | None = getattr(user, "call_settings", None)
    return call_settings if call_settings is not None else CallSettings(user=user)


def status_context(user: User) -> dict[str, Any]:
    """What the presence bar shows: DND and presence as the database holds them now."""
    call_settings = read_call_settings(user)
    return {
        "call_settings": call_settings,
        "presence_form": PresenceForm(initial={"presence": call_settings.presence}, auto_id="%s"),
    }


def _banner_context(user: User) -> dict[str, Any]:
    event = calls.active_call_event(user)
    return {"call": event, "banner_text": calls.banner_text(event)}


def _myistra_page(
    request: HttpRequest, user: User, *, invalid: tuple[int, DeviceSettingsForm] | None = None
) -> HttpResponse:
    """The page; `invalid` is a device's refused form, shown again with its errors and the input kept."""
    # The extension and call settings (the presence bar) with the user, in one query.
    user = User.objects.select_related("company", "extension", "call_settings").get(pk=user.pk)
    devices = Device.objects.filter(user=user).order_by("ring_delay", "id")
    device_forms = [
        (device, invalid[1] if invalid and invalid[0] == device.pk else _device_form(device))
        for device in devices
    ]
    quick_rule = quick_forward_actions.quick_forward_rule(user)
    context = {
        **status_context(user),
        **_banner_context(user),
        "forwarding_to_mobile": bool(quick_rule and quick_rule.enabled),
        "missed_this_week": calls.missed_count(user, since=timezone.now() - timedelta(days=7)),
        "new_messages": voicemails.unread_count(user),
        "mobile_number": read_call_settings(user).mobile_number,
        "extension": getattr(user, "extension", None),
        "device_forms": device_forms,
        **_history_context(request, user),
        "section": "myistra",
    }
    return render(request, "portal/myistra.html", context, status=400 if invalid else 200)


@login_required
@require_GET
def myistra(request: HttpRequest) -> HttpResponse:
    return _myistra_page(request, _member(request))


def _history_context(request: HttpRequest, user: User) -> dict[str, Any]:
    page = calls.history_page(user, calls.HistoryQuery.from_params(request.GET))
    return {"rows": page.rows, "history": page, "history_kinds": calls.HISTORY_KINDS, "company": user.company}


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """Just the history table (this filter, search and page), which reloads itself when a call ends."""
    return render(request, "portal/_history.html", _history_context(request, _member(request)))


@never_cache
@login_required
@require_GET
def call_banner(request: HttpRequest) -> HttpResponse:
    """Just the call banner, which reloads itself on each live call event."""
    return render(request, "portal/_call_banner.html", _banner_context(_member(request)))


@never_cache
@login_required
@require_POST
def hang_up_call(request: HttpRequest, call_id: uuid.UUID) -> HttpResponse:
    """The banner's "Hang up": every side of my call ends, as if I had hung up (through the bridge)."""
    user = _member(request)
    result = bridge_commands.hang_up_call(user=user, call_id=call_id)
    error = ""
    if not result.ok:
        error = (
            _("This call has already ended.")
            if result.error == NOT_FOUND
            else _("The telephone service did not answer; please try again.")
        )
    if is_htmx(request):
        if not error:
            # Nothing to swap: the banner reloads by itself on the call's end event (a banner sent back
            # now could still show the call, and land after that reload).
            return HttpResponse(status=204)
        return render(request, "portal/_call_banner.html", {**_banner_context(user), "hangup_error": error})
    if error:
        messages.error(request, error)
    return redirect("portal:myistra")


@login_required
@require_POST
def quick_forward(request: HttpRequest) -> HttpResponse:
    """MyIstra's switch: forward all my calls to my mobile, on or off."""
    user = _member(request)
    on = request.POST.get("on") == "on"
    try:
        quick_forward_actions.set_forward_all_to_mobile(user=user, on=on)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("All your calls go to your mobile now.") if on else _("Your calls ring your phones again."),
        )
    return redirect("portal:myistra")


@login_required
@require_POST
def place_call(request: HttpRequest) -> HttpResponse:
    """Click-to-call from MyIstra: ring my phone, then the number (or straight to their voicemail)."""
    user = _member(request)
    number = request.POST.get("number", "")
    message_only = request.POST.get("message_only") == "on"
    try:
        clicktocall.place_call(user=user, number=number, message_only=message_only)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except clicktocall.ClickToCallError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Your phone is ringing: answer it to call %(number)s.") % {"number": number}
        )
    return redirect("portal:myistra")


@never_cache
@require_GET
def live_snapshot(request: HttpRequest) -> JsonResponse:
    """The call banner's state as JSON, for scripts of the user's own (the page reloads the banner)."""
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
            device_actions.update_device(
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


# --- MyIstra voicemail ------------------------------------------------------------------------------


def _from_script(request: HttpRequest) -> bool:
    """htmx sends its forms and swaps in the answer (a fragment); without script, forms redirect."""
    return is_htmx(request)


def _audio_response(audio: FieldFile) -> FileResponse:
    try:
        handle = audio.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    return FileResponse(handle, content_type="audio/wav")


def _greeting_form(mailbox: Mailbox, *args: Any) -> GreetingForm:
    return GreetingForm(
        *args,
        initial={"greeting": mailbox.greeting},
        has_name=bool(mailbox.name_audio),
        has_greeting=bool(mailbox.greeting_audio),
    )


def _voicemail_list_context(user: User) -> dict[str, Any]:
    return {
        "voicemails": list(voicemails.messages_of(user)),
        "unread": voicemails.unread_count(user),
        "company": user.company,
    }


def _voicemail_page(
    request: HttpRequest,
    user: User,
    *,
    settings_form: VoicemailSettingsForm | None = None,
    greeting_form: GreetingForm | None = None,
    pin_form: PinForm | None = None,
) -> HttpResponse:
    """The page; a refused form is passed in to be shown again with its errors (and a 400)."""
    mailbox = voicemail_actions.ensure_mailbox(user=user)
    refused = settings_form or greeting_form or pin_form
    context = {
        **_voicemail_list_context(user),
        "mailbox": mailbox,
        "settings_form": settings_form
        or VoicemailSettingsForm(
            initial={"enabled": mailbox.enabled, "notify": mailbox.notify, "sms_number": mailbox.sms_number}
        ),
        "greeting_form": greeting_form or _greeting_form(mailbox),
        "pin_form": pin_form or PinForm(),
        "section": "voicemail",
    }
    return render(request, "portal/voicemail.html", context, status=400 if refused else 200)


def _after_message_change(request: HttpRequest, user: User) -> HttpResponse:
    if _from_script(request):
        return render(request, "portal/_voicemail_list.html", _voicemail_list_context(user))
    return redirect("portal:voicemail")


@login_required
@require_GET
def voicemail(request: HttpRequest) -> HttpResponse:
    return _voicemail_page(request, _member(request))


@login_required
@require_GET
def voicemail_list(request: HttpRequest) -> HttpResponse:
    """Just the messages table, which reloads itself on each live voicemail count."""
    return render(request, "portal/_voicemail_list.html", _voicemail_list_context(_member(request)))


@never_cache
@login_required
@require_GET
def voicemail_badge(request: HttpRequest) -> HttpResponse:
    """Just the nav's unread count, which reloads itself on each live voicemail count."""
    return render(
        request, "portal/_voicemail_badge.html", {"unread": voicemails.unread_count(_member(request))}
    )


@never_cache
@require_GET
def voicemail_unread(request: HttpRequest) -> JsonResponse:
    """The unread count as JSON, for scripts of the user's own (the page reloads its badge)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not authenticated"}, status=401)
    return JsonResponse({"unread": voicemails.unread_count(_member(request))})


@login_required
@require_GET
def voicemail_audio(request: HttpRequest, message_id: uuid.UUID) -> FileResponse:
    message = voicemails.own_message(_member(request), message_id)
    if not message.audio:
        raise Http404
    response = _audio_response(message.audio)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def voicemail_read(request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
    user = _member(request)
    voicemail_actions.mark_read(message=voicemails.own_message(user, message_id), at=timezone.now())
    return _after_message_change(request, user)


@login_required
@require_http_methods(["GET", "POST"])
def voicemail_delete(request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
    user = _member(request)
    message = voicemails.own_message(user, message_id)
    if request.method == "GET":
        caller = message.caller_name or message.caller_number or _("an unknown caller")
        return confirmation_page(
            request,
            title=_("Delete a message"),
            question=_("Delete the message from %(caller)s? It cannot be undone.") % {"caller": caller},
            back=reverse("portal:voicemail"),
            section="voicemail",
        )
    voicemail_actions.delete_message(message=message)
    if not _from_script(request):
        messages.success(request, _("Message deleted."))
    return _after_message_change(request, user)


@login_required
@require_GET
def voicemail_recording(request: HttpRequest, kind: str) -> FileResponse:
    """The user's own recorded name or greeting, to listen to before choosing it."""
    if kind not in voicemail_actions.RECORDINGS:
        raise Http404
    mailbox = get_object_or_404(Mailbox, user=_member(request))
    audio = voicemails.recording(mailbox, kind)
    if not audio:
        raise Http404
    response = _audio_response(audio)
    response["Cache-Control"] = "no-cache"  # a new upload keeps the URL
    return response


@login_required
@require_POST
def voicemail_settings(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = VoicemailSettingsForm(request.POST)
    if not form.is_valid():
        return _voicemail_page(request, user, settings_form=form)
    voicemail_actions.update_settings(
        mailbox=voicemail_actions.ensure_mailbox(user=user), **form.cleaned_data
    )
    messages.success(request, _("Voicemail settings saved."))
    return redirect("portal:voicemail")


@login_required
@require_POST
def voicemail_greeting(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    mailbox = voicemail_actions.ensure_mailbox(user=user)
    form = _greeting_form(mailbox, request.POST, request.FILES)
    if not form.is_valid():
        return _voicemail_page(request, user, greeting_form=form)
    voicemail_actions.update_greeting(
        mailbox=mailbox,
        greeting=form.cleaned_data["greeting"],
        name_wav=form.cleaned_data["name_audio"],
        greeting_wav=form.cleaned_data["greeting_audio"],
    )
    messages.success(request, _("Greeting saved."))
    return redirect("portal:voicemail")


@never_cache
@login_required
@require_POST
def voicemail_pin(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    form = PinForm(request.POST)
    if form.is_valid():
        try:
            voicemail_actions.set_pin(
                mailbox=voicemail_actions.ensure_mailbox(user=user), pin=form.cleaned_data["pin"]
            )
        except ValidationError as error:
            form.add_error("pin", error)
    if not form.is_valid():
        return _voicemail_page(request, user, pin_form=form)
    messages.success(request, _("Your voicemail PIN is changed."))
    return redirect("portal:voicemail")


# --- Internal: what Asterisk fetches ------------------------------------------------------------------


@require_GET
def internal_media(request: HttpRequest, token: str) -> FileResponse:
    """A greeting or message Asterisk plays (res_http_media_cache); the signed token is the permission."""
    audio = media.resolve(token)
    if audio is None:
        raise Http404
    return _audio_response(audio)


# --- myTelephony ------------------------------------------------------------------------------------


# The columns the users list sorts by (?sort=name, ?sort=-name for the other way round).
USER_SORTS = {
    "name": ("last_name", "first_name", "username"),
    "login": ("username",),
    "extension": ("extension__number", "username"),
    "phones": ("device_count",),
}


def _mytelephony_page(
    request: HttpRequest, admin: User, form: CreateUserForm, *, status: int = 200
) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    sort = request.GET.get("sort", "extension")
    if sort.lstrip("-") not in USER_SORTS:
        sort = "extension"
    order = [f"{'-' if sort.startswith('-') else ''}{key}" for key in USER_SORTS[sort.lstrip("-")]]
    users = User.objects.filter(company=admin.company)
    for word in search.split():
        users = users.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
            | Q(extension__number__contains=word)
        )
    users = users.select_related("extension").annotate(device_count=Count("devices")).order_by(*order, "id")
    context = {
        "company": admin.company,
        "users": users,
        "form": form,
        "search": search,
        "sort": sort,
        "section": "mytelephony",
        # Unusual international traffic (J2): told on the console's first page, details in Security.
        "international_warning": fraud.unusual_international_traffic_now(company=admin.company),
    }
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
            user, credentials = voicemail_actions.create_user_with_mailbox(
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


def _user_page(
    request: HttpRequest,
    owner: User,
    form: AddDeviceForm | None = None,
    *,
    site_form: UserSiteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The user detail page; a refused form is passed in to be shown again with its errors."""
    assert owner.company is not None
    devices = list(Device.objects.filter(user=owner).order_by("ring_delay", "id"))
    context = {
        "owner": owner,
        "extension": Extension.objects.filter(user=owner).first(),
        # Each SIP phone with its registration, asked of Asterisk now (None: it could not say).
        "devices": [
            (device, None if device.is_remote else registrations.registration_of(device.sip_username))
            for device in devices
        ],
        "form": form or AddDeviceForm(),
        "site_form": site_form
        or UserSiteForm(initial={"site": owner.site_id}, company=owner.company, auto_id="user-site-%s"),
        "section": "mytelephony",
    }
    return render(request, "portal/user_detail.html", context, status=status)


@login_required
@require_GET
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_page(request, _get_user_for_admin(request, user_id))


@never_cache
@login_required
@require_POST
def add_device(request: HttpRequest, user_id: int) -> HttpResponse:
    owner = _get_user_for_admin(request, user_id)
    form = AddDeviceForm(request.POST)
    if form.is_valid():
        try:
            _, credentials = device_actions.add_device(
                user=owner, label=form.cleaned_data["label"], ring_delay=form.cleaned_data["ring_delay"]
            )
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            return _credentials_page(request, owner, credentials, status=201)
    return _user_page(request, owner, form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reset_sip_password(request: HttpRequest, device_id: int) -> HttpResponse:
    device = _get_device_for_admin(request, device_id)
    if request.method == "GET":
        return confirmation_page(
            request,
            title=_("Reset a SIP password"),
            question=_(
                "Reset the SIP password of %(label)s? The phone is logged out at once and rings again only "
                "once it is set up with the new password, shown on the next page."
            )
            % {"label": device.label},
            back=reverse("portal:user_detail", args=[device.user_id]),
            section="mytelephony",
            yes=_("Reset the password"),
        )
    credentials = device_actions.reset_sip_password(device=device)
    return _credentials_page(request, device.user, credentials, status=200)
