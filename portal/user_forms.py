"""Forms of a user's life: myTelephony's (who they are, their portal password) and MyIstra's status
profiles."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from telephony.choices import RuleDestination
from telephony.models import extension_number_validator


class EditUserForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    extension = forms.CharField(label=_("Extension"), max_length=6, validators=[extension_number_validator])


class PortalPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New portal password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("The same again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        return data


class StatusProfileForm(forms.Form):
    """Where calls go while I am in one presence state (MyIstra's status profiles)."""

    destination = forms.ChoiceField(
        label=_("Calls go to"),
        required=False,
        choices=[("", _("my phones, as usual")), *RuleDestination.choices],
    )
    number = forms.CharField(
        label=_("Number"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "placeholder": "102, 0612345678"}),
    )
