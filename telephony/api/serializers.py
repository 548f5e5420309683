"""What the API shows of users, extensions, devices and calls; SIP secrets and hashes never leave."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from directory.choices import Language, Role
from directory.models import Company, User
from telephony.models import Call, Device, Extension, extension_number_validator

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
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_extension(self, user: User) -> str | None:
        # The view select_related()s the reverse one-to-one, so this costs no query.
        extension = getattr(user, "extension", None)
        return extension.number if extension else None


class UserCreateSerializer(serializers.Serializer):
    """Input of telephony.actions.create_user; the login and extension are checked there."""

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


class SipCredentialsSerializer(serializers.Serializer):
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
            "created_at",
        ]
        read_only_fields = ["id", "user", "user_display_name", "kind", "sip_username", "created_at"]


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
