"""Who may use the API at all: membership of a company is a directory concept; the finer permissions
(admins, owners) are telephony's (`telephony.api.permissions`)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsCompanyMember(BasePermission):
    """Logged in as a user of a company: the API shows nothing outside one."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "company_id", None))
