"""The company directory through the API (myCompany): every colleague of the requesting user's own
company, with their presence, do not disturb and phone state now; never another company's."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from directory.colleagues import Colleague, colleagues
from directory.models import User
from telephony.api.permissions import IsCompanyMember

from .serializers import ColleagueSerializer


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
