"""MyIstra (a user's own phones, calls and voicemail) and myTelephony (a company admin's users and
devices); and the media URL through which Asterisk fetches voicemail audio.

Every object a URL names is looked up within the requesting user's company, so another company's ids
are simply not found; a voicemail message, within the requesting user's own mailbox.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from directory.models import User
from telephony import clicktocall
from telephony.actions import devices as device_actions
from telephony.actions.devices import SipCredentials
from telephony.models import CallSettings, Device, Extension
from voicemail import actions as voicemail_actions
from voicemail import media
from voicemail.models import Mailbox

from . import calls, voicemails
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
    event = calls.active_call_event(user)
    context = {
        **status_context(user),
        "extension": getattr(user, "extension", None),
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
    """live.js sends its forms with fetch() and swaps in the answer; without script, forms redirect."""
    return request.headers.get("X-Requested-With") == "fetch"


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
    """Just the messages table, which live.js swaps in when the unread count changes."""
    return render(request, "portal/_voicemail_list.html", _voicemail_list_context(_member(request)))


@never_cache
@require_GET
def voicemail_unread(request: HttpRequest) -> JsonResponse:
    """The badge's count; live.js reloads it whenever its WebSocket (re)connects."""
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
@require_POST
def voicemail_delete(request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
    user = _member(request)
    voicemail_actions.delete_message(message=voicemails.own_message(user, message_id))
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
    context = {
        "owner": owner,
        "extension": Extension.objects.filter(user=owner).first(),
        "devices": Device.objects.filter(user=owner).order_by("ring_delay", "id"),
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
@require_POST
def reset_sip_password(request: HttpRequest, device_id: int) -> HttpResponse:
    device = _get_device_for_admin(request, device_id)
    credentials = device_actions.reset_sip_password(device=device)
    return _credentials_page(request, device.user, credentials, status=200)
