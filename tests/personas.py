"""The people of the test suite: Acme (admin alice; bob 101, carol 102, dave 103) and Globex, whose
users must never see or reach Acme's. Passwords are fixed so that SIP phones can register with them."""

from __future__ import annotations

from dataclasses import dataclass

from directory.choices import Role
from directory.models import Company, User
from telephony.actions import create_user

PORTAL_PASSWORD = "correct-horse-battery"


@dataclass
class Person:
    user: User
    extension: str
    sip_username: str
    sip_password: str


def make_company(slug: str, name: str, language: str = "en") -> Company:
    return Company.objects.create(slug=slug, name=name, language=language)


def make_person(
    company: Company, username: str, extension: str, *, first_name: str = "", role: str = Role.USER
) -> Person:
    sip_password = f"sip-{username}-{extension}-pw"
    user, credentials = create_user(
        company=company,
        username=username,
        extension=extension,
        first_name=first_name or username.capitalize(),
        role=role,
        password=PORTAL_PASSWORD,
        sip_password=sip_password,
    )
    assert credentials is not None
    return Person(
        user=user, extension=extension, sip_username=credentials.username, sip_password=sip_password
    )
