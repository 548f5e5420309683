"""Writes that create a company's users, each with an extension (and a first phone)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.choices import Role
from directory.models import Company, User

from ..models import (
    Extension,
)
from ..routing import EMERGENCY_NUMBERS
from .devices import SipCredentials, add_device


@transaction.atomic
def create_user(
    *,
    company: Company,
    username: str,
    extension: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    role: str = Role.USER,
    password: str | None = None,
    language: str = "",
    with_device: bool = True,
    sip_username: str = "",
    sip_password: str = "",
) -> tuple[User, SipCredentials | None]:
    """Create a user of `company` with an extension and (by default) one SIP phone.

    Raises ValidationError naming the field when the login or the extension is taken.
    """
    errors: dict[str, str] = {}
    if User.objects.filter(username=username).exists():
        errors["username"] = _("The login %(login)s is already taken.") % {"login": username}
    if Extension.objects.for_company(company).filter(number=extension).exists():
        errors["extension"] = _("Extension %(number)s already exists in %(company)s.") % {
            "number": extension,
            "company": company.name,
        }
    if extension in EMERGENCY_NUMBERS and "extension" not in errors:
        errors["extension"] = _("%(number)s is an emergency number: it cannot be an extension.") % {
            "number": extension
        }
    if extension == company.voicemail_number and "extension" not in errors:
        # Dialling it reaches the voicemail service (routing.interpret): the user would never ring.
        errors["extension"] = _("%(number)s is the voicemail service number: it cannot be an extension.") % {
            "number": extension
        }
    prefix = company.outside_prefix
    if prefix and extension.startswith(prefix) and "extension" not in errors:
        errors["extension"] = _(
            "Extension %(number)s starts with the outside line prefix %(prefix)s: it could never be dialled."
        ) % {"number": extension, "prefix": prefix}
    if errors:
        raise ValidationError(errors)
    user = User(
        company=company,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        language=language,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    ext = Extension(company=company, number=extension, user=user)
    ext.full_clean()
    ext.save()
    credentials = None
    if with_device:
        _device, credentials = add_device(user=user, sip_username=sip_username, password=sip_password)
    return user, credentials
