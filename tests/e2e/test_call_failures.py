"""Calls that do not connect end with the right SIP status, an announcement, and the right record."""

from __future__ import annotations

import asyncio
import time

import pytest

from telephony.choices import CallOutcome
from telephony.models import Extension
from tests.personas import Person
from voicemail.models import Mailbox

from .phones import FINAL, phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


def announced(call: object) -> bool:
    """The caller got early media (183 Session Progress) before the final status: the announcement."""
    return 183 in call.status_codes  # type: ignore[attr-defined]


def test_an_unknown_number_gets_404_after_an_announcement(bob: Person) -> None:
    async def scenario() -> object:
        async with phone(bob) as bob_phone:
            call = await bob_phone.invite("199")
            await call.wait_status(FINAL, timeout=15)
            return call

    call = asyncio.run(scenario())

    assert call.final_status == 404  # type: ignore[attr-defined]
    assert announced(call)
    record = ended_call(caller_user=bob.user)
    assert (record.outcome, record.reason, record.callee_user_id) == (
        CallOutcome.FAILED,
        "unknown_number",
        None,
    )


def test_a_user_already_in_a_call_is_busy(bob: Person, carol: Person, dave: Person) -> None:
    async def scenario() -> object:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            # given carol is talking with dave
            first = await dave_phone.invite(carol.extension)
            ringing = await carol_phone.wait_incoming(timeout=5)
            await ringing.answer()
            await first.wait_status(200, timeout=5)
            # when bob calls carol
            second = await bob_phone.invite(carol.extension)
            await second.wait_status(FINAL, timeout=15)
            # then carol's phone does not ring a second time
            assert len(carol_phone.invites_received) == 1
            await first.hangup()
            return second

    second = asyncio.run(scenario())

    assert second.final_status == 486  # type: ignore[attr-defined]
    assert announced(second)
    assert ended_call(caller_user=bob.user).outcome == CallOutcome.BUSY


def test_a_phone_that_rejects_as_busy_makes_the_call_busy(bob: Person, carol: Person) -> None:
    async def scenario() -> object:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            call = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.reject(486)
            await call.wait_status(FINAL, timeout=15)
            return call

    call = asyncio.run(scenario())

    assert call.final_status == 486  # type: ignore[attr-defined]
    assert ended_call(caller_user=bob.user).outcome == CallOutcome.BUSY


def test_nobody_answering_ends_the_call_after_the_ring_timeout(bob: Person, carol: Person) -> None:
    # given carol's calls ring for 5 seconds, and she has turned her voicemail off
    Extension.objects.filter(user=carol.user).update(ring_timeout=5)
    Mailbox.objects.filter(user=carol.user).update(enabled=False)

    async def scenario() -> tuple[object, float, bool]:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            started = time.monotonic()
            call = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.wait_cancelled(timeout=10)
            rang_for = time.monotonic() - started
            await call.wait_status(FINAL, timeout=15)
            return call, rang_for, incoming.cancelled

    call, rang_for, cancelled = asyncio.run(scenario())

    # then carol's phone rang about 5 s and stopped; bob heard an announcement and got 480
    assert cancelled and 4.8 <= rang_for < 7
    assert call.final_status == 480  # type: ignore[attr-defined]
    assert announced(call)
    record = ended_call(caller_user=bob.user)
    assert record.outcome == CallOutcome.NO_ANSWER and record.answered_at is None


def test_a_caller_hanging_up_while_it_rings_cancels_the_call(bob: Person, carol: Person) -> None:
    async def scenario() -> bool:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            call = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await call.wait_status(180, timeout=5)
            await call.cancel()
            await incoming.wait_cancelled(timeout=5)
            return incoming.cancelled

    assert asyncio.run(scenario())
    record = ended_call(caller_user=bob.user)
    assert record.outcome == CallOutcome.CANCELLED and record.callee_user_id == carol.user.id


def test_a_phone_cannot_reach_another_companys_extension(bob: Person, gail: Person) -> None:
    # given Globex has a 102 (gail) and Acme has none
    async def scenario() -> object:
        async with phone(bob) as bob_phone, phone(gail) as gail_phone:
            call = await bob_phone.invite("102")
            await call.wait_status(FINAL, timeout=15)
            assert gail_phone.invites_received == []
            return call

    call = asyncio.run(scenario())

    # then bob is told the number does not exist, and Globex's phone never rang
    assert call.final_status == 404  # type: ignore[attr-defined]
    assert ended_call(caller_user=bob.user).reason == "unknown_number"


def test_the_same_extension_in_two_companies_rings_only_the_callers_colleague(
    bob: Person, carol: Person, gail: Person
) -> None:
    async def scenario() -> int:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(gail) as gail_phone:
            call = await bob_phone.invite("102")
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            return len(gail_phone.invites_received)

    assert asyncio.run(scenario()) == 0
    assert ended_call(caller_user=bob.user).callee_user_id == carol.user.id
