"""Calls to and from outside through the carrier: the prefix (C2), the number presented (A4),
speed dials (C3), outgoing barring (C4), incoming barring (B5) and black/white lists (B6)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from directory.models import Company
from telephony.choices import CallerIdChoice, CallOutcome, Screening
from telephony.models import BarringRule, CallSettings, PhoneNumber, SpeedDial
from tests.personas import Person
from tests.sipua import SipUA
from voicemail.models import Message

from .carrier import outside_caller, outside_world
from .phones import FINAL, phone
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]

BOB_DID = "+33140000101"


@pytest.fixture
def numbers(acme: Company, bob: Person) -> None:
    acme.main_number = "+33140000000"
    acme.save()
    PhoneNumber.objects.create(company=acme, number=BOB_DID, destination="user", user=bob.user)


async def call_out(caller: SipUA, pstn: SipUA, dialled: str) -> tuple[str, str]:
    """Dial `dialled`, let the outside number answer; return the number called and the one shown."""
    call = await caller.invite(dialled)
    incoming = await pstn.wait_incoming(timeout=5)
    await incoming.answer()
    await call.wait_status(200, timeout=5)
    await call.wait_rtp(25, timeout=5)
    await incoming.wait_rtp(25, timeout=5)
    await call.hangup()
    await incoming.wait_ended(timeout=5)
    return incoming.called_number, incoming.caller_number


async def refused(caller: SipUA, dialled: str) -> int:
    call = await caller.invite(dialled)
    await call.wait_status(FINAL, timeout=15)
    assert 183 in call.status_codes, "the refusal is announced"
    return call.final_status or 0


@pytest.mark.usefixtures("numbers")
def test_an_outside_number_dialled_with_the_prefix_goes_out_showing_the_users_public_number(
    bob: Person,
) -> None:
    async def scenario() -> tuple[str, str]:
        async with outside_world() as pstn, phone(bob) as bob_phone:
            return await call_out(bob_phone, pstn, "00612345678")

    assert asyncio.run(scenario()) == ("+33612345678", BOB_DID)
    record = ended_call(caller_user=bob.user)
    assert (record.outcome, record.callee_number) == (CallOutcome.ANSWERED, "+33612345678")


@pytest.mark.usefixtures("numbers")
def test_a_national_number_dialled_without_the_prefix_is_refused_and_never_goes_out(bob: Person) -> None:
    async def scenario() -> tuple[int, int]:
        async with outside_world() as pstn, phone(bob) as bob_phone:
            # bob forgets the outside prefix: 0612345678 would go out as 612345678
            status = await refused(bob_phone, "0612345678")
            return status, len(pstn.invites_received)

    assert asyncio.run(scenario()) == (404, 0)
    assert ended_call(caller_user=bob.user, dialled_number="0612345678").reason == "unknown_number"


@pytest.mark.usefixtures("numbers")
def test_the_presented_number_follows_the_users_choice(bob: Person, carol: Person) -> None:
    CallSettings.objects.create(user=bob.user, caller_id=CallerIdChoice.COMPANY)
    CallSettings.objects.create(user=carol.user, caller_id=CallerIdChoice.WITHHELD)

    async def scenario() -> tuple[str, str]:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            _called, bob_shown = await call_out(bob_phone, pstn, "00140506070")
            incoming_task = asyncio.ensure_future(pstn.wait_incoming(timeout=5))
            call = await carol_phone.invite("00140506070")
            incoming = await incoming_task
            privacy = incoming.invite.get("Privacy") if incoming.invite else None
            await call.cancel()
            return bob_shown, f"{incoming.caller_number}|{privacy}"

    bob_shown, carol_shown = asyncio.run(scenario())

    assert bob_shown == "+33140000000"
    assert carol_shown.split("|")[0].lower() == "anonymous"


@pytest.mark.usefixtures("numbers")
def test_a_speed_dial_calls_its_full_number(acme: Company, bob: Person) -> None:
    SpeedDial.objects.create(company=acme, short_number="230", number="0145678900", label="Mr Jones")

    async def scenario() -> tuple[str, str]:
        async with outside_world() as pstn, phone(bob) as bob_phone:
            return await call_out(bob_phone, pstn, "230")

    assert asyncio.run(scenario())[0] == "+33145678900"


@pytest.mark.usefixtures("numbers")
def test_outgoing_barring_forbids_mobiles_except_an_allowed_number(acme: Company, bob: Person) -> None:
    BarringRule.objects.create(company=acme, direction="out", prefix="06")
    BarringRule.objects.create(company=acme, direction="out", prefix="0612345678", allow=True)

    async def scenario() -> tuple[int, str]:
        async with outside_world() as pstn, phone(bob) as bob_phone:
            status = await refused(bob_phone, "00698765432")
            await pstn.assert_not_rung()
            called, _shown = await call_out(bob_phone, pstn, "00612345678")
            return status, called

    status, allowed = asyncio.run(scenario())

    assert status == 403
    assert allowed == "+33612345678"
    assert ended_call(caller_user=bob.user, dialled_number="00698765432").reason == "barred"


@pytest.mark.usefixtures("numbers")
def test_a_barred_speed_dial_is_refused_too(acme: Company, bob: Person) -> None:
    SpeedDial.objects.create(company=acme, short_number="231", number="+447700900123")
    BarringRule.objects.create(company=acme, direction="out", number_class="international", user=bob.user)

    async def scenario() -> int:
        async with outside_world() as pstn, phone(bob) as bob_phone:
            status = await refused(bob_phone, "231")
            await pstn.assert_not_rung()
            return status

    assert asyncio.run(scenario()) == 403


@pytest.mark.usefixtures("numbers")
def test_an_outside_caller_is_shown_with_their_number_and_anonymous_ones_can_be_refused(
    bob: Person,
) -> None:
    async def scenario() -> tuple[str, int]:
        async with phone(bob) as bob_phone:
            async with outside_caller("+33699887766") as outsider:
                call = await outsider.invite(BOB_DID)
                incoming = await bob_phone.wait_incoming(timeout=5)
                shown = incoming.caller_number
                await call.cancel()
            async with outside_caller("anonymous") as anonymous:
                call = await anonymous.invite(BOB_DID)
                incoming = await bob_phone.wait_incoming(timeout=5)
                assert incoming.caller_number == "anonymous"
                await call.cancel()
            await asyncio.to_thread(
                CallSettings.objects.update_or_create, user=bob.user, defaults={"reject_anonymous": True}
            )
            async with outside_caller("anonymous") as anonymous:
                status = await refused(anonymous, BOB_DID)
            return shown, status

    shown, status = asyncio.run(scenario())

    assert shown == "+33699887766"
    assert status == 403


@pytest.mark.usefixtures("numbers")
def test_incoming_barring_refuses_international_callers(acme: Company, bob: Person) -> None:
    BarringRule.objects.create(company=acme, direction="in", number_class="international")

    async def scenario() -> tuple[int, str]:
        async with phone(bob) as bob_phone:
            async with outside_caller("+4420794600") as abroad:
                status = await refused(abroad, BOB_DID)
            async with outside_caller("+33145000000") as national:
                call = await national.invite(BOB_DID)
                incoming = await bob_phone.wait_incoming(timeout=5)
                await call.cancel()
            return status, incoming.caller_number

    status, national = asyncio.run(scenario())

    assert status == 403
    assert national == "+33145000000"


def test_a_blacklist_refuses_listed_colleagues_and_a_whitelist_lets_only_listed_ones_in(
    bob: Person, carol: Person, dave: Person
) -> None:
    settings = CallSettings.objects.create(
        user=bob.user, screening=Screening.BLACKLIST, screened_numbers=[carol.extension]
    )

    async def scenario() -> tuple[int, int]:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone, phone(dave) as dave_phone:
            blacklisted = await refused(carol_phone, bob.extension)
            call = await dave_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            settings.screening = Screening.WHITELIST
            await asyncio.to_thread(settings.save)
            not_listed = await refused(dave_phone, bob.extension)
            call = await carol_phone.invite(bob.extension)
            await bob_phone.wait_incoming(timeout=5)
            await call.cancel()
            return blacklisted, not_listed

    assert asyncio.run(scenario()) == (403, 403)


@pytest.mark.usefixtures("numbers")
def test_a_colleagues_public_number_dialled_inside_rings_them_without_the_carrier(
    acme: Company, bob: Person, carol: Person
) -> None:
    PhoneNumber.objects.create(company=acme, number="+33140000102", destination="user", user=carol.user)

    async def scenario() -> str:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(carol) as carol_phone:
            call = await bob_phone.invite("00140000102")
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            await pstn.assert_not_rung()
            return incoming.caller_number

    assert asyncio.run(scenario()) == bob.extension


@pytest.mark.usefixtures("numbers")
def test_forwarding_between_public_numbers_cannot_loop_through_the_carrier(
    acme: Company, bob: Person, carol: Person, dave: Person
) -> None:
    """bob forwards to carol's public number, carol to bob's: the loop guard still sees the path."""
    from telephony.models import ForwardingRule

    PhoneNumber.objects.create(company=acme, number="+33140000102", destination="user", user=carol.user)
    for person, target in ((bob, "+33140000102"), (carol, BOB_DID)):
        ForwardingRule.objects.create(
            company=acme,
            user=person.user,
            condition="always",
            destination="number",
            destination_number=target,
        )

    async def scenario() -> None:
        async with outside_world() as pstn, phone(bob) as bob_phone, phone(dave) as dave_phone:
            call = await dave_phone.invite(bob.extension)
            incoming = await bob_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            await pstn.assert_not_rung()

    asyncio.run(scenario())


def outside_message(owner: Person, number: str) -> Message:
    """A voicemail message left by an outside caller (the deposit is tested elsewhere)."""
    from django.utils import timezone

    from tests.voicemails import tone_wav
    from voicemail import actions
    from voicemail.models import Mailbox

    name = f"vm-test-{uuid.uuid4().hex}"
    actions.begin_message(
        mailbox_id=Mailbox.objects.get(user=owner.user).pk,
        recording_name=name,
        asterisk_server="ast-test",
        caller_number=number,
        caller_name="",
        caller_user_id=None,
        call_id=None,
        at=timezone.now(),
    )
    message = actions.store_message(recording_name=name, audio=tone_wav(2.0))
    assert message is not None
    return message


# Asterisk fetches the message's audio from the web server.
@pytest.mark.usefixtures("web_server")
@pytest.mark.parametrize(("sender", "barred"), [("+447700900123", True), ("+33145000000", False)])
def test_calling_a_message_sender_back_obeys_outgoing_barring(
    acme: Company, carol: Person, sender: str, barred: bool
) -> None:
    from voicemail import actions
    from voicemail.models import Mailbox

    from .processes import wait_until

    acme.main_number = "+33140000000"
    acme.save()
    BarringRule.objects.create(company=acme, direction="out", number_class="international")
    actions.set_pin(mailbox=Mailbox.objects.get(user=carol.user), pin="4731")
    message = outside_message(carol, sender)

    def read() -> bool:
        return Message.objects.filter(pk=message.pk, read_at__isnull=False).exists()

    async def scenario() -> str:
        async with outside_world() as pstn, phone(carol) as carol_phone:
            call = await carol_phone.invite("555")
            await call.wait_status(200, timeout=5)
            await call.send_dtmf("4731#1")
            await asyncio.to_thread(wait_until, read, 20, "the message to be played")
            # its details (0), then 3: call the sender back
            await call.send_dtmf("03")
            if barred:
                await call.wait_ended(timeout=20)
                await pstn.assert_not_rung()
                return ""
            incoming = await pstn.wait_incoming(timeout=20)
            await incoming.answer()
            await call.wait_rtp(call.rtp_received + 25, timeout=5)
            await incoming.hangup()
            return incoming.called_number

    called = asyncio.run(scenario())

    if barred:
        assert ended_call(caller_user=carol.user, dialled_number=sender).reason == "barred"
    else:
        assert called == sender
