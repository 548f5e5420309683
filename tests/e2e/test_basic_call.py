"""101 calls 102: carol's phone rings with bob's name, she answers, they talk, either hangs up."""

from __future__ import annotations

import asyncio

import pytest

from telephony.choices import CallOutcome, LegRole
from tests.personas import Person

from .phones import phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


async def talk(bob: Person, carol: Person, *, who_hangs_up: str) -> dict[str, str]:
    async with phone(bob) as bob_phone, phone(carol) as carol_phone:
        outgoing = await bob_phone.invite(carol.extension)
        incoming = await carol_phone.wait_incoming(timeout=5)
        seen = {"name": incoming.caller_name, "number": incoming.caller_number}
        await outgoing.wait_status(180, timeout=5)  # bob hears ringback
        await incoming.answer()
        await outgoing.wait_status(200, timeout=5)
        # Audio flows both ways through Asterisk.
        await outgoing.wait_rtp(25, timeout=5)
        await incoming.wait_rtp(25, timeout=5)
        # and neither phone was re-INVITEd after answer (simple SIP clients trip on that)
        assert (outgoing.reinvites_received, incoming.reinvites_received) == (0, 0)
        if who_hangs_up == "caller":
            await outgoing.hangup()
            await incoming.wait_ended(timeout=5)
        else:
            await incoming.hangup()
            await outgoing.wait_ended(timeout=5)
        return seen


@pytest.mark.parametrize("who_hangs_up", ["caller", "callee"])
def test_an_answered_call_ends_both_legs_whoever_hangs_up(
    bob: Person, carol: Person, who_hangs_up: str
) -> None:
    # when bob calls carol, she answers, they talk, and one of them hangs up
    seen = asyncio.run(talk(bob, carol, who_hangs_up=who_hangs_up))

    # then carol's phone showed bob's name and extension (B1)
    assert seen == {"name": "Bob", "number": "101"}
    # and the call record says who called whom, when it was answered, and that it was answered
    call = ended_call(caller_user=bob.user)
    assert call.outcome == CallOutcome.ANSWERED
    assert (call.caller_number, call.dialled_number, call.callee_user_id) == ("101", "102", carol.user.id)
    assert call.ringing_at and call.answered_at and call.ended_at
    assert call.started_at <= call.ringing_at <= call.answered_at <= call.ended_at
    assert call.asterisk_server == "ast-test"
    legs = {leg.role: leg for leg in call.legs.all()}
    assert legs[LegRole.CALLER].endpoint == bob.sip_username
    assert legs[LegRole.CALLEE].endpoint == carol.sip_username
    assert all(leg.ended_at is not None and leg.outcome == CallOutcome.ANSWERED for leg in legs.values())
