"""Toll-fraud limits (J2) through the real Asterisk and carrier: the call over a limit is refused with
an announcement, never reaches the carrier, and the company's administrators get an e-mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from directory.models import Company
from telephony import fraud
from telephony.actions import devices as device_actions
from telephony.routing import FraudLimit
from tests.personas import Person
from tests.test_fraud_limits import record_call_out

from .carrier import outside_world
from .conftest import SmtpInbox
from .phones import phone
from .processes import wait_until
from .records import ended_call
from .test_outside_calls import call_out, refused

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge", "celery_worker")]


@pytest.fixture
def admin_mail(alice: Person) -> str:
    alice.user.email = "alice@acme.test"
    alice.user.save()
    assert alice.user.company_id is not None
    for limit in FraudLimit:
        cache.delete(fraud.alert_key(alice.user.company_id, limit))
    return alice.user.email


def test_a_call_out_over_the_companys_simultaneous_calls_limit_is_refused_and_the_admins_told(
    acme: Company, bob: Person, carol: Person, admin_mail: str, smtp_inbox: SmtpInbox
) -> None:
    acme.max_outside_calls = 1
    acme.save()
    already = len(smtp_inbox.messages)

    async def scenario() -> tuple[int, int, str]:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            # given bob is on a call out
            first = await bob_phone.invite("00612345678")
            incoming = await pstn.wait_incoming(timeout=5)
            await incoming.answer()
            await first.wait_status(200, timeout=5)
            await first.wait_rtp(25, timeout=5)
            # when carol calls out too, she hears the refusal, and the carrier never sees her call
            status = await refused(carol_phone, "00698765432")
            rung_meanwhile = len(pstn.invites_received)
            # and once bob hangs up, the line is free again for her
            await first.hangup()
            await incoming.wait_ended(timeout=5)
            # (the limit counts calls as the records say: the bridge writes the end a moment later)
            await asyncio.to_thread(ended_call, caller_user=bob.user)
            called, _shown = await call_out(carol_phone, pstn, "00698765432")
            return status, rung_meanwhile, called

    status, rung_meanwhile, called = asyncio.run(scenario())

    assert (status, rung_meanwhile, called) == (403, 1, "+33698765432")
    assert ended_call(caller_user=carol.user, reason="fraud_limit").callee_number == "+33698765432"
    wait_until(lambda: len(smtp_inbox.messages) > already, 10, "the fraud alert e-mail")
    alert = email.message_from_bytes(smtp_inbox.messages[-1], policy=email.policy.default)
    assert alert["To"] == admin_mail
    assert "limit of 1 simultaneous outside calls" in " ".join(str(alert["Subject"]).split())


def test_international_calls_over_the_days_minutes_are_refused_while_national_ones_go_out(
    acme: Company, bob: Person, admin_mail: str
) -> None:
    acme.max_international_minutes = 1
    # a time zone where it is not just past midnight: the earlier call below is of today there
    acme.timezone = next(
        tz for tz in ("UTC", "Asia/Tokyo") if timezone.now().astimezone(ZoneInfo(tz)).hour >= 1
    )
    acme.save()
    # given 2 minutes to the UK talked earlier today
    record_call_out(acme, bob, "+447700900123", at=timezone.now() - timedelta(minutes=5), talk=120)

    async def scenario() -> tuple[int, int, str]:
        async with outside_world() as pstn, phone(bob) as bob_phone:
            status = await refused(bob_phone, "000447700900999")  # the prefix, then 0044...
            rung = len(pstn.invites_received)
            called, _shown = await call_out(bob_phone, pstn, "00612345678")
            return status, rung, called

    assert asyncio.run(scenario()) == (403, 0, "+33612345678")
    assert ended_call(caller_user=bob.user, reason="fraud_limit").callee_number == "+447700900999"


def test_a_remote_terminal_is_left_out_over_the_limit_while_the_desk_phone_still_takes_the_call(
    acme: Company, bob: Person, carol: Person, admin_mail: str
) -> None:
    acme.main_number = "+33140000000"
    acme.max_outside_calls = 0
    acme.save()
    device_actions.add_remote_terminal(user=bob.user, number="0611223344", ring_delay=0)

    async def scenario() -> int:
        async with outside_world() as pstn, phone(bob) as desk, phone(carol) as carol_phone:
            # when carol calls bob, whose mobile rings with his desk phone
            call = await carol_phone.invite(bob.extension)
            incoming = await desk.wait_incoming(timeout=5)
            # then his desk phone rings and takes the call, audio both ways
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await incoming.wait_rtp(25, timeout=5)
            await call.hangup()
            await incoming.wait_ended(timeout=5)
            # and the carrier never saw a call to his mobile (it would have rung with the desk phone)
            return len(pstn.invites_received)

    assert asyncio.run(scenario()) == 0
    assert ended_call(caller_user=carol.user).callee_user_id == bob.user.pk
