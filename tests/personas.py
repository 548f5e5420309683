"""The people of the test suite: Acme (admin alice; bob 101, carol 102, dave 103) and Globex, whose
users must never see or reach Acme's. Passwords are fixed so that SIP phones can register with them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from directory.choices import Role
from directory.models import Company, User
from telephony import records
from telephony.choices import CallOutcome
from voicemail.actions import create_user_with_mailbox as create_user

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


def record_call(
    caller: Person, callee: Person, *, at: datetime, answered: bool, talk: int = 40, end: bool = True
) -> uuid.UUID:
    """A call as the bridge records it: caller dials callee's extension (rings at +1 s, answered at
    +5 s if `answered`, ended `talk` seconds after that unless `end` is False)."""
    call_id = uuid.uuid4()
    assert caller.user.company_id is not None
    records.start_call(
        records.NewCall(
            call_id=call_id,
            company_id=caller.user.company_id,
            asterisk_server="ast1",
            caller_user_id=caller.user.pk,
            caller_device_id=None,
            caller_number=caller.extension,
            caller_name=caller.user.display_name,
            dialled=callee.extension,
            channel_id=f"chan-{call_id}",
            endpoint=caller.sip_username,
            started_at=at,
        )
    )
    records.set_callee(
        call_id, user_id=callee.user.pk, number=callee.extension, name=callee.user.display_name
    )
    records.mark_ringing(call_id, at=at + timedelta(seconds=1))
    if answered:
        records.mark_answered(
            call_id, channel_id=f"chan-{call_id}", bridge_id="b", at=at + timedelta(seconds=5)
        )
    if end:
        outcome = CallOutcome.ANSWERED if answered else CallOutcome.NO_ANSWER
        records.end_call(call_id, outcome=outcome, at=at + timedelta(seconds=5 + (talk if answered else 0)))
    return call_id
