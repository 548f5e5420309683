"""What the API shows of a directory line: the same as the portal page."""

from __future__ import annotations

from rest_framework import serializers

from telephony.choices import Presence
from telephony.events import PhoneState


class ColleagueSerializer(serializers.Serializer):
    """A `directory.colleagues.Colleague`, read only."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(read_only=True)
    extension = serializers.CharField(read_only=True, help_text="Empty for a user without an extension.")
    public_numbers = serializers.ListField(child=serializers.CharField(), read_only=True)
    presence = serializers.ChoiceField(choices=Presence.choices, read_only=True)
    dnd = serializers.BooleanField(read_only=True)
    phone_state = serializers.ChoiceField(choices=PhoneState.choices, read_only=True)
