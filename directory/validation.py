"""Validation shared by the actions of every app."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# Characters that reorder the text shown around them (bidirectional overrides and isolates): a name
# holding one can pass for another in a list or on a phone's display.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def validate_printable(value: str) -> None:
    """A name or label: no control characters (newlines, tabs, NUL, escapes) nor bidi overrides,
    which would break a SIP header, a log line or a page, or disguise the name."""
    if any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in value or ""):
        raise ValidationError(_("Control characters are not allowed here."), code="control_character")


def raise_errors(
    instance: models.Model, errors: dict[str, list[str]], *, exclude: Sequence[str] = (), **options: bool
) -> None:
    """Run the model's own validation on the fields the action found nothing wrong with, add what it
    finds to `errors`, and raise them all at once: one answer says everything wrong with the input."""
    try:
        instance.full_clean(exclude=[*exclude, *errors], **options)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
