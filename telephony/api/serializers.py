"""What the API shows of users, extensions, devices and calls; SIP secrets and hashes never leave."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from directory.choices import Language, Role
from directory.models import Company, Site, User
from telephony.actions import dial_plan as dial_plan_actions
from telephony.choices import Presence
from telephony.models import (
    BarringRule,
    Call,
    CallSettings,
    Device,
    Extension,
    ForwardingRule,
    PhoneNumber,
    SpeedDial,
    extension_number_validator,
)
from telephony.routing import DEFAULT_DIAL_CODES

RING_DELAY_ERROR = _("The ring delay must be between 0 and 30 seconds.")


class UserSerializer(serializers.ModelSerializer[User]):
    display_name = serializers.CharField(read_only=True)
    extension = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "display_name",
            "email",
            "role",
            "language",
            "extension",
            "site",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_extension(self, user: User) -> str | None:
        # The view select_related()s the reverse one-to-one, so this costs no query.
        extension = getattr(user, "extension", None)
        return extension.number if extension else None


class UserCreateSerializer(serializers.Serializer[Any]):
    """Input of telephony.user_actions.create_user; the login and extension are checked there."""

    username = serializers.CharField(max_length=150)
    extension = serializers.CharField(max_length=6, validators=[extension_number_validator])
    first_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.USER)
    language = serializers.ChoiceField(choices=Language.choices, required=False, default="", allow_blank=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("Portal password; leave empty for a user who will not log in."),
        style={"input_type": "password"},
    )

    def validate_password(self, value: str) -> str:
        if value:
            validate_password(value)
        return value


class SipCredentialsSerializer(serializers.Serializer[Any]):
    """Returned once, when a phone is created or its password reset; the password is not kept."""

    server = serializers.CharField()
    username = serializers.CharField()
    password = serializers.CharField()


class CreatedUserSerializer(UserSerializer):
    sip_credentials = SipCredentialsSerializer(allow_null=True, read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "sip_credentials"]
        read_only_fields = fields


class ExtensionSerializer(serializers.ModelSerializer[Extension]):
    user_display_name = serializers.SerializerMethodField()

    class Meta:
        model = Extension
        fields = ["id", "number", "user", "user_display_name", "ring_timeout"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_user_display_name(self, extension: Extension) -> str | None:
        return extension.user.display_name if extension.user else None


class DeviceSerializer(serializers.ModelSerializer[Device]):
    """A phone; its owner or an admin may change the label, the ring delay and whether it rings."""

    user_display_name = serializers.CharField(source="user.display_name", read_only=True)
    ring_delay = serializers.IntegerField(
        min_value=0,
        max_value=30,
        required=False,
        error_messages={"min_value": RING_DELAY_ERROR, "max_value": RING_DELAY_ERROR},
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "user",
            "user_display_name",
            "label",
            "kind",
            "sip_username",
            "ring_delay",
            "enabled",
            "max_calls",
            "number",
            "avoid_voicemail",
            "created_at",
        ]
        read_only_fields = ["id", "user", "user_display_name", "kind", "sip_username", "number", "created_at"]


class CallSerializer(serializers.ModelSerializer[Call]):
    direction = serializers.SerializerMethodField(
        help_text=_("placed, received or missed, from the requesting user's side; null if not theirs.")
    )
    duration_seconds = serializers.SerializerMethodField(help_text=_("Talk time; null if nobody answered."))

    class Meta:
        model = Call
        fields = [
            "id", "state", "outcome", "reason", "direction",
            "caller_user", "caller_name", "caller_number", "dialled_number",
            "callee_user", "callee_name", "callee_number",
            "started_at", "ringing_at", "answered_at", "ended_at", "duration_seconds",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["placed", "received", "missed"], allow_null=True))
    def get_direction(self, call: Call) -> str | None:
        user_id = self.context["request"].user.pk
        if user_id not in (call.caller_user_id, call.callee_user_id):
            return None
        return call.direction_for(user_id)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_duration_seconds(self, call: Call) -> int | None:
        return call.duration_seconds if call.duration is not None else None


class CompanySerializer(serializers.ModelSerializer[Company]):
    class Meta:
        model = Company
        fields = ["id", "name", "slug", "timezone", "language"]
        read_only_fields = fields


class MeSerializer(UserSerializer):
    """The requesting user, with their company and their own phones."""

    company = CompanySerializer(read_only=True)
    effective_language = serializers.CharField(read_only=True)
    devices = DeviceSerializer(many=True, read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "effective_language", "company", "devices"]
        read_only_fields = fields


# --- A user's own call settings and forwarding rules ----------------------------------------------


def _requesting_user(
    serializer: serializers.Field[Any, Any, Any, Any] | serializers.BaseSerializer[Any],
) -> User:
    user = serializer.context["request"].user
    assert isinstance(user, User)
    return user


class OwnPhoneNumberField(serializers.SlugRelatedField[Any]):
    """One of the requesting user's own public numbers, by its number: nobody else's can be shown."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="number", **kwargs)

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.filter(user=_requesting_user(self))


class CompanyUserField(serializers.PrimaryKeyRelatedField[Any]):
    """A user of the requesting user's company, by id; another company's ids do not exist here."""

    def get_queryset(self) -> QuerySet[User]:
        company_id = _requesting_user(self).company_id
        assert company_id is not None  # IsCompanyMember ran first
        return User.objects.filter(company_id=company_id)


class CallSettingsSerializer(serializers.ModelSerializer[CallSettings]):
    """DND, presence, home and mobile numbers, caller id and black/white list. Numbers are checked
    (and tidied of spaces and dots) by telephony.actions.call_settings."""

    home_number = serializers.CharField(max_length=30, allow_blank=True, required=False)
    mobile_number = serializers.CharField(max_length=30, allow_blank=True, required=False)
    caller_id_number = OwnPhoneNumberField(
        allow_null=True, required=False, help_text=_("One of your public numbers, for caller_id “number”.")
    )
    screened_numbers = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False, max_length=200
    )
    extension = serializers.SerializerMethodField()
    public_numbers = serializers.SerializerMethodField()

    class Meta:
        model = CallSettings
        fields = [
            "dnd",
            "presence",
            "home_number",
            "mobile_number",
            "caller_id",
            "caller_id_number",
            "screening",
            "reject_anonymous",
            "screened_numbers",
            "extension",
            "public_numbers",
        ]
        read_only_fields = ["extension", "public_numbers"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_extension(self, call_settings: CallSettings) -> str | None:
        extension = Extension.objects.filter(user_id=call_settings.user_id).first()
        return extension.number if extension else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_public_numbers(self, call_settings: CallSettings) -> list[str]:
        return list(
            PhoneNumber.objects.filter(user_id=call_settings.user_id)
            .order_by("number")
            .values_list("number", flat=True)
        )


class ForwardingRuleSerializer(serializers.ModelSerializer[ForwardingRule]):
    """A forwarding rule; what it means (a destination the user may call, callers for "listed"...)
    is checked by telephony.actions.call_settings."""

    callers = serializers.ListField(
        child=serializers.CharField(max_length=30),
        required=False,
        max_length=100,
        help_text=_("For origin “listed”: the callers' numbers."),
    )
    presences = serializers.ListField(
        child=serializers.ChoiceField(choices=Presence.choices),
        required=False,
        help_text=_("Active only in these presence states; empty: whatever the presence."),
    )
    days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        help_text=_("Active only on these weekdays, 0 = Monday; empty: every day."),
    )
    destination_number = serializers.CharField(
        max_length=30,
        allow_blank=True,
        required=False,
        help_text=_(
            "For destination “number”: an extension, or an outside number without the outside prefix."
        ),
    )

    class Meta:
        model = ForwardingRule
        fields = [
            "id",
            "position",
            "label",
            "enabled",
            "condition",
            "no_answer_after",
            "origin",
            "callers",
            "presences",
            "days",
            "time_from",
            "time_to",
            "destination",
            "destination_number",
            "from_dial_code",
        ]
        read_only_fields = ["id", "position", "from_dial_code"]


class MoveSerializer(serializers.Serializer[Any]):
    direction = serializers.ChoiceField(choices=["up", "down"])


class RemoteTerminalSerializer(serializers.ModelSerializer[Device]):
    """An outside number that rings as one of the user's phones (A6); avoid_voicemail asks it to
    press a key first (A7). The number is set once, when it is added."""

    number = serializers.CharField(max_length=30)
    ring_delay = serializers.IntegerField(
        min_value=0,
        max_value=30,
        required=False,
        default=0,
        error_messages={"min_value": RING_DELAY_ERROR, "max_value": RING_DELAY_ERROR},
    )

    class Meta:
        model = Device
        fields = ["id", "label", "number", "ring_delay", "enabled", "avoid_voicemail"]
        read_only_fields = ["id"]


# --- A company's call routing (admins write) --------------------------------------------------------


class SpeedDialSerializer(serializers.ModelSerializer[SpeedDial]):
    short_number = serializers.CharField(max_length=6)
    number = serializers.CharField(
        max_length=30, help_text=_("An extension, or an outside number without the outside prefix.")
    )

    class Meta:
        model = SpeedDial
        fields = ["id", "short_number", "number", "label"]
        read_only_fields = ["id"]


class BarringRuleSerializer(serializers.ModelSerializer[BarringRule]):
    prefix = serializers.CharField(
        max_length=30,
        allow_blank=True,
        required=False,
        default="",
        help_text=_("A number or its beginning, as users dial it without the outside prefix; or a class."),
    )
    user = CompanyUserField(allow_null=True, required=False, default=None)

    class Meta:
        model = BarringRule
        fields = ["id", "direction", "number_class", "prefix", "allow", "user"]
        read_only_fields = ["id"]
        extra_kwargs = {"number_class": {"default": ""}, "allow": {"default": False}}


class PhoneNumberSerializer(serializers.ModelSerializer[PhoneNumber]):
    number = serializers.CharField(
        max_length=30, help_text=_("As the carrier presents it, e.g. +33140000001.")
    )
    user = CompanyUserField(allow_null=True, required=False, default=None)

    class Meta:
        model = PhoneNumber
        fields = ["id", "number", "destination", "user"]
        read_only_fields = ["id"]


class CompanyRoutingSerializer(serializers.ModelSerializer[Company]):
    """The company's routing policy. dial_codes shows every feature's code in use; a PATCH of it
    changes only the features it names ("" puts one back to its default)."""

    main_number = serializers.CharField(max_length=30, allow_blank=True, required=False)
    receptionist = CompanyUserField(allow_null=True, required=False)
    dial_codes = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=5), required=False
    )
    default_dial_codes = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = [
            "outside_prefix",
            "country_code",
            "main_number",
            "receptionist",
            "bar_high_risk",
            "dial_codes",
            "default_dial_codes",
        ]

    def to_representation(self, instance: Company) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["dial_codes"] = {
            str(f): code for f, code in dial_plan_actions.effective_dial_codes(instance).items()
        }
        return data

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_default_dial_codes(self, company: Company) -> dict[str, str]:
        return {str(feature): code for feature, code in DEFAULT_DIAL_CODES.items()}


# --- Sites (A1, C5) ---------------------------------------------------------------------------------


class SiteSerializer(serializers.ModelSerializer[Site]):
    """A site of the company: its number, receptionist and time zone (empty: the company's)."""

    main_number = serializers.CharField(
        max_length=30,
        allow_blank=True,
        required=False,
        default="",
        help_text=_("As the carrier presents it, e.g. +33472000000; empty: none."),
    )
    timezone = serializers.CharField(
        max_length=64, allow_blank=True, required=False, default="", help_text=_("Empty: the company's.")
    )
    receptionist = CompanyUserField(allow_null=True, required=False, default=None)

    class Meta:
        model = Site
        fields = ["id", "name", "timezone", "main_number", "receptionist"]
        read_only_fields = ["id"]


@extend_schema_field(OpenApiTypes.INT)
class CompanySiteField(serializers.PrimaryKeyRelatedField[Any]):
    """A site of the requesting user's company, by id; another company's ids do not exist here."""

    def get_queryset(self) -> QuerySet[Site]:
        company_id = _requesting_user(self).company_id
        assert company_id is not None  # IsCompanyMember ran first
        return Site.objects.filter(company_id=company_id)


class UserSiteSerializer(serializers.Serializer[Any]):
    """Where a user works; null: no site."""

    site = CompanySiteField(allow_null=True)
