"""Forgotten portal passwords: an e-mailed link to choose a new one (Django's reset views and tokens),
through the same SMTP settings as voicemail notifications. The page says the same whether or not the
address is known, so it cannot be used to find out who has an account."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.forms import PasswordResetForm

logger = logging.getLogger(__name__)


class PortalPasswordResetForm(PasswordResetForm):
    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        # A mail server that is down must not tell the visitor whether the address has an account.
        try:
            super().send_mail(*args, **kwargs)
        except OSError as exc:
            logger.error("could not send a password reset e-mail: %s", exc)
