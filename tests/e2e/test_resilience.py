"""Calls outlive a crash of the bridge; the bridge outlives a restart of Asterisk."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from ari_bridge.asterisk import AsteriskInstance
from directory.models import Company
from telephony.ari_http import ari_get_json
from telephony.choices import CallOutcome
from telephony.models import PhoneNumber
from tests.personas import Person
from tests.sipua import Call

from .carrier import outside_caller
from .conftest import READY_FILE, bridge_ready
from .phones import FINAL, connected, phone
from .processes import ManagedProcess, wait_until
from .records import answered_call, ended_call

pytestmark = [pytest.mark.e2e]


async def through_a_bridge_crash(bridge: ManagedProcess, call: Call, incoming: Call) -> None:
    """A connected call, while the bridge process dies and a new one starts: it stays up, audio
    flowing both ways (Asterisk kept it), and hanging up afterwards ends both sides (the new bridge
    adopted it)."""
    await asyncio.to_thread(bridge.kill)
    before = (call.rtp_received, incoming.rtp_received)
    READY_FILE.unlink(missing_ok=True)
    await asyncio.to_thread(bridge.start)
    await call.wait_rtp(before[0] + 50, timeout=5)
    await incoming.wait_rtp(before[1] + 50, timeout=5)
    assert not call.ended and not incoming.ended
    await incoming.hangup()
    await call.wait_ended(timeout=5)


def test_a_call_keeps_going_through_a_bridge_crash_and_ends_cleanly_after(
    bridge: ManagedProcess, bob: Person, carol: Person
) -> None:
    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            call, incoming = await connected(bob_phone, carol_phone, carol.extension)
            await asyncio.to_thread(answered_call, caller_user=bob.user)
            await through_a_bridge_crash(bridge, call, incoming)

    asyncio.run(scenario())

    record = ended_call(caller_user=bob.user)
    assert record.outcome == CallOutcome.ANSWERED and record.answered_at is not None
    assert all(leg.ended_at for leg in record.legs.all())


def test_the_bridge_reconnects_by_itself_after_an_asterisk_restart(
    bridge: ManagedProcess, asterisk: AsteriskInstance, bob: Person, carol: Person
) -> None:
    # when Asterisk restarts under a running bridge
    READY_FILE.unlink(missing_ok=True)
    asterisk.stop()
    asterisk.start()

    # then the bridge reconnects and pushes the devices again without anyone's help
    wait_until(bridge_ready, 15, "the bridge to reconnect")
    assert bridge.alive

    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            call = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            await incoming.wait_ended(timeout=5)

    # and the next call works
    asyncio.run(scenario())
    assert ended_call(caller_user=bob.user).outcome == CallOutcome.ANSWERED


def test_a_call_placed_while_the_bridge_is_down_hears_an_announcement_not_silence(
    bridge: ManagedProcess, bob: Person, carol: Person
) -> None:
    # given the bridge is stopped
    bridge.stop()

    async def scenario() -> object:
        async with phone(bob) as bob_phone:
            call = await bob_phone.invite(carol.extension)
            await call.wait_status(FINAL, timeout=20)
            return call

    call = asyncio.run(scenario())

    # then the caller hears the "service unavailable" announcement and gets 503
    assert 183 in call.status_codes  # type: ignore[attr-defined]
    assert call.final_status == 503  # type: ignore[attr-defined]
    READY_FILE.unlink(missing_ok=True)
    bridge.start()


def test_a_carrier_call_after_a_bridge_restart_still_presents_the_outside_callers_number(
    bridge: ManagedProcess, acme: Company, bob: Person
) -> None:
    PhoneNumber.objects.create(company=acme, number="+33140000101", destination="user", user=bob.user)

    # when the bridge process restarts while Asterisk keeps running (so it pushes the carrier trunk
    # onto the one Asterisk already has)
    bridge.stop()
    READY_FILE.unlink(missing_ok=True)
    bridge.start()

    async def scenario() -> tuple[str, str]:
        async with phone(bob) as bob_phone, outside_caller("+33612345678", name="Outside Caller") as outsider:
            call = await outsider.invite("+33140000101")
            incoming = await bob_phone.wait_incoming(timeout=5)
            shown = (incoming.caller_number, incoming.caller_name)
            await call.cancel()
            return shown

    # then a call from the carrier still shows the number the carrier presented, not "anonymous"
    assert asyncio.run(scenario()) == ("+33612345678", "Outside Caller")
    # and the carrier's address is matched once, however many times the bridge pushed it
    identify = ari_get_json("/asterisk/config/dynamic/res_pjsip/identify/carrier") or []
    assert [f["value"] for f in identify if f["attribute"] == "match"] == [
        f"{settings.CARRIER_ADDRESS}/255.255.255.255"
    ]


def test_a_call_back_from_the_voicemail_menu_keeps_going_through_a_bridge_crash(
    bridge: ManagedProcess, web_server: str, bob: Person, carol: Person
) -> None:
    from .test_voicemail_menu import call_back_from_details, leave_message, set_pin

    # given carol called bob back from his message's details, and he answered
    set_pin(carol)
    message = leave_message(carol, bob)

    async def scenario() -> None:
        async with phone(carol) as carol_phone, phone(bob) as bob_phone:
            call, incoming = await call_back_from_details(carol_phone, bob_phone, message)
            await incoming.wait_rtp(25, timeout=5)
            await asyncio.to_thread(answered_call, callee_user=bob.user)
            await through_a_bridge_crash(bridge, call, incoming)

    asyncio.run(scenario())

    record = ended_call(callee_user=bob.user)
    assert record.outcome == CallOutcome.ANSWERED and record.reason != "lost"
    assert all(leg.ended_at for leg in record.legs.all())


def test_the_record_of_a_call_an_asterisk_restart_cut_says_so(
    bridge: ManagedProcess, asterisk: AsteriskInstance, bob: Person, carol: Person
) -> None:
    async def scenario() -> None:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            await connected(bob_phone, carol_phone, carol.extension)
            await asyncio.to_thread(answered_call, caller_user=bob.user)
            # when Asterisk restarts under the call
            READY_FILE.unlink(missing_ok=True)
            await asyncio.to_thread(asterisk.stop)
            await asyncio.to_thread(asterisk.start)
            await asyncio.to_thread(wait_until, bridge_ready, 15, "the bridge to reconnect")

    asyncio.run(scenario())

    # then its record is closed, and says the restart cut it
    record = ended_call(caller_user=bob.user)
    assert record.outcome == CallOutcome.ANSWERED
    assert record.reason == "asterisk_restart"
    assert all(leg.ended_at for leg in record.legs.all())
