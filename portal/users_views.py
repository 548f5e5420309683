"""myTelephony's users after creation (I1): edit who they are, set their portal password, disable or
delete them (saying first what goes with them); and their phones: registration state from Asterisk,
disable, remove. For company admins only (anyone else: 403); another company's ids answer 404.
Writes are telephony.user_actions and telephony.actions functions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from directory.models import User
from telephony import user_actions
from telephony.actions import devices as device_actions
from telephony.models import Extension
from voicemail import users as voicemail_users

from .confirm import confirmation_page
from .forms import add_action_errors
from .user_forms import EditUserForm, PortalPasswordForm
from .views import _admin, _get_device_for_admin, _get_user_for_admin


def _edit_page(
    request: HttpRequest,
    owner: User,
    *,
    form: EditUserForm | None = None,
    password_form: PortalPasswordForm | None = None,
) -> HttpResponse:
    extension = Extension.objects.filter(user=owner).first()
    initial = {
        "first_name": owner.first_name,
        "last_name": owner.last_name,
        "email": owner.email,
        "extension": extension.number if extension else "",
    }
    context = {
        "owner": owner,
        "form": form or EditUserForm(initial=initial, auto_id="user-%s"),
        "password_form": password_form or PortalPasswordForm(auto_id="portal-password-%s"),
        "section": "mytelephony",
    }
    return render(request, "portal/user_edit.html", context, status=400 if form or password_form else 200)


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    owner = _get_user_for_admin(request, user_id)
    if request.method == "GET":
        return _edit_page(request, owner)
    form = EditUserForm(request.POST, auto_id="user-%s")
    if form.is_valid():
        try:
            user_actions.update_user(user=owner, **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _edit_page(request, owner, form=form)
    messages.success(request, _("%(name)s is saved.") % {"name": owner.display_name})
    return redirect("portal:user_detail", user_id=owner.pk)


@never_cache
@login_required
@require_POST
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    owner = _get_user_for_admin(request, user_id)
    form = PortalPasswordForm(request.POST, auto_id="portal-password-%s")
    if form.is_valid():
        try:
            user_actions.set_portal_password(user=owner, password=form.cleaned_data["password"])
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _edit_page(request, owner, password_form=form)
    messages.success(
        request, _("%(name)s can log in with the new password now.") % {"name": owner.display_name}
    )
    return redirect("portal:user_detail", user_id=owner.pk)


@login_required
@require_http_methods(["GET", "POST"])
def user_active(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET asks before disabling; POST with active=on or off does it."""
    admin = _admin(request)
    owner = _get_user_for_admin(request, user_id)
    if request.method == "GET":
        return confirmation_page(
            request,
            title=_("Disable a user"),
            question=_(
                "Disable %(name)s? They can no longer log in to the portals or the API and leave the "
                "directory. Their phones, numbers, forwarding rules and messages stay, for when you "
                "enable them again."
            )
            % {"name": owner.display_name},
            back=reverse("portal:user_detail", args=[owner.pk]),
            section="mytelephony",
            yes=_("Disable"),
        )
    active = request.POST.get("active") == "on"
    try:
        user_actions.set_user_active(user=owner, active=active, by=admin)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        text = _("%(name)s is enabled.") if active else _("%(name)s is disabled.")
        messages.success(request, text % {"name": owner.display_name})
    return redirect("portal:user_detail", user_id=owner.pk)


def _consequences(summary: voicemail_users.DeletionSummary) -> list[str]:
    lines = []
    if summary.extension:
        lines.append(
            _("Extension %(number)s becomes free: calls to it are refused.") % {"number": summary.extension}
        )
    lines.append(
        ngettext(
            "%(count)d phone is removed and can no longer register.",
            "%(count)d phones are removed and can no longer register.",
            summary.phones,
        )
        % {"count": summary.phones}
    )
    if summary.public_numbers:
        lines.append(
            _(
                "The public numbers %(numbers)s are deleted: calls to them will no longer reach your "
                "company. Point them at a colleague first in Call routing to keep them."
            )
            % {"numbers": ", ".join(summary.public_numbers)}
        )
    lines.append(
        ngettext(
            "%(count)d forwarding rule is deleted.",
            "%(count)d forwarding rules are deleted.",
            summary.forwarding_rules,
        )
        % {"count": summary.forwarding_rules}
    )
    lines.append(
        ngettext(
            "%(count)d voicemail message is deleted, with the greetings.",
            "%(count)d voicemail messages are deleted, with the greetings.",
            summary.messages,
        )
        % {"count": summary.messages}
    )
    if summary.receptionist:
        lines.append(_("They are a receptionist: calls for the receptionist will have nobody to ring."))
    lines.append(_("Their past calls stay in their colleagues' history."))
    return lines


@login_required
@require_http_methods(["GET", "POST"])
def user_delete(request: HttpRequest, user_id: int) -> HttpResponse:
    admin = _admin(request)
    owner = _get_user_for_admin(request, user_id)
    if request.method == "GET":
        return confirmation_page(
            request,
            title=_("Delete a user"),
            question=_("Delete %(name)s (%(login)s)? It cannot be undone:")
            % {"name": owner.display_name, "login": owner.username},
            consequences=_consequences(voicemail_users.deletion_summary(owner)),
            back=reverse("portal:user_detail", args=[owner.pk]),
            section="mytelephony",
            yes=_("Delete the user"),
        )
    try:
        voicemail_users.delete_user(user=owner, by=admin)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:user_detail", user_id=owner.pk)
    messages.success(request, _("%(name)s is deleted.") % {"name": owner.display_name})
    return redirect("portal:mytelephony")


# --- Phones ------------------------------------------------------------------------------------------


@login_required
@require_POST
def device_enabled(request: HttpRequest, device_id: int) -> HttpResponse:
    device = _get_device_for_admin(request, device_id)
    enabled = request.POST.get("enabled") == "on"
    device_actions.update_device(device=device, enabled=enabled)
    text = _("%(label)s is enabled.") if enabled else _("%(label)s is disabled: it no longer rings.")
    messages.success(request, text % {"label": device.label})
    return redirect("portal:user_detail", user_id=device.user_id)


@login_required
@require_http_methods(["GET", "POST"])
def device_delete(request: HttpRequest, device_id: int) -> HttpResponse:
    device = _get_device_for_admin(request, device_id)
    if request.method == "GET":
        return confirmation_page(
            request,
            title=_("Remove a phone"),
            question=_(
                "Remove %(label)s (%(username)s) from %(name)s? It is logged out at once and can never "
                "register again; a new phone gets new credentials."
            )
            % {"label": device.label, "username": device.sip_username, "name": device.user.display_name},
            back=reverse("portal:user_detail", args=[device.user_id]),
            section="mytelephony",
            yes=_("Remove the phone"),
        )
    device_actions.delete_device(device=device)
    messages.success(request, _("%(label)s is removed.") % {"label": device.label})
    return redirect("portal:user_detail", user_id=device.user_id)
