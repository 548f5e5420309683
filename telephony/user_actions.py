"""A company user's life after creation (myTelephony, I1): their name, e-mail and extension changed,
a portal password set, the account disabled or deleted. Creation is `actions.create_user`."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import User

from . import provisioning
from .choices import DeviceKind
from .models import Device, Extension
from .routing import EMERGENCY_NUMBERS


def _extension_errors(user: User, number: str) -> str | None:
    assert user.company is not None
    company = user.company
    if Extension.objects.for_company(company).filter(number=number).exclude(user=user).exists():
        return _("Extension %(number)s already exists in %(company)s.") % {
            "number": number,
            "company": company.name,
        }
    if number in EMERGENCY_NUMBERS:
        return _("%(number)s is an emergency number: it cannot be an extension.") % {"number": number}
    prefix = company.outside_prefix
    if prefix and number.startswith(prefix):
        return _(
            "Extension %(number)s starts with the outside line prefix %(prefix)s: it could never be dialled."
        ) % {"number": number, "prefix": prefix}
    return None


def _push_phones_on_commit(user: User) -> None:
    """The phones' caller id and mailbox name the extension: Asterisk gets them again."""
    phones = list(Device.objects.filter(user=user, kind=DeviceKind.SIP))
    transaction.on_commit(lambda: [provisioning.push_device(phone) for phone in phones])


@transaction.atomic
def update_user(*, user: User, first_name: str, last_name: str, email: str, extension: str) -> User:
    """Change who a user is to their colleagues and callers. A new extension takes effect at once:
    calls to the old one are refused, and the user's phones show the new one (pushed after commit).
    ValidationError names the field refused; nothing is saved then."""
    error = _extension_errors(user, extension)
    if error:
        raise ValidationError({"extension": error})
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.full_clean(exclude=["password"])
    user.save(update_fields=["first_name", "last_name", "email"])
    current = Extension.objects.filter(user=user).first()
    if current is None:
        assert user.company is not None
        current = Extension(company=user.company, user=user, number=extension)
        current.full_clean()
        current.save()
        _push_phones_on_commit(user)
    elif current.number != extension:
        current.number = extension
        current.full_clean()
        current.save(update_fields=["number"])
        _push_phones_on_commit(user)
    return user


@transaction.atomic
def set_portal_password(*, user: User, password: str) -> User:
    """The password the user logs in to the portals and the API with (one a user created without one
    needs before they can log in). Django's password validators apply."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def set_user_active(*, user: User, active: bool, by: User) -> User:
    """A disabled user can no longer log in (portals, API) and leaves the directory; their phones,
    numbers, rules and messages stay as they are, to come back when enabled again."""
    if user.pk == by.pk and not active:
        raise ValidationError(_("You cannot disable your own account."))
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user
