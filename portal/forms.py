"""Portal forms: they parse and check input; the writes themselves are telephony.actions."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from directory.choices import Language
from telephony.models import extension_number_validator

RING_DELAY_ERROR = _("The ring delay must be between 0 and 30 seconds.")

# Actions validate models, whose field names are not always the form's.
MODEL_FIELD_TO_FORM_FIELD = {"number": "extension"}


def add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Show what an action refused next to the field it concerns, keeping everything the user typed."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        name = MODEL_FIELD_TO_FORM_FIELD.get(field, field)
        form.add_error(name if name in form.fields else None, messages)


class DeviceSettingsForm(forms.Form):
    """What a user may change on their own phone: how long it waits before ringing, and whether it rings."""

    ring_delay = forms.IntegerField(
        label=_("Ring delay (s)"),
        min_value=0,
        max_value=30,
        error_messages={"min_value": RING_DELAY_ERROR, "max_value": RING_DELAY_ERROR},
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False)


class CreateUserForm(forms.Form):
    username = forms.CharField(label=_("Login"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    extension = forms.CharField(label=_("Extension"), max_length=6, validators=[extension_number_validator])
    password = forms.CharField(
        label=_("Portal password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty if this user will not log in to the portal."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Company's language")), *Language.choices],
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if password:
            validate_password(password)
        return password


class AddDeviceForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=60, initial=_("Desk phone"))
    ring_delay = forms.IntegerField(
        label=_("Ring delay (s)"),
        min_value=0,
        max_value=30,
        initial=0,
        error_messages={"min_value": RING_DELAY_ERROR, "max_value": RING_DELAY_ERROR},
    )
