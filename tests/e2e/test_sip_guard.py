"""The SIP guard (R3) against the real Asterisk: a source that keeps failing is cut off at the network
(nftables) within 20 attempts, for a while, while the company's phones elsewhere keep calling; the
carrier is never cut off; an administrator sees the block and lifts it.

Attackers and phones send from loopback addresses of their own (127.0.0.50 and up): 127.0.0.1 stays
trusted by the test guard, since other tests fail on purpose from it."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.conf import settings
from django.test import Client

from directory.models import Company
from sipguard.models import SipBlock
from telephony.models import PhoneNumber
from tests.personas import Person
from tests.sipua import SipTimeout, SipUA

from .carrier import outside_caller
from .conftest import SIPGUARD_TEST_BLOCK_SECONDS
from .phones import phone, server
from .scanner import scan

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("sipguard")]

MAX_ATTEMPTS = 20


async def attempts_until_blocked(ua: SipUA, limit: int = MAX_ATTEMPTS) -> int | None:
    """Register again and again (each a failure); the attempt that got no answer, None if all did."""
    for attempt in range(1, limit + 1):
        try:
            status = await ua.register(timeout=1.5)
        except SipTimeout:
            return attempt
        assert status in (401, 403), f"attempt {attempt} got {status}"
    return None


async def answered(ua: SipUA) -> bool:
    """Whether Asterisk still answers this source (a wrong password's 401 is an answer)."""
    try:
        await ua.register(timeout=1.5)
    except SipTimeout:
        return False
    return True


async def call_with_audio(caller: SipUA, callee: SipUA, dialled: str) -> None:
    outgoing = await caller.invite(dialled)
    incoming = await callee.wait_incoming(timeout=5)
    await incoming.answer()
    await outgoing.wait_status(200, timeout=5)
    await outgoing.wait_rtp(25, timeout=5)
    await incoming.wait_rtp(25, timeout=5)
    await outgoing.hangup()
    await incoming.wait_ended(timeout=5)


def test_a_register_brute_force_is_blocked_within_20_attempts_while_the_companys_phones_elsewhere_call(
    bob: Person, carol: Person
) -> None:
    async def scenario() -> tuple[int | None, bool]:
        attacker = await SipUA.create(
            bob.sip_username, "guess-1234", server=server(), local_host="127.0.0.51"
        )
        try:
            # when someone tries password after password for bob's account from one address
            blocked_at = await attempts_until_blocked(attacker)
            # then bob's and carol's phones, behind other addresses, still register and talk
            async with (
                phone(bob, local_host="127.0.0.61") as bob_phone,
                phone(carol, local_host="127.0.0.62") as carol_phone,
            ):
                await call_with_audio(bob_phone, carol_phone, carol.extension)
            # and the attacker is still cut off
            return blocked_at, await answered(attacker)
        finally:
            await attacker.close()

    blocked_at, attacker_answered = asyncio.run(scenario())
    print("REGISTER brute force: no answer from attempt", blocked_at)

    assert blocked_at is not None, f"still answered after {MAX_ATTEMPTS} wrong passwords"
    assert not attacker_answered
    block = SipBlock.objects.get(address="127.0.0.51")
    assert bob.sip_username in block.accounts
    assert list(block.companies.values_list("slug", flat=True)) == ["acme"]


def test_an_invite_brute_force_calling_out_on_a_guessed_password_is_blocked_within_20_attempts(
    bob: Person,
) -> None:
    async def scenario() -> int | None:
        attacker = await SipUA.create(
            bob.sip_username, "guess-0000", server=server(), local_host="127.0.0.56"
        )
        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    call = await attacker.invite("000979123456", timeout=1.5)
                    assert await call.wait_final(timeout=3) in (401, 403)
                except SipTimeout:
                    return attempt
            return None
        finally:
            await attacker.close()

    blocked_at = asyncio.run(scenario())
    print("INVITE brute force: no answer from attempt", blocked_at)

    assert blocked_at is not None, f"still answered after {MAX_ATTEMPTS} INVITEs"
    assert SipBlock.objects.filter(address="127.0.0.56", accounts__contains=[bob.sip_username]).exists()


def test_a_block_ends_by_itself_after_its_time(bob: Person) -> None:
    async def scenario() -> tuple[int | None, float]:
        attacker = await SipUA.create("nobody-404", "x", server=server(), local_host="127.0.0.52")
        try:
            blocked_at = await attempts_until_blocked(attacker)
            started = time.monotonic()
            deadline = started + SIPGUARD_TEST_BLOCK_SECONDS + 6
            while time.monotonic() < deadline:
                if await answered(attacker):
                    return blocked_at, time.monotonic() - started
            return blocked_at, -1.0
        finally:
            await attacker.close()

    blocked_at, answered_again_after = asyncio.run(scenario())

    assert blocked_at is not None
    assert answered_again_after > 0, "the block never ended"
    # it was a block of about its set length, not a moment's loss
    assert answered_again_after >= SIPGUARD_TEST_BLOCK_SECONDS - 3


def test_an_options_sweep_and_a_register_storm_are_blocked_while_a_call_keeps_its_audio(
    bob: Person, carol: Person
) -> None:
    async def scenario() -> dict[str, float]:
        async with (
            phone(bob, local_host="127.0.0.63") as bob_phone,
            phone(carol, local_host="127.0.0.64") as carol_phone,
        ):
            outgoing = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await outgoing.wait_status(200, timeout=5)
            await outgoing.wait_rtp(10, timeout=5)
            before = (outgoing.rtp_received, incoming.rtp_received)
            started = time.monotonic()
            # when a scanner sweeps 300 extensions with OPTIONS and another storms REGISTERs
            sweep, storm = await asyncio.gather(
                scan("127.0.0.53", "OPTIONS", [str(100 + n) for n in range(300)], rate=200),
                scan("127.0.0.54", "REGISTER", [f"user{n}" for n in range(1000)], rate=500),
            )
            elapsed = time.monotonic() - started
            during = (outgoing.rtp_received - before[0], incoming.rtp_received - before[1])
            # and the call still carries audio afterwards, and a new call can be made
            await outgoing.wait_rtp(outgoing.rtp_received + 10, timeout=3)
            await outgoing.hangup()
            await incoming.wait_ended(timeout=5)
            await call_with_audio(carol_phone, bob_phone, bob.extension)
        expected = 50 * elapsed  # 20 ms packets
        return {
            "sweep_sent": sweep.sent,
            "sweep_answered": sweep.answered,
            "sweep_last_answer_s": round(sweep.last_answer_after, 3),
            "storm_sent": storm.sent,
            "storm_answered": storm.answered,
            "storm_last_answer_s": round(storm.last_answer_after, 3),
            "scan_s": round(elapsed, 2),
            "rtp_to_caller_ratio": round(during[0] / expected, 3),
            "rtp_to_callee_ratio": round(during[1] / expected, 3),
        }

    measured = asyncio.run(scenario())
    print("SIP scan measurements:", measured)

    # then both scanners were cut off early: a handful of answers, then silence
    assert measured["sweep_answered"] <= 40, measured
    assert measured["storm_answered"] <= 60, measured
    assert measured["sweep_last_answer_s"] < 1.0 and measured["storm_last_answer_s"] < 1.0, measured
    # and the call's audio went on both ways meanwhile (at least 80% of its packets)
    assert measured["rtp_to_caller_ratio"] >= 0.8 and measured["rtp_to_callee_ratio"] >= 0.8, measured
    assert set(SipBlock.objects.values_list("address", flat=True)) == {"127.0.0.53", "127.0.0.54"}


def test_the_carriers_address_is_never_blocked(acme: Company, bob: Person) -> None:
    PhoneNumber.objects.create(
        company=acme, number="+33140000101", destination=PhoneNumber.Destination.USER, user=bob.user
    )

    async def scenario() -> tuple[int, int, str]:
        # when the carrier's address sends what would get anyone else blocked (its REGISTERs fail)
        storm = await scan(settings.CARRIER_ADDRESS, "REGISTER", [f"user{n}" for n in range(100)], rate=200)
        # then an outside call through it still reaches bob
        async with outside_caller("+33612345678") as caller, phone(bob) as bob_phone:
            call = await caller.invite("+33140000101")
            incoming = await bob_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await call.hangup()
            return storm.sent, storm.answered, incoming.caller_number

    sent, answers, shown = asyncio.run(scenario())

    assert answers == sent == 100
    assert shown == "+33612345678"
    assert not SipBlock.objects.filter(address=settings.CARRIER_ADDRESS).exists()


def test_an_administrator_sees_the_block_of_a_source_that_tried_their_accounts_and_lifts_it(
    alice: Person, bob: Person, gina: Person
) -> None:
    async def attack() -> int | None:
        attacker = await SipUA.create(bob.sip_username, "guess", server=server(), local_host="127.0.0.55")
        try:
            return await attempts_until_blocked(attacker)
        finally:
            await attacker.close()

    async def answered_within(seconds: float) -> float | None:
        ua = await SipUA.create(bob.sip_username, "guess", server=server(), local_host="127.0.0.55")
        try:
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                if await answered(ua):
                    return time.monotonic() - started
            return None
        finally:
            await ua.close()

    # given a source blocked after trying bob's account
    assert asyncio.run(attack()) is not None
    alice_client, gina_client = Client(), Client()
    alice_client.force_login(alice.user)
    gina_client.force_login(gina.user)

    # then alice (Acme's admin) sees it, on the API and on her security page; Globex's admin does not
    seen = alice_client.get("/api/security/sip-blocks/").json()
    assert [(b["address"], b["accounts"]) for b in seen] == [("127.0.0.55", [bob.sip_username])]
    assert gina_client.get("/api/security/sip-blocks/").json() == []
    assert gina_client.post(f"/api/security/sip-blocks/{seen[0]['id']}/lift/").status_code == 404
    assert b"127.0.0.55" in alice_client.get("/admin-console/security/").content

    # when alice lifts it
    assert alice_client.post(f"/api/security/sip-blocks/{seen[0]['id']}/lift/").status_code == 204

    # then the source is answered again at once, long before the block would have ended
    assert asyncio.run(answered_within(SIPGUARD_TEST_BLOCK_SECONDS - 4)) is not None
    block = SipBlock.objects.get(address="127.0.0.55")
    assert (block.lifted_by_id, block.lifted_at is not None) == (alice.user.pk, True)
