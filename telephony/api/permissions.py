from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.views import APIView

from directory.api.permissions import IsCompanyMember


class IsCompanyAdmin(IsCompanyMember):
    """Only the company's admins, even to read (call barring rules)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return super().has_permission(request, view) and request.user.is_company_admin  # type: ignore[union-attr]


class IsCompanyAdminOrReadOnly(IsCompanyMember):
    """Everyone of the company reads; only its admins write."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or request.user.is_company_admin  # type: ignore[union-attr]


class IsOwnerOrCompanyAdmin(IsCompanyMember):
    """A device is changed by the user it rings for, or by an admin of its company."""

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        user = request.user
        return obj.company_id == user.company_id and (  # type: ignore[union-attr]
            obj.user_id == user.pk or user.is_company_admin  # type: ignore[union-attr]
        )
