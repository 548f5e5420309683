"""What the API shows of a user's own voicemail; the PIN is write-only and its hash never leaves."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from voicemail.choices import Greeting
from voicemail.models import Mailbox, Message, validate_pin

# Separators people type in phone numbers; what is left must be digits, after an optional leading +.
SMS_SEPARATORS = re.compile(r"[\s.\-/()]")
SMS_NUMBER = re.compile(r"^\+?[0-9]{4,19}$")
SMS_NUMBER_ERROR = _("Enter a phone number: digits only, with an optional leading +.")


class MessageSerializer(serializers.ModelSerializer[Message]):
    read = serializers.SerializerMethodField()
    duration_seconds = serializers.IntegerField(read_only=True)
    audio_url = serializers.SerializerMethodField(help_text=_("The message as WAV, for its owner."))

    class Meta:
        model = Message
        fields = [
            "id", "caller_name", "caller_number", "created_at",
            "duration_ms", "duration_seconds", "read", "read_at", "audio_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_read(self, message: Message) -> bool:
        return message.read_at is not None

    @extend_schema_field(serializers.URLField())
    def get_audio_url(self, message: Message) -> str:
        url = reverse("api:voicemail-message-audio", args=[message.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class MailboxSerializer(serializers.ModelSerializer[Mailbox]):
    """The owner's settings; the recordings are uploaded in MyIstra."""

    has_pin = serializers.BooleanField(read_only=True)
    has_name_audio = serializers.SerializerMethodField()
    has_greeting_audio = serializers.SerializerMethodField()

    class Meta:
        model = Mailbox
        fields = [
            "enabled",
            "notify",
            "sms_number",
            "greeting",
            "has_pin",
            "has_name_audio",
            "has_greeting_audio",
        ]
        read_only_fields = ["has_pin", "has_name_audio", "has_greeting_audio"]

    @extend_schema_field(serializers.BooleanField())
    def get_has_name_audio(self, mailbox: Mailbox) -> bool:
        return bool(mailbox.name_audio)

    @extend_schema_field(serializers.BooleanField())
    def get_has_greeting_audio(self, mailbox: Mailbox) -> bool:
        return bool(mailbox.greeting_audio)

    def validate_sms_number(self, value: str) -> str:
        number = SMS_SEPARATORS.sub("", value)
        if number and not SMS_NUMBER.match(number):
            raise serializers.ValidationError(SMS_NUMBER_ERROR)
        return number

    def validate_greeting(self, value: str) -> str:
        mailbox = self.instance
        assert isinstance(mailbox, Mailbox)
        if value == Greeting.NAME and not mailbox.name_audio:
            raise serializers.ValidationError(_("Upload a recording of your name to use this greeting."))
        if value == Greeting.FULL and not mailbox.greeting_audio:
            raise serializers.ValidationError(_("Upload your greeting to use it."))
        return value


class PinSerializer(serializers.Serializer[Any]):
    pin = serializers.CharField(
        write_only=True, trim_whitespace=True, help_text=_("4 to 8 digits."), style={"input_type": "password"}
    )

    def validate_pin(self, value: str) -> str:
        validate_pin(value)  # a Django ValidationError, which DRF reports as a 400 on this field
        return value
