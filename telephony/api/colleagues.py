"""The company directory through the API (myCompany): every colleague of the requesting user's own
company, with their presence, do not disturb and phone state now; never another company's. The same
lines as the portal page (`telephony.colleagues`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from directory.api.permissions import IsCompanyMember
from directory.models import User

from ..choices import Presence
from ..colleagues import Colleague, colleagues
from ..events import PhoneState


class ColleagueSerializer(serializers.Serializer[Any]):
    """A `telephony.colleagues.Colleague`, read only."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(read_only=True)
    extension = serializers.CharField(read_only=True, help_text="Empty for a user without an extension.")
    public_numbers = serializers.ListField(child=serializers.CharField(), read_only=True)
    presence = serializers.ChoiceField(choices=Presence.choices, read_only=True)
    dnd = serializers.BooleanField(read_only=True)
    phone_state = serializers.ChoiceField(choices=PhoneState.choices, read_only=True)


class DirectoryView(generics.ListAPIView):  # type: ignore[type-arg]
    """The colleagues of my company, by name; `?q=` keeps those whose name or extension has every word."""

    permission_classes = [IsCompanyMember]
    serializer_class = ColleagueSerializer

    def get_queryset(self) -> list[Colleague]:  # type: ignore[override]
        user = self.request.user
        assert isinstance(user, User) and user.company_id is not None  # IsCompanyMember ran first
        return colleagues(user.company_id, search=self.request.query_params.get("q", "").strip())

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Words of a name, or an extension."),
        ]
    )
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)
