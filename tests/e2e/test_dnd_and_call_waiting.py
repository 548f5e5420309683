"""Do not disturb (B3: *8 / *9) and call waiting (B4: *44 / *43, *42xxx / *41xxx) dialled from a
real phone, and a company's own codes in place of the defaults.

Each code is answered, confirmed aloud and hung up by the platform; the next call shows the change."""

from __future__ import annotations

import asyncio

import pytest

from directory.models import Company
from telephony.choices import CallOutcome
from telephony.models import CallSettings, Device
from tests.personas import Person
from tests.sipua import SipUA

from .codes import code_call, dial_code, dial_unknown, in_db
from .phones import FINAL, phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


def dnd(person: Person) -> bool:
    return CallSettings.objects.filter(user=person.user, dnd=True).exists()


def max_calls(person: Person) -> list[int]:
    """How many calls at once each of the person's phones takes."""
    return list(Device.objects.filter(user=person.user).values_list("max_calls", flat=True))


async def second_call_while_talking(callee: SipUA, talker: SipUA, second: SipUA, number: str) -> int:
    """`talker` calls `number` and `callee` answers; then `second` calls the same number.

    Returns 180 when `callee`'s phone rings with the second call (call waiting), else the second
    call's final status; the calls are hung up afterwards."""
    first = await talker.invite(number)
    incoming = await callee.wait_incoming(timeout=5)
    await incoming.answer()
    await first.wait_status(200, timeout=5)
    rung_before = len(callee.invites_received)
    call = await second.invite(number)
    status = (await call.wait_status([180, *FINAL], timeout=15)).code
    if status == 180:
        waiting = await callee.wait_incoming(timeout=5)
        assert waiting.caller_number == second.username.rsplit("-", 1)[-1]
        await call.hangup()
        await waiting.wait_cancelled(timeout=5)
    else:
        assert len(callee.invites_received) == rung_before, "the busy phone was rung"
    await first.hangup()
    await incoming.wait_ended(timeout=5)
    return status


def test_star8_sends_calls_to_voicemail_and_star9_lets_them_ring(bob: Person, carol: Person) -> None:
    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            # when bob dials *8
            assert (await dial_code(bob_phone, "*8")).confirmation
            assert await in_db(dnd, bob)

            # then carol's call is answered by bob's voicemail: she hears his greeting; his phone never rings
            call = await carol_phone.invite(bob.extension)
            await call.wait_status(200, timeout=10)
            await call.wait_voiced(75, timeout=10)  # 1.5 s of it: more than the beep
            await call.hangup()
            await bob_phone.assert_not_rung()

            # when bob dials *9
            assert (await dial_code(bob_phone, "*9")).confirmation
            assert not await in_db(dnd, bob)

            # then carol's next call rings bob's phone
            call = await carol_phone.invite(bob.extension)
            on_bob = await bob_phone.wait_incoming(timeout=5)
            assert on_bob.caller_number == "102"
            await on_bob.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()

    asyncio.run(scenario())

    code_call(bob, "*8", "dnd_on")
    code_call(bob, "*9", "dnd_off")
    to_voicemail = ended_call(caller_user=carol.user, reason="voicemail")
    assert (to_voicemail.callee_user_id, to_voicemail.outcome) == (bob.user.id, CallOutcome.NO_ANSWER)
    assert ended_call(caller_user=carol.user, outcome=CallOutcome.ANSWERED).callee_user_id == bob.user.id


@pytest.mark.parametrize(
    ("on", "off"), [("*44", "*43"), ("*42101", "*41101")], ids=["all-calls", "own-extension"]
)
def test_call_waiting_codes_let_a_second_call_ring_or_make_it_busy(
    on: str, off: str, bob: Person, carol: Person, dave: Person
) -> None:
    async def scenario() -> tuple[int, int]:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            # when bob turns call waiting on
            assert (await dial_code(bob_phone, on)).confirmation
            assert await in_db(max_calls, bob) == [2]
            # then while he talks with carol, dave's call rings his phone too
            waiting_on = await second_call_while_talking(bob_phone, carol_phone, dave_phone, bob.extension)

            # when he turns it off
            assert (await dial_code(bob_phone, off)).confirmation
            assert await in_db(max_calls, bob) == [1]
            # then while he talks with carol, dave gets the busy signal
            waiting_off = await second_call_while_talking(bob_phone, carol_phone, dave_phone, bob.extension)
            return waiting_on, waiting_off

    assert asyncio.run(scenario()) == (180, 486)
    on_feature, off_feature = (
        ("call_waiting_on", "call_waiting_off")
        if on == "*44"
        else ("call_waiting_on_for", "call_waiting_off_for")
    )
    code_call(bob, on, on_feature)
    code_call(bob, off, off_feature)


def test_only_an_administrator_sets_call_waiting_for_a_colleague(
    alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    async def scenario() -> int:
        async with (
            phone(alice) as alice_phone,
            phone(bob) as bob_phone,
            phone(carol) as carol_phone,
            phone(dave) as dave_phone,
        ):
            # when bob (a plain user) dials *42102 for carol: he is told he may not; nothing changes
            assert (await dial_code(bob_phone, "*42102")).not_allowed
            assert await in_db(max_calls, carol) == [1]

            # when alice (the administrator) dials it: confirmed, and carol's phone takes two calls
            assert (await dial_code(alice_phone, "*42102")).confirmation
            assert await in_db(max_calls, carol) == [2]
            return await second_call_while_talking(carol_phone, bob_phone, dave_phone, carol.extension)

    assert asyncio.run(scenario()) == 180
    code_call(bob, "*42102", "call_waiting_on_for")
    code_call(alice, "*42102", "call_waiting_on_for")
    assert max_calls(bob) == [1] and max_calls(alice) == [1]


def test_a_companys_own_codes_replace_the_defaults(acme: Company, bob: Person) -> None:
    # given Acme's do-not-disturb codes are *78 and *79
    acme.dial_codes = {"dnd_on": "*78", "dnd_off": "*79"}
    acme.save(update_fields=["dial_codes"])

    async def scenario() -> int:
        async with phone(bob) as bob_phone:
            # when bob dials *78: confirmed, DND is on; *79 turns it off
            assert (await dial_code(bob_phone, "*78")).confirmation
            assert await in_db(dnd, bob)
            assert (await dial_code(bob_phone, "*79")).confirmation
            assert not await in_db(dnd, bob)
            # the default *8 is not a code any more: an unknown number, and DND stays off
            status = await dial_unknown(bob_phone, "*8")
            assert not await in_db(dnd, bob)
            return status

    assert asyncio.run(scenario()) == 404
    code_call(bob, "*78", "dnd_on")
    code_call(bob, "*79", "dnd_off")
    assert ended_call(caller_user=bob.user, dialled_number="*8").reason == "unknown_number"
