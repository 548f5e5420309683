"""Validation shared by the actions of every app."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import models


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
