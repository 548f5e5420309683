"""API tokens (I5, J2): issued at sign-in, shown once, stored only as their SHA-256, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiToken, User


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_token(user: User, *, now: datetime | None = None) -> tuple[str, ApiToken]:
    """A new token for `user`: its key (the only time it is known) and what is stored of it. The
    user's expired tokens go."""
    now = now or timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        digest=digest(key),
        created_at=now,
        expires_at=now + timedelta(days=settings.API_TOKEN_DAYS),
    )
    return key, token


class HashedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, checked against the stored digests of unexpired tokens."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = (
            ApiToken.objects.valid(timezone.now()).select_related("user").filter(digest=digest(key)).first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return token.user, token
