"""Who a call shows as its caller, decided in the plan: an outside caller as the carrier presented
them, and the identity a remote terminal (an outside number) is shown."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from telephony.routing import (
    ANONYMOUS_NUMBERS,
    Callee,
    CallFacts,
    DeviceKind,
    DeviceState,
    Origin,
    Party,
    Policy,
    RingDevices,
    outside_party,
    plan_call,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ACME = Policy(company_id=1)


def test_a_withheld_number_from_the_carrier_is_an_anonymous_caller_whatever_its_spelling() -> None:
    for presented in ANONYMOUS_NUMBERS | {"Anonymous", "RESTRICTED"}:
        party = outside_party(company_id=1, number=presented, name="Someone")
        assert party.anonymous and party.number == "" and party.name == ""


@given(
    st.text(alphabet="123456789", min_size=1, max_size=1),
    st.text(alphabet="0123456789", min_size=7, max_size=14),
)
def test_an_international_number_sent_without_its_plus_gets_it_back(first: str, rest: str) -> None:
    party = outside_party(company_id=1, number=first + rest, name="Outside Caller")
    assert party.number == f"+{first}{rest}" and party.outside_number == party.number
    assert not party.anonymous and party.name == "Outside Caller"


def test_a_national_or_short_number_from_the_carrier_is_kept_as_it_came() -> None:
    assert outside_party(company_id=1, number="0612345678", name="").number == "0612345678"
    assert outside_party(company_id=1, number="3615", name="").number == "3615"
    assert outside_party(company_id=1, number="+33612345678", name="").number == "+33612345678"


def carol_with(device: DeviceState) -> Callee:
    return Callee(company_id=1, user_id=12, extension="102", name="Carol", ring_timeout=20, devices=(device,))


REMOTE = DeviceState(
    device_id=5, endpoint="", ring_delay=0, enabled=True, kind=DeviceKind.REMOTE, number="+33611111111"
)
DESK = DeviceState(device_id=2, endpoint="acme-102", ring_delay=0, enabled=True)


def ring(caller: Party, device: DeviceState, origin: Origin = Origin.INTERNAL) -> RingDevices:
    plan = plan_call(CallFacts(caller, "102", origin), carol_with(device), NOW, ACME)
    assert isinstance(plan, RingDevices)
    return plan


def test_a_remote_terminal_is_shown_an_internal_caller_s_outside_number_never_their_extension() -> None:
    bob = Party(company_id=1, user_id=11, number="101", name="Bob", outside_number="+33140000101")
    [target] = ring(bob, REMOTE).targets
    assert (target.caller_id_number, target.caller_id_name) == ("+33140000101", "Bob")


def test_a_remote_terminal_is_shown_anonymous_for_a_caller_without_an_outside_number() -> None:
    bob = Party(company_id=1, user_id=11, number="101", name="Bob")
    [target] = ring(bob, REMOTE).targets
    assert (target.caller_id_number, target.caller_id_name) == ("anonymous", "")


def test_a_remote_terminal_is_shown_an_outside_caller_s_own_number() -> None:
    outsider = outside_party(company_id=1, number="33612345678", name="Outside Caller")
    [target] = ring(outsider, REMOTE, Origin.EXTERNAL).targets
    assert (target.caller_id_number, target.caller_id_name) == ("+33612345678", "Outside Caller")


def test_a_desk_phone_is_shown_the_plan_s_caller() -> None:
    bob = Party(company_id=1, user_id=11, number="101", name="Bob", outside_number="+33140000101")
    plan = ring(bob, DESK)
    [target] = plan.targets
    assert target.caller_id_number == "" and plan.caller_id_number == "101"
