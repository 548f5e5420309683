"""Portal forms: they parse and check input; the writes themselves are telephony.actions."""

from __future__ import annotations

import re
import subprocess
import wave
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from directory.choices import Language
from telephony.models import extension_number_validator
from voicemail.audio import to_phone_wav, wav_duration_ms
from voicemail.choices import Greeting, Notify
from voicemail.models import validate_pin

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


# --- Voicemail ------------------------------------------------------------------------------------

# Separators people type in phone numbers; what is left must be digits, after an optional leading +.
SMS_SEPARATORS = re.compile(r"[\s.\-/()]")
SMS_NUMBER = re.compile(r"^\+?[0-9]{4,19}$")
SMS_NUMBER_ERROR = _("Enter a phone number: digits only, with an optional leading +.")

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MIN_RECORDING_MS = 500
# The caller waits through the greeting before leaving a message: keep it short.
MAX_RECORDING_MS = {"name_audio": 10_000, "greeting_audio": 60_000}
NOT_AUDIO_ERROR = _("This file is not a recording we can read. Upload an audio file (MP3, WAV, OGG, WebM…).")


class VoicemailSettingsForm(forms.Form):
    """Whether the mailbox takes messages, and how its owner hears of a new one."""

    enabled = forms.BooleanField(label=_("Voicemail on"), required=False)
    notify = forms.ChoiceField(
        label=_("Notification by e-mail"), choices=Notify.choices, widget=forms.RadioSelect
    )
    sms_number = forms.CharField(
        label=_("SMS notification number"),
        required=False,
        max_length=30,
        help_text=_("Optional. A text message is sent to this number for each new message."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_sms_number(self) -> str:
        number = SMS_SEPARATORS.sub("", self.cleaned_data["sms_number"])
        if number and not SMS_NUMBER.match(number):
            raise ValidationError(SMS_NUMBER_ERROR, code="sms_number")
        return number


class GreetingForm(forms.Form):
    """What callers hear, and the recordings it is made of, uploaded in any format a browser gives."""

    greeting = forms.ChoiceField(label=_("Greeting"), choices=Greeting.choices, widget=forms.RadioSelect)
    name_audio = forms.FileField(
        label=_("My name"),
        required=False,
        help_text=_("A recording of your name, at most 10 seconds."),
        widget=forms.FileInput(attrs={"accept": "audio/*"}),
    )
    greeting_audio = forms.FileField(
        label=_("My greeting"),
        required=False,
        help_text=_("Your whole greeting, at most 60 seconds."),
        widget=forms.FileInput(attrs={"accept": "audio/*"}),
    )

    def __init__(self, *args: Any, has_name: bool, has_greeting: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_name = has_name
        self.has_greeting = has_greeting

    def clean_name_audio(self) -> bytes | None:
        return self._phone_audio("name_audio")

    def clean_greeting_audio(self) -> bytes | None:
        return self._phone_audio("greeting_audio")

    def _phone_audio(self, field: str) -> bytes | None:
        """The upload as phone-ready WAV (what Asterisk plays), or a form error saying what is wrong."""
        upload = self.cleaned_data.get(field)
        if not upload:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("This file is too large (20 MB at most)."), code="too_large")
        try:
            wav = to_phone_wav(upload.read())
            duration = wav_duration_ms(wav)
        except (subprocess.SubprocessError, OSError, wave.Error, EOFError) as error:
            raise ValidationError(NOT_AUDIO_ERROR, code="not_audio") from error
        if duration < MIN_RECORDING_MS:
            raise ValidationError(_("This recording is too short."), code="too_short")
        if duration > MAX_RECORDING_MS[field]:
            raise ValidationError(
                _("This recording is too long: %(seconds)s seconds at most."),
                code="too_long",
                params={"seconds": MAX_RECORDING_MS[field] // 1000},
            )
        return wav

    def clean(self) -> dict[str, object] | None:
        data = super().clean()
        assert data is not None
        greeting = data.get("greeting")
        if greeting == Greeting.NAME and not (self.has_name or data.get("name_audio")):
            self.add_error("greeting", _("Upload a recording of your name to use this greeting."))
        if greeting == Greeting.FULL and not (self.has_greeting or data.get("greeting_audio")):
            self.add_error("greeting", _("Upload your greeting to use it."))
        return data


class PinForm(forms.Form):
    """A new voicemail PIN, typed twice; it is never shown, not even back in the form."""

    pin = forms.CharField(
        label=_("New PIN"),
        validators=[validate_pin],
        help_text=_("4 to 8 digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
    )
    pin_again = forms.CharField(
        label=_("New PIN again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, object] | None:
        data = super().clean()
        assert data is not None
        if data.get("pin") and "pin_again" in data and data["pin"] != data["pin_again"]:
            self.add_error("pin_again", _("The two PINs differ: type the same PIN twice."))
        return data
