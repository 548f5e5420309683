"""Forwarding rules (B2) on real calls: each condition, filters by origin, presence and time, outside
destinations through the carrier, barring on a forward, and loops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config import test_settings
from directory.models import Company
from telephony.choices import CallOutcome, Presence, RuleCondition, RuleDestination, RuleOrigin
from telephony.models import BarringRule, CallSettings, ForwardingRule
from tests.personas import Person

from .carrier import outside_caller, outside_world
from .phones import FINAL, phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]

MOBILE = "0612345678"
MOBILE_E164 = "+33612345678"


def rule(
    person: Person, condition: str, destination: str = RuleDestination.NUMBER, **fields: object
) -> ForwardingRule:
    assert person.user.company is not None
    return ForwardingRule.objects.create(
        company=person.user.company, user=person.user, condition=condition, destination=destination, **fields
    )


def test_an_always_rule_rings_the_destination_instead_with_the_callers_identity(
    bob: Person, carol: Person, dave: Person
) -> None:
    rule(bob, RuleCondition.ALWAYS, destination_number=dave.extension, label="to Dave")

    async def scenario() -> tuple[str, int]:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            call = await carol_phone.invite(bob.extension)
            incoming = await dave_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await call.hangup()
            return incoming.caller_number, len(bob_phone.invites_received)

    shown, bob_rung = asyncio.run(scenario())

    assert shown == carol.extension
    assert bob_rung == 0
    record = ended_call(caller_user=carol.user)
    assert (record.outcome, record.callee_user_id, record.forwarded_by_id) == (
        CallOutcome.ANSWERED,
        dave.user.pk,
        bob.user.pk,
    )


def test_a_no_answer_rule_rings_the_user_first_then_the_destination_after_its_delay(
    bob: Person, carol: Person, dave: Person
) -> None:
    rule(bob, RuleCondition.NO_ANSWER, destination_number=dave.extension, no_answer_after=5)

    async def scenario() -> float:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            call = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            started = asyncio.get_running_loop().time()
            incoming = await dave_phone.wait_incoming(timeout=10)
            waited = asyncio.get_running_loop().time() - started
            # bob's phone stopped ringing when the call moved on
            await bob_phone.calls[0].wait_cancelled(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            return waited

    waited = asyncio.run(scenario())

    assert 4.0 <= waited <= 7.0
    assert ended_call(caller_user=carol.user).callee_user_id == dave.user.pk


def test_a_busy_rule_takes_the_second_call_while_the_user_is_talking(
    bob: Person, carol: Person, dave: Person, alice: Person
) -> None:
    rule(bob, RuleCondition.BUSY, destination_number=dave.extension)

    async def scenario() -> None:
        async with (
            phone(bob) as bob_phone,
            phone(carol) as carol_phone,
            phone(dave) as dave_phone,
            phone(alice) as alice_phone,
        ):
            first = await alice_phone.invite(bob.extension)
            ringing = await bob_phone.wait_incoming(timeout=5)
            await ringing.answer()
            await first.wait_status(200, timeout=5)
            second = await carol_phone.invite(bob.extension)
            incoming = await dave_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await second.wait_status(200, timeout=5)
            assert len(bob_phone.invites_received) == 1
            await second.hangup()
            await first.hangup()

    asyncio.run(scenario())


def test_an_unreachable_rule_forwards_when_no_phone_is_registered(
    bob: Person, carol: Person, dave: Person
) -> None:
    rule(bob, RuleCondition.UNREACHABLE, destination_number=dave.extension)

    async def scenario() -> None:
        async with phone(carol) as carol_phone, phone(dave) as dave_phone:
            call = await carol_phone.invite(bob.extension)  # bob's phone is not registered
            incoming = await dave_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()

    asyncio.run(scenario())


def test_a_rule_for_external_calls_leaves_internal_calls_ringing_the_user(
    acme: Company, bob: Person, carol: Person, dave: Person
) -> None:
    from telephony.models import PhoneNumber

    PhoneNumber.objects.create(company=acme, number="+33140000101", destination="user", user=bob.user)
    rule(bob, RuleCondition.ALWAYS, destination_number=dave.extension, origin=RuleOrigin.EXTERNAL)

    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            internal = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await internal.cancel()
            async with outside_caller(MOBILE_E164) as outsider:
                external = await outsider.invite("+33140000101")
                incoming = await dave_phone.wait_incoming(timeout=5)
                assert incoming.caller_number == MOBILE_E164
                await incoming.answer()
                await external.wait_status(200, timeout=5)
                await external.hangup()
            assert len(bob_phone.invites_received) == 1

    asyncio.run(scenario())


def test_a_holiday_rule_forwards_only_while_the_user_is_on_holiday(
    bob: Person, carol: Person, dave: Person
) -> None:
    rule(bob, RuleCondition.ALWAYS, destination_number=dave.extension, presences=[Presence.HOLIDAY])
    settings = CallSettings.objects.create(user=bob.user, presence=Presence.HOLIDAY)

    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            call = await carol_phone.invite(bob.extension)
            await dave_phone.wait_incoming(timeout=5)
            await call.cancel()
            # back from holiday: the rule is off without touching it
            settings.presence = Presence.AVAILABLE
            await asyncio.to_thread(settings.save)
            call = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            assert len(dave_phone.invites_received) == 1

    asyncio.run(scenario())


def test_a_time_window_rule_follows_the_company_clock(
    acme: Company, bob: Person, carol: Person, dave: Person
) -> None:
    """Working hours are read in the company's time zone, not the server's."""
    acme.timezone = "Pacific/Auckland"
    acme.save()
    local = datetime.now(ZoneInfo("Pacific/Auckland"))
    in_window = (
        (local - timedelta(hours=1)).time().replace(second=0, microsecond=0),
        (local + timedelta(hours=1)).time().replace(second=0, microsecond=0),
    )
    past = (
        (local - timedelta(hours=3)).time().replace(second=0, microsecond=0),
        (local - timedelta(hours=2)).time().replace(second=0, microsecond=0),
    )
    # the past window: not active now; it would forward to carol
    rule(bob, RuleCondition.ALWAYS, destination_number=carol.extension, time_from=past[0], time_to=past[1])
    window = rule(
        bob,
        RuleCondition.ALWAYS,
        destination_number=dave.extension,
        time_from=in_window[0],
        time_to=in_window[1],
        days=[local.weekday()],
        position=1,
    )

    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as caller, phone(dave) as dave_phone:
            call = await caller.invite(bob.extension)
            await dave_phone.wait_incoming(timeout=5)
            await call.cancel()
            # the same rule on another weekday is not active today: bob's phone rings
            window.days = [(local.weekday() + 1) % 7]
            await asyncio.to_thread(window.save)
            call = await caller.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()

    asyncio.run(scenario())


def test_a_forward_to_an_outside_number_rings_it_through_the_carrier(
    acme: Company, bob: Person, carol: Person
) -> None:
    acme.main_number = "+33140000000"
    acme.save()
    CallSettings.objects.create(user=bob.user, mobile_number=MOBILE)
    rule(bob, RuleCondition.ALWAYS, destination=RuleDestination.MOBILE)

    async def scenario() -> tuple[str, str]:
        async with outside_world() as pstn, phone(carol) as carol_phone:
            call = await carol_phone.invite(bob.extension)
            incoming = await pstn.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await incoming.wait_rtp(25, timeout=5)
            await call.hangup()
            await incoming.wait_ended(timeout=5)
            return incoming.called_number, incoming.caller_number

    called, shown = asyncio.run(scenario())

    assert called == MOBILE_E164
    # an internal caller is shown outside with the forwarding user's outside number: the company's
    assert shown == "+33140000000"
    record = ended_call(caller_user=carol.user)
    assert (record.outcome, record.callee_number, record.forwarded_by_id) == (
        CallOutcome.ANSWERED,
        MOBILE_E164,
        bob.user.pk,
    )


def test_a_forward_to_a_number_the_user_may_not_call_is_passed_over(
    acme: Company, bob: Person, carol: Person
) -> None:
    """Toll fraud: barring mobiles for bob also stops his rule forwarding to a mobile."""
    rule(bob, RuleCondition.ALWAYS, destination_number=MOBILE_E164)
    BarringRule.objects.create(company=acme, direction="out", number_class="mobile")

    async def scenario() -> None:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            call = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            await pstn.assert_not_rung()

    asyncio.run(scenario())


def test_forwarding_in_a_loop_ends_on_a_phone(bob: Person, carol: Person, dave: Person) -> None:
    """bob forwards to carol, carol forwards back to bob: dave's call rings bob's phone."""
    rule(bob, RuleCondition.ALWAYS, destination_number=carol.extension)
    rule(carol, RuleCondition.ALWAYS, destination_number=bob.extension)

    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            call = await dave_phone.invite(bob.extension)
            incoming = await bob_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            assert len(carol_phone.invites_received) == 0

    asyncio.run(scenario())


def test_a_forwarded_call_nobody_answers_ends_in_the_last_users_voicemail_or_as_no_answer(
    bob: Person, carol: Person, dave: Person
) -> None:
    rule(bob, RuleCondition.ALWAYS, destination_number=dave.extension)
    from telephony.models import Extension

    Extension.objects.filter(user=dave.user).update(ring_timeout=5)

    async def scenario() -> int:
        async with phone(carol) as carol_phone, phone(dave) as dave_phone:
            call = await carol_phone.invite(bob.extension)
            await dave_phone.wait_incoming(timeout=5)
            # dave's voicemail answers after his ring timeout
            await call.wait_status([200, *FINAL], timeout=10)
            status = call.final_status or 0
            await call.hangup()
            return status

    assert asyncio.run(scenario()) == 200
    assert ended_call(caller_user=carol.user).reason == "voicemail"


@pytest.fixture
def frozen_clock() -> Iterator[Callable[[str], None]]:
    """Freeze the bridge's routing clock (telephony.clock) at an ISO instant."""
    path = Path(test_settings.FAKE_CLOCK_FILE)

    def freeze(instant: str) -> None:
        path.write_text(instant)

    try:
        yield freeze
    finally:
        path.unlink(missing_ok=True)


def test_office_hours_follow_the_company_clock_across_the_daylight_saving_change(
    acme: Company, bob: Person, carol: Person, dave: Person, frozen_clock: Callable[[str], None]
) -> None:
    """A weekday-and-Sunday 9:00-19:00 rule of a Paris company, on the day clocks go forward
    (Sunday 29 March 2026, 02:00 -> 03:00): 07:30 UTC is 09:30 in Paris, inside the window, though
    it would be outside in UTC or in winter time; 06:30 UTC is 08:30 in Paris, outside."""
    acme.timezone = "Europe/Paris"
    acme.save()
    rule(
        bob,
        RuleCondition.ALWAYS,
        destination_number=dave.extension,
        days=[0, 1, 2, 3, 4, 6],
        time_from=time(9, 0),
        time_to=time(19, 0),
    )

    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            frozen_clock("2026-03-29T07:30:00+00:00")
            call = await carol_phone.invite(bob.extension)
            await dave_phone.wait_incoming(timeout=5)
            await call.cancel()
            frozen_clock("2026-03-29T06:30:00+00:00")
            call = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            assert len(dave_phone.invites_received) == 1

    asyncio.run(scenario())
