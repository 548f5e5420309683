"""myTelephony's sites (A1, C5): the company's offices, each with its own number, receptionist and
time zone, all sharing one extension plan; and which site each user works at.

For company admins only (anyone else: 403). Each site a URL names is looked up within the admin's
company, so another company's sites answer 404. A site is deleted only once nobody works there.
Writes are telephony.actions.sites functions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from directory.models import Company, Site, User
from telephony.actions import sites as site_actions

from .confirm import confirmation_page
from .forms import add_action_errors
from .site_forms import SiteForm, UserSiteForm
from .views import _admin, _get_user_for_admin, _user_page


def _company(admin: User) -> Company:
    assert admin.company is not None
    return admin.company


def _site_form(company: Company, data: Any = None, initial: dict[str, Any] | None = None) -> SiteForm:
    return SiteForm(data, initial=initial, company=company, auto_id="site-%s")


def _get_site_for_admin(request: HttpRequest, site_id: int) -> Site:
    admin = _admin(request)
    return get_object_or_404(Site, pk=site_id, company_id=admin.company_id)


def _sites_page(request: HttpRequest, admin: User, form: SiteForm | None = None) -> HttpResponse:
    company = _company(admin)
    sites = (
        Site.objects.filter(company=company)
        .select_related("receptionist__extension")
        .annotate(user_count=Count("users"))
        .order_by("name")
    )
    context = {
        "company": company,
        "sites": sites,
        "form": form or _site_form(company),
        "section": "sites",
    }
    return render(request, "portal/sites.html", context, status=400 if form is not None else 200)


@login_required
@require_GET
def sites(request: HttpRequest) -> HttpResponse:
    return _sites_page(request, _admin(request))


@login_required
@require_POST
def site_create(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    form = _site_form(_company(admin), request.POST)
    if form.is_valid():
        try:
            site_actions.create_site(company=_company(admin), **form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _sites_page(request, admin, form)
    messages.success(request, _("Site %(name)s added.") % {"name": form.cleaned_data["name"]})
    return redirect("portal:sites")


@login_required
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _get_site_for_admin(request, site_id)
    company = site.company
    initial = {
        "name": site.name,
        "timezone": site.timezone,
        "main_number": site.main_number,
        "receptionist": site.receptionist_id,
    }
    if request.method == "GET":
        form = _site_form(company, initial=initial)
    else:
        form = _site_form(company, request.POST, initial=initial)
        if form.is_valid():
            try:
                site_actions.update_site(site=site, **form.cleaned_data)
            except ValidationError as error:
                add_action_errors(form, error)
        if form.is_valid():
            messages.success(request, _("Site %(name)s saved.") % {"name": site.name})
            return redirect("portal:sites")
    context = {
        "site": site,
        "title": _("Site %(name)s") % {"name": initial["name"]},
        "form": form,
        "members": User.objects.filter(site=site).select_related("extension").order_by("username"),
        "section": "sites",
    }
    return render(request, "portal/site_edit.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def site_delete(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _get_site_for_admin(request, site_id)
    if request.method == "GET":
        return confirmation_page(
            request,
            title=_("Delete a site"),
            question=_("Delete the site %(name)s? Its number and receptionist go with it.")
            % {"name": site.name},
            back=reverse("portal:site_edit", args=[site.pk]),
            section="sites",
        )
    try:
        site_actions.delete_site(site=site)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:site_edit", site_id=site.pk)
    messages.success(request, _("Site %(name)s deleted.") % {"name": site.name})
    return redirect("portal:sites")


@login_required
@require_POST
def user_site(request: HttpRequest, user_id: int) -> HttpResponse:
    """Assign a user to a site of the company, or to none (the user detail page's form)."""
    owner = _get_user_for_admin(request, user_id)
    assert owner.company is not None
    form = UserSiteForm(request.POST, company=owner.company, auto_id="user-site-%s")
    if form.is_valid():
        try:
            site_actions.set_user_site(user=owner, site=form.cleaned_data["site"])
        except ValidationError as error:
            add_action_errors(form, error)
    if not form.is_valid():
        return _user_page(request, owner, site_form=form, status=400)
    messages.success(request, _("Site of %(name)s saved.") % {"name": owner.display_name})
    return redirect("portal:user_detail", user_id=owner.pk)
