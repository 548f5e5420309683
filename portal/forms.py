"""Portal forms: they parse and check input; the writes themselves are telephony.actions."""

from __future__ import annotations

import re
import subprocess
import wave
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from directory.choices import Language
from directory.models import Company, User
from telephony.actions.dial_plan import DIAL_CODE_FEATURES
from telephony.choices import (
    BarringDirection,
    CallerIdChoice,
    NumberClass,
    Presence,
    RuleCondition,
    RuleDestination,
    RuleOrigin,
    Screening,
)
from telephony.models import ForwardingRule, PhoneNumber, extension_number_validator
from telephony.routing import DEFAULT_DIAL_CODES
from voicemail.audio import to_phone_wav, wav_duration_ms
from voicemail.choices import Greeting, Notify
from voicemail.models import validate_pin

RING_DELAY_ERROR = _("The ring delay must be between 0 and 30 seconds.")

# Actions validate models, whose field names are not always the form's.
MODEL_FIELD_TO_FORM_FIELD = {"number": "extension", "prefix": "number_prefix"}


def add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Show what an action refused next to the field it concerns, keeping everything the user typed."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        name = field if field in form.fields else MODEL_FIELD_TO_FORM_FIELD.get(field, field)
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
        password: str = self.cleaned_data["password"]
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
            # Decoded a second past the limit at most: enough to tell it is too long.
            wav = to_phone_wav(upload.read(), max_seconds=MAX_RECORDING_MS[field] / 1000 + 1)
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


# --- MyIstra: presence, forwarding rules, call settings -------------------------------------------

NUMBER_WIDGET = forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})
OUTSIDE_NUMBER_HELP = _("An extension, or an outside number as you would dial it without the outside prefix.")


def split_numbers(text: str) -> list[str]:
    """Numbers typed in one box, separated by commas or semicolons (103, 0612345678)."""
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(label=_("My presence"), choices=Presence.choices)


class DndForm(forms.Form):
    dnd = forms.ChoiceField(choices=[("on", "on"), ("off", "off")])


class ForwardingRuleForm(forms.Form):
    """One forwarding rule as MyIstra edits it; telephony.actions.forwarding checks what it means."""

    label = forms.CharField(label=_("Label"), max_length=60, required=False)
    condition = forms.ChoiceField(label=_("Forward"), choices=RuleCondition.choices)
    no_answer_after = forms.IntegerField(
        label=_("No answer after (s)"),
        min_value=5,
        max_value=120,
        initial=15,
        help_text=_("For “when I do not answer”: how long your phones ring first."),
    )
    origin = forms.ChoiceField(label=_("Which calls"), choices=RuleOrigin.choices)
    callers = forms.CharField(
        label=_("Callers"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"inputmode": "tel", "placeholder": "103, 0612345678"}),
        help_text=_("For “these callers only”: their numbers, separated by commas."),
    )
    destination = forms.ChoiceField(
        label=_("Forward to"), choices=RuleDestination.choices, initial=RuleDestination.NUMBER
    )
    destination_number = forms.CharField(
        label=_("Number"), required=False, max_length=30, widget=NUMBER_WIDGET, help_text=OUTSIDE_NUMBER_HELP
    )
    presences = forms.MultipleChoiceField(
        label=_("Only when my presence is"),
        choices=Presence.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: whatever your presence."),
    )
    days = forms.TypedMultipleChoiceField(
        label=_("Only on"),
        choices=sorted(WEEKDAYS.items()),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every day."),
    )
    time_from = forms.TimeField(
        label=_("Starting at"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    time_to = forms.TimeField(
        label=_("Ending at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In your company's time zone; leave both empty for the whole day."),
    )
    enabled = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_callers(self) -> list[str]:
        return split_numbers(self.cleaned_data["callers"])

    @staticmethod
    def initial_from(rule: ForwardingRule) -> dict[str, Any]:
        return {
            "label": rule.label,
            "condition": rule.condition,
            "no_answer_after": rule.no_answer_after,
            "origin": rule.origin,
            "callers": ", ".join(rule.callers),
            "destination": rule.destination,
            "destination_number": rule.destination_number,
            "presences": rule.presences,
            "days": rule.days,
            "time_from": rule.time_from,
            "time_to": rule.time_to,
            "enabled": rule.enabled,
        }


class MyNumbersForm(forms.Form):
    """The user's own numbers (where "home" and "mobile" rules forward) and the number outside
    callees see."""

    home_number = forms.CharField(label=_("Home number"), required=False, max_length=30, widget=NUMBER_WIDGET)
    mobile_number = forms.CharField(
        label=_("Mobile number"), required=False, max_length=30, widget=NUMBER_WIDGET
    )
    caller_id = forms.ChoiceField(
        label=_("Number shown on my outside calls"), choices=CallerIdChoice.choices, widget=forms.RadioSelect
    )
    caller_id_number = forms.ModelChoiceField(
        label=_("Public number shown"),
        queryset=PhoneNumber.objects.none(),
        required=False,
        empty_label="—",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["caller_id_number"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PhoneNumber.objects.filter(user=user).order_by("number")


class ScreeningForm(forms.Form):
    """Black and white lists (B6)."""

    screening = forms.ChoiceField(label=_("Callers"), choices=Screening.choices, widget=forms.RadioSelect)
    screened_numbers = forms.CharField(
        label=_("Listed callers"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "103, 0612345678"}),
        help_text=_("Their numbers, separated by commas: extensions or outside numbers."),
    )
    reject_anonymous = forms.BooleanField(label=_("Reject anonymous callers"), required=False)

    def clean_screened_numbers(self) -> list[str]:
        return split_numbers(self.cleaned_data["screened_numbers"])


def max_calls_choices() -> list[tuple[int, str]]:
    """Call waiting as the manual words it: one call only, or how many at once (B4)."""
    return [(1, gettext("One call only (no call waiting)"))] + [
        (n, gettext("%(count)s calls at once") % {"count": n}) for n in range(2, 9)
    ]


class CallWaitingForm(forms.Form):
    max_calls = forms.TypedChoiceField(label=_("Simultaneous calls"), choices=max_calls_choices, coerce=int)


class RemoteTerminalForm(forms.Form):
    """An outside number (a mobile) that rings with the user's phones (A6, A7)."""

    label = forms.CharField(label=_("Label"), max_length=60, initial=_("Mobile"))
    number = forms.CharField(label=_("Number"), max_length=30, widget=NUMBER_WIDGET)
    ring_delay = forms.IntegerField(
        label=_("Ring delay (s)"),
        min_value=0,
        max_value=30,
        initial=0,
        error_messages={"min_value": RING_DELAY_ERROR, "max_value": RING_DELAY_ERROR},
    )
    avoid_voicemail = forms.BooleanField(
        label=_("Avoid this phone's voicemail"),
        required=False,
        help_text=_("You press a key to take the call, so this phone's own voicemail never answers it."),
    )


class RemoteTerminalSettingsForm(forms.Form):
    ring_delay = forms.IntegerField(
        label=_("Ring delay (s)"),
        min_value=0,
        max_value=30,
        error_messages={"min_value": RING_DELAY_ERROR, "max_value": RING_DELAY_ERROR},
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    avoid_voicemail = forms.BooleanField(label=_("Avoid this phone's voicemail"), required=False)


# --- myTelephony: the company's call routing -------------------------------------------------------


def company_users(company: Company) -> QuerySet[User]:
    return (
        User.objects.filter(company=company, extension__isnull=False)
        .select_related("extension")
        .order_by("extension__number")
    )


if TYPE_CHECKING:
    _UserChoiceField = forms.ModelChoiceField[User]
else:  # not generic at run time
    _UserChoiceField = forms.ModelChoiceField


class CompanyUserField(_UserChoiceField):
    """A user of the admin's company, shown with their extension; the form sets the queryset."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=User.objects.none(), **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        extension = getattr(obj, "extension", None)
        return f"{obj.display_name} ({extension.number})" if extension else str(obj.display_name)


class RoutingPolicyForm(forms.Form):
    outside_prefix = forms.CharField(
        label=_("Outside line prefix"),
        required=False,
        max_length=3,
        help_text=_(
            "Dialled before an outside number, e.g. 0. Empty: any number longer than 6 digits goes out."
        ),
    )
    country_code = forms.CharField(
        label=_("Country code"), max_length=3, help_text=_("Where the company dials from, e.g. 33.")
    )
    main_number = forms.CharField(
        label=_("Company number"),
        required=False,
        max_length=30,
        widget=NUMBER_WIDGET,
        help_text=_("Shown on outside calls of users without a public number of their own."),
    )
    receptionist = CompanyUserField(
        label=_("Receptionist"),
        required=False,
        empty_label=_("Nobody"),
        help_text=_("Where forwarding rules to “the company receptionist” send calls."),
    )
    bar_high_risk = forms.BooleanField(
        label=_("Bar high-risk numbers"),
        required=False,
        help_text=_(
            "Satellite and international premium-rate numbers, where toll fraud sends calls. "
            "Allow rules below still let chosen numbers through."
        ),
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["receptionist"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = company_users(company)


class DialCodesForm(forms.Form):
    """One box per dial code; an empty box keeps the default, shown as its placeholder."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for feature, label in DIAL_CODE_FEATURES:
            self.fields[str(feature)] = forms.CharField(
                label=label,
                required=False,
                max_length=5,
                widget=forms.TextInput(attrs={"placeholder": DEFAULT_DIAL_CODES[feature], "size": 6}),
            )


class SpeedDialForm(forms.Form):
    short_number = forms.CharField(label=_("Short number"), max_length=6)
    number = forms.CharField(
        label=_("Dials"), max_length=30, widget=NUMBER_WIDGET, help_text=OUTSIDE_NUMBER_HELP
    )
    label = forms.CharField(label=_("Label"), max_length=60, required=False)


class BarringRuleForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Calls"), choices=BarringDirection.choices, initial=BarringDirection.OUTGOING
    )
    allow = forms.TypedChoiceField(
        label=_("Rule"),
        choices=[("false", _("forbid")), ("true", _("allow (an exception)"))],
        coerce=lambda value: value == "true",
        initial="false",
    )
    number_class = forms.ChoiceField(
        label=_("Class of numbers"), choices=[("", "—"), *NumberClass.choices], required=False
    )
    # Not "prefix": a form's own attribute of that name prefixes its field names.
    number_prefix = forms.CharField(
        label=_("Or a number or its beginning"),
        required=False,
        max_length=30,
        widget=NUMBER_WIDGET,
        help_text=_("As users dial it without the outside prefix: 06, 0612345678, +44."),
    )
    user = CompanyUserField(label=_("For"), required=False, empty_label=_("Everyone"))

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = company_users(company)


class PhoneNumberForm(forms.Form):
    number = forms.CharField(
        label=_("Public number"),
        max_length=30,
        widget=NUMBER_WIDGET,
        help_text=_("As the carrier presents it, e.g. +33140000001."),
    )
    destination = forms.ChoiceField(label=_("Rings"), choices=PhoneNumber.Destination.choices)
    user = CompanyUserField(label=_("User"), required=False, empty_label="—")

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = company_users(company)
