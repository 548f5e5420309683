"""myTelephony's forms for the company's sites (A1, C5); telephony.actions.sites checks what they mean."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from directory.models import Company, Site
from telephony.actions.sites import time_zones

from .forms import NUMBER_WIDGET, CompanyUserField, company_users

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _time_zone_choices() -> list[tuple[str, StrOrPromise]]:
    return [("", _("The company's")), *((zone, zone) for zone in sorted(time_zones()))]


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=_time_zone_choices,
        help_text=_("Forwarding rules of the site's users follow it."),
    )
    main_number = forms.CharField(
        label=_("Site number"),
        required=False,
        max_length=30,
        widget=NUMBER_WIDGET,
        help_text=_("Its calls ring the site's receptionist; its users show it on outside calls."),
    )
    receptionist = CompanyUserField(
        label=_("Receptionist"),
        required=False,
        empty_label=_("The company's"),
        help_text=_("Who answers calls to the site number."),
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["receptionist"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = company_users(company)


class UserSiteForm(forms.Form):
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("No site")
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["site"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Site.objects.filter(company=company).order_by("name")
