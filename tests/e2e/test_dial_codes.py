"""Forwarding dial codes (B2) dialled from a real phone: *2xxx / *3, *2*xxx / *031, *2#xxx / *032.

Each code is answered, confirmed aloud and hung up by the platform; the next call shows the change."""

from __future__ import annotations

import asyncio

import pytest

from telephony.choices import CallOutcome, RuleCondition
from telephony.models import Extension, ForwardingRule
from tests.personas import Person
from tests.sipua import SipUA

from .codes import code_call, dial_code, in_db, rung_within
from .phones import FINAL, phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


def rules(person: Person, condition: str) -> list[tuple[str, bool]]:
    """The person's forwarding rules of one condition: (destination number, enabled)."""
    return list(
        ForwardingRule.objects.filter(user=person.user, condition=condition).values_list(
            "destination_number", "enabled"
        )
    )


async def talking(caller: SipUA, callee: SipUA, number: str) -> None:
    """`caller` calls `number`, `callee`'s phone rings and is answered: they are in a call."""
    call = await caller.invite(number)
    incoming = await callee.wait_incoming(timeout=5)
    await incoming.answer()
    await call.wait_status(200, timeout=5)


def test_star2_forwards_every_call_and_star3_stops_it(bob: Person, carol: Person, dave: Person) -> None:
    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            # when bob dials *2103: answered, confirmed aloud, hung up
            assert (await dial_code(bob_phone, "*2103")).confirmation
            assert await in_db(rules, bob, RuleCondition.ALWAYS) == [("103", True)]

            # then carol's call to bob rings dave's phone, showing carol as the caller
            call = await carol_phone.invite(bob.extension)
            on_dave = await dave_phone.wait_incoming(timeout=5)
            assert (on_dave.caller_number, on_dave.caller_name) == ("102", "Carol")
            await on_dave.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(10, timeout=5)
            await call.hangup()
            await on_dave.wait_ended(timeout=5)
            await bob_phone.assert_not_rung()  # forwarded at once: bob's phone never rang

            # when bob dials *3
            assert (await dial_code(bob_phone, "*3")).confirmation
            assert await in_db(rules, bob, RuleCondition.ALWAYS) == [("103", False)]

            # then the next call rings bob again, and not dave
            call = await carol_phone.invite(bob.extension)
            on_bob = await bob_phone.wait_incoming(timeout=5)
            assert on_bob.caller_number == "102"
            await on_bob.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            assert len(dave_phone.invites_received) == 1

    asyncio.run(scenario())

    code_call(bob, "*2103", "forward_always_on")
    code_call(bob, "*3", "forward_always_off")
    forwarded = ended_call(caller_user=carol.user, forwarded_by=bob.user)
    direct = ended_call(caller_user=carol.user, forwarded_by=None)
    assert (forwarded.outcome, forwarded.callee_user_id) == (CallOutcome.ANSWERED, dave.user.id)
    assert (direct.outcome, direct.callee_user_id) == (CallOutcome.ANSWERED, bob.user.id)


def test_star2_star_forwards_when_busy_and_star031_stops_it(
    alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    async def scenario() -> int:
        async with (
            phone(alice) as alice_phone,
            phone(bob) as bob_phone,
            phone(carol) as carol_phone,
            phone(dave) as dave_phone,
        ):
            # when bob dials *2*103
            assert (await dial_code(bob_phone, "*2*103")).confirmation
            assert await in_db(rules, bob, RuleCondition.BUSY) == [("103", True)]

            # then while bob talks with alice, carol's call to him rings dave, showing carol
            await talking(alice_phone, bob_phone, bob.extension)
            call = await carol_phone.invite(bob.extension)
            on_dave = await dave_phone.wait_incoming(timeout=5)
            assert (on_dave.caller_number, on_dave.caller_name) == ("102", "Carol")
            await on_dave.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            assert len(bob_phone.invites_received) == 1  # only alice's call rang bob
            await bob_phone.invites_received[0].hangup()

            # when bob dials *031
            assert (await dial_code(bob_phone, "*031")).confirmation
            assert await in_db(rules, bob, RuleCondition.BUSY) == [("103", False)]

            # then while bob talks with alice again, carol gets the busy signal and dave is not rung
            await talking(alice_phone, bob_phone, bob.extension)
            call = await carol_phone.invite(bob.extension)
            busy = (await call.wait_status(FINAL, timeout=15)).code
            assert len(dave_phone.invites_received) == 1
            assert len(bob_phone.invites_received) == 2
            await bob_phone.invites_received[1].hangup()
            return busy

    assert asyncio.run(scenario()) == 486
    code_call(bob, "*2*103", "forward_busy_on")
    code_call(bob, "*031", "forward_busy_off")
    forwarded = ended_call(caller_user=carol.user, forwarded_by=bob.user)
    assert (forwarded.outcome, forwarded.callee_user_id) == (CallOutcome.ANSWERED, dave.user.id)
    assert ended_call(caller_user=carol.user, forwarded_by=None).outcome == CallOutcome.BUSY


def test_star2_hash_forwards_when_unanswered_and_star032_stops_it(
    bob: Person, carol: Person, dave: Person
) -> None:
    # given bob's phone would ring 10 s before his voicemail takes the call
    Extension.objects.filter(user=bob.user).update(ring_timeout=10)

    async def scenario() -> float:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            # when bob dials *2#103, and sets that rule to 5 s (MyIstra's "no answer after")
            assert (await dial_code(bob_phone, "*2#103")).confirmation
            assert await in_db(rules, bob, RuleCondition.NO_ANSWER) == [("103", True)]
            await in_db(ForwardingRule.objects.filter(user=bob.user).update, no_answer_after=5)

            # then carol's call rings bob; he does not answer; 5 s later it rings dave instead
            call = await carol_phone.invite(bob.extension)
            on_bob = await bob_phone.wait_incoming(timeout=5)
            on_dave = await dave_phone.wait_incoming(timeout=10)
            assert on_bob.ringing_since is not None and on_dave.ringing_since is not None
            delay = on_dave.ringing_since - on_bob.ringing_since
            await on_bob.wait_cancelled(timeout=2)
            assert (on_dave.caller_number, on_dave.caller_name) == ("102", "Carol")
            await on_dave.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()

            # when bob dials *032
            assert (await dial_code(bob_phone, "*032")).confirmation
            assert await in_db(rules, bob, RuleCondition.NO_ANSWER) == [("103", False)]

            # then the next call rings bob past those 5 s, and dave's phone stays silent
            call = await carol_phone.invite(bob.extension)
            on_bob = await bob_phone.wait_incoming(timeout=5)
            assert not await rung_within(dave_phone, 6.5)
            await on_bob.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            assert len(dave_phone.invites_received) == 1
            return delay

    delay = asyncio.run(scenario())

    assert 4.8 <= delay < 6.5, f"dave rang {delay:.2f}s after bob"
    code_call(bob, "*2#103", "forward_no_answer_on")
    code_call(bob, "*032", "forward_no_answer_off")
    forwarded = ended_call(caller_user=carol.user, forwarded_by=bob.user)
    assert (forwarded.outcome, forwarded.callee_user_id) == (CallOutcome.ANSWERED, dave.user.id)


@pytest.mark.parametrize("code", ["*2199", "*2101"], ids=["unknown-extension", "own-extension"])
def test_forwarding_to_an_unknown_or_ones_own_extension_is_refused_aloud(
    code: str, bob: Person, carol: Person
) -> None:
    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            # when bob dials the code: answered, the refusal is heard, hung up
            assert (await dial_code(bob_phone, code)).refusal
            # then nothing changed: carol's next call rings bob
            call = await carol_phone.invite(bob.extension)
            on_bob = await bob_phone.wait_incoming(timeout=5)
            await on_bob.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()

    asyncio.run(scenario())

    assert not ForwardingRule.objects.filter(user=bob.user).exists()
    code_call(bob, code, "forward_always_on")
