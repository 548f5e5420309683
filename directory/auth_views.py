"""Sign-in, guarded against password guessing (directory/login_guard.py): the portal's login form,
the platform operators' Django admin and the API's token endpoint."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .login_guard import client_address, guard, lock_message
from .tokens import issue_token


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


class GuardedObtainAuthToken(APIView):
    """`POST /api/auth/token/` (username, password) -> {"token": ..., "expires_at": ...}: a new
    token, shown this once (only its hash is kept); 429 while locked."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    serializer_class = AuthTokenSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> AuthTokenSerializer:
        return AuthTokenSerializer(*args, context={"request": self.request}, **kwargs)

    @extend_schema(
        request=AuthTokenSerializer,
        responses=inline_serializer(
            "IssuedToken", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
        ),
    )
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
        key, token = issue_token(serializer.validated_data["user"])
        response = Response({"token": key, "expires_at": token.expires_at})
        response["Cache-Control"] = "no-store"
        return response
