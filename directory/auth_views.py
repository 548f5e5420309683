"""Sign-in, guarded against password guessing (directory/login_guard.py): the portal's login form,
the platform operators' Django admin and the API's token endpoint."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from .login_guard import client_address, guard, lock_message


def guarded_clean(form: AuthenticationForm, check: Any) -> dict[str, Any]:
    """A login form's clean (`check`), refused for a locked account or address before the password
    is looked at; a failure counts, a success clears its account's failures."""
    username = str(form.cleaned_data.get("username") or "")
    address = client_address(form.request)
    wait = guard.retry_after(username, address)
    if wait:
        raise ValidationError(lock_message(wait), code="locked")
    try:
        cleaned: dict[str, Any] = check()
    except ValidationError:
        guard.failed(username, address)
        raise
    guard.succeeded(username, address)
    return cleaned


class GuardedAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing a locked account or address before checking the password."""

    def clean(self) -> dict[str, Any]:
        return guarded_clean(self, super().clean)


class GuardedAdminAuthenticationForm(AdminAuthenticationForm):
    """The Django admin's login form (platform operators, who see every company), under the same guard."""

    def clean(self) -> dict[str, Any]:
        return guarded_clean(self, super().clean)


class GuardedObtainAuthToken(ObtainAuthToken):
    """`POST /api/auth/token/` (username, password) -> {"token": ...}; 429 while locked."""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        username = str(data.get("username") or "")
        address = client_address(request)
        wait = guard.retry_after(username, address)
        if wait:
            return Response(
                {"detail": lock_message(wait)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            guard.failed(username, address)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        guard.succeeded(username, address)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
