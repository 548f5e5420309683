"""The routing decision, as a pure function: which phones ring, when, and how a call ends otherwise.

This module also holds the small builders the other tests/test_routing_*.py modules share: a company
"Acme" in Paris (outside prefix 0), Bob (101) calling, Carol (102) called, Dave (103) a colleague.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from telephony.numbers import canonical, to_e164
from telephony.routing import (
    CAUSE_NO_ANSWER,
    CAUSE_UNALLOCATED,
    CAUSE_USER_BUSY,
    BarringRule,
    Callee,
    CallFacts,
    DeviceKind,
    DeviceState,
    Origin,
    Party,
    Plan,
    Policy,
    Reject,
    RejectReason,
    RingDevices,
    Rule,
    Voicemail,
    plan_call,
)

# A Wednesday, 11:00 in Paris.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BOB = Party(company_id=1, user_id=11, number="101", name="Bob", outside_number="+33140000101")
DAVE = Party(company_id=1, user_id=13, number="103", name="Dave", outside_number="+33140000103")
# Someone outside calling one of the company's numbers, and someone withholding their number.
OUTSIDER = Party(company_id=1, user_id=None, number="+33699887766", name="+33699887766")
HIDDEN = Party(company_id=1, user_id=None, number="", name="", anonymous=True)
# Acme: Paris time, 0 for an outside line, voicemail service 555, receptionist on 100.
ACME = Policy(
    company_id=1,
    timezone="Europe/Paris",
    voicemail_number="555",
    outside_prefix="0",
    country_code="33",
    main_number="+33140000000",
    receptionist="100",
)
MAILBOX = 120
CAROL_MOBILE = "+33611223344"
CAROL_HOME = "+33155667788"


def carol(*devices: DeviceState, company_id: int = 1, ring_timeout: int = 20, **settings: Any) -> Callee:
    """Carol, extension 102, with these phones and settings (mailbox_id, dnd, presence, rules...)."""
    callee = Callee(
        company_id=company_id,
        user_id=12,
        extension="102",
        name="Carol",
        ring_timeout=ring_timeout,
        devices=devices,
    )
    return dataclasses.replace(callee, **settings)


def dave(*devices: DeviceState, **settings: Any) -> Callee:
    callee = Callee(company_id=1, user_id=13, extension="103", name="Dave", ring_timeout=20, devices=devices)
    return dataclasses.replace(callee, **settings)


def device(
    device_id: int,
    delay: int = 0,
    *,
    enabled: bool = True,
    active_calls: int = 0,
    max_calls: int = 1,
    reachable: bool = True,
) -> DeviceState:
    """A SIP phone of Carol's."""
    return DeviceState(
        device_id=device_id,
        endpoint=f"acme-102-{device_id}",
        ring_delay=delay,
        enabled=enabled,
        active_calls=active_calls,
        max_calls=max_calls,
        reachable=reachable,
    )


def remote(
    device_id: int, number: str, delay: int = 0, *, confirm: bool = False, enabled: bool = True
) -> DeviceState:
    """A remote terminal (an outside number ringing as one of Carol's phones), typed as a user would."""
    return DeviceState(
        device_id=device_id,
        endpoint=f"102-remote-{device_id}",
        ring_delay=delay,
        enabled=enabled,
        kind=DeviceKind.REMOTE,
        number=canonical(number, "33"),
        confirm=confirm,
    )


def rule(rule_id: int, condition: str, destination: str = "number", number: str = "", **fields: Any) -> Rule:
    """A forwarding rule as the query layer builds it: numbers canonical, the rest as stored."""
    if "callers" in fields:
        fields["callers"] = frozenset(canonical(n, "33") for n in fields["callers"])
    for key in ("presences", "days"):
        if key in fields:
            fields[key] = frozenset(fields[key])
    return Rule(
        rule_id=rule_id,
        condition=condition,
        destination=destination,
        destination_number=canonical(number, "33") if number else "",
        label=f"rule {rule_id}",
        **fields,
    )


def barring_rule(
    direction: str,
    *,
    prefix: str = "",
    number_class: str = "",
    allow: bool = False,
    user_id: int | None = None,
) -> BarringRule:
    """A barring rule as the query layer stores it: its prefix in E.164 (to_e164); for everyone by
    default. (canonical would keep a short prefix such as 06 as it is, like an extension.)"""
    return BarringRule(
        direction,
        user_id,
        number_class=number_class,
        prefix=to_e164(prefix, "33") if prefix else "",
        allow=allow,
    )


def call(
    callee: Callee | None,
    dialled: str = "102",
    *,
    caller: Party = BOB,
    forwarded_by: tuple[int, ...] = (),
    now: datetime = NOW,
    policy: Policy = ACME,
) -> Plan:
    """What the platform does with `caller` dialling `dialled` (an outside caller comes in from outside)."""
    origin = Origin.EXTERNAL if caller.user_id is None else Origin.INTERNAL
    return plan_call(CallFacts(caller, dialled, origin, forwarded_by), callee, now, policy)


def rung(plan: Plan) -> list[int | None]:
    """The device ids a plan rings, in order; [] when it rings nothing."""
    return [t.device_id for t in plan.targets] if isinstance(plan, RingDevices) else []


# --- the first version's tests, on the new device state ------------------------------------------


def test_a_call_to_an_extension_rings_every_enabled_device_after_its_delay() -> None:
    plan = plan_call(CallFacts(BOB, "102"), carol(device(2, 3), device(1, 0), device(3, enabled=False)), NOW)

    assert isinstance(plan, RingDevices)
    assert [(t.device_id, t.delay) for t in plan.targets] == [(1, 0), (2, 3)]
    assert plan.timeout == 20
    assert (plan.caller_id_number, plan.caller_id_name) == ("101", "Bob")


def test_an_unknown_number_is_rejected_as_unallocated() -> None:
    plan = plan_call(CallFacts(BOB, "999"), None, NOW)

    assert plan == Reject(RejectReason.UNKNOWN_NUMBER)
    assert plan.cause == CAUSE_UNALLOCATED


def test_another_companys_extension_is_never_reachable() -> None:
    globex_102 = carol(device(1), company_id=2)

    plan = plan_call(CallFacts(BOB, "102"), globex_102, NOW)

    assert isinstance(plan, Reject) and plan.reason == RejectReason.UNKNOWN_NUMBER


def test_a_user_whose_every_device_is_in_a_call_is_busy() -> None:
    plan = plan_call(
        CallFacts(BOB, "102"), carol(device(1, active_calls=1), device(2, 5, active_calls=1)), NOW
    )

    assert isinstance(plan, Reject) and plan.reason == RejectReason.BUSY and plan.cause == CAUSE_USER_BUSY


def test_a_free_device_still_rings_when_another_is_in_a_call() -> None:
    plan = plan_call(CallFacts(BOB, "102"), carol(device(1, active_calls=1), device(2, 5)), NOW)

    assert isinstance(plan, RingDevices) and [t.device_id for t in plan.targets] == [2]


def test_a_user_without_an_enabled_device_does_not_answer() -> None:
    plan = plan_call(CallFacts(BOB, "102"), carol(device(1, enabled=False)), NOW)

    assert isinstance(plan, Reject) and plan.reason == RejectReason.NO_DEVICE


def test_a_device_delayed_beyond_the_ring_timeout_is_left_out() -> None:
    plan = plan_call(CallFacts(BOB, "102"), carol(device(1, 0), device(2, 25), ring_timeout=20), NOW)

    assert isinstance(plan, RingDevices) and [t.device_id for t in plan.targets] == [1]


devices_strategy = st.lists(
    st.builds(
        DeviceState,
        device_id=st.integers(1, 10_000),
        endpoint=st.text("abc-0123456789", min_size=3, max_size=12),
        ring_delay=st.integers(0, 30),
        enabled=st.booleans(),
        active_calls=st.integers(0, 3),
        max_calls=st.integers(1, 3),
        reachable=st.booleans(),
    ),
    max_size=8,
    unique_by=lambda d: d.device_id,
)


@given(devices=devices_strategy, timeout=st.integers(5, 120), company=st.integers(1, 3))
def test_disabled_or_busy_devices_never_ring_and_delays_stay_in_bounds(
    devices: list[DeviceState], timeout: int, company: int
) -> None:
    plan = plan_call(CallFacts(BOB, "102"), carol(*devices, company_id=company, ring_timeout=timeout), NOW)

    if company != BOB.company_id:
        assert isinstance(plan, Reject) and plan.reason == RejectReason.UNKNOWN_NUMBER
        return
    by_id = {d.device_id: d for d in devices}
    if isinstance(plan, RingDevices):
        assert plan.targets, "a ring plan always rings something"
        for target in plan.targets:
            assert target.device_id is not None
            source = by_id[target.device_id]
            assert source.enabled and source.reachable and source.active_calls < source.max_calls
            assert 0 <= target.delay <= 30 and target.delay < timeout
        delays = [t.delay for t in plan.targets]
        assert delays == sorted(delays)
    else:
        ringable = [
            d
            for d in devices
            if d.enabled and d.reachable and d.active_calls < d.max_calls and d.ring_delay < timeout
        ]
        assert not ringable


# --- phones: which ring, when, and what the callee sees -------------------------------------------------


def test_the_callee_sees_an_outside_callers_number_and_anonymous_for_a_withheld_one() -> None:
    shown = call(carol(device(1)), "102", caller=OUTSIDER)
    hidden = call(carol(device(1)), "102", caller=HIDDEN)

    assert isinstance(shown, RingDevices) and isinstance(hidden, RingDevices)
    assert shown.caller_id_number == "+33699887766"
    assert (hidden.caller_id_number, hidden.caller_id_name) == ("anonymous", "Anonymous")


def test_with_call_waiting_a_phone_in_fewer_calls_than_it_takes_still_rings() -> None:
    plan = call(carol(device(1, active_calls=1, max_calls=2)))

    assert rung(plan) == [1]


def test_a_phone_that_has_reached_its_simultaneous_calls_is_busy() -> None:
    callee = carol(device(1, active_calls=2, max_calls=2), mailbox_id=MAILBOX)

    plan = call(callee)

    assert plan == Reject(RejectReason.BUSY, callee)
    assert plan.cause == CAUSE_USER_BUSY


def test_a_phone_without_call_waiting_in_a_call_is_busy_but_its_free_twin_rings() -> None:
    plan = call(carol(device(1, active_calls=1, max_calls=1), device(2, active_calls=1, max_calls=3)))

    assert rung(plan) == [2]


def test_a_disabled_phone_never_rings() -> None:
    plan = call(carol(device(1, enabled=False), device(2, 4)))

    assert rung(plan) == [2]


def test_an_unregistered_phone_is_not_rung_and_the_others_are() -> None:
    plan = call(carol(device(1, reachable=False), device(2, 2)))

    assert rung(plan) == [2]


def test_a_user_whose_phones_are_all_unregistered_gets_the_message_in_their_mailbox() -> None:
    callee = carol(device(1, reachable=False), mailbox_id=MAILBOX)

    assert call(callee) == Voicemail(MAILBOX, callee)


def test_a_user_with_no_phone_at_all_and_no_mailbox_does_not_answer() -> None:
    plan = call(carol())

    assert isinstance(plan, Reject) and plan.reason == RejectReason.NO_DEVICE
    assert plan.cause == CAUSE_NO_ANSWER


def test_phones_ring_in_order_of_delay_and_a_delay_over_30_seconds_counts_as_30() -> None:
    plan = call(carol(device(3, 45), device(2, 10), device(1, 10), ring_timeout=60))

    assert isinstance(plan, RingDevices)
    assert [(t.device_id, t.delay) for t in plan.targets] == [(1, 10), (2, 10), (3, 30)]


def test_when_every_phone_rings_after_the_timeout_the_call_goes_straight_to_voicemail() -> None:
    callee = carol(device(1, 25), ring_timeout=20, mailbox_id=MAILBOX)

    assert call(callee) == Voicemail(MAILBOX, callee)


def test_unanswered_ringing_ends_in_the_mailbox_or_as_no_answer_without_one() -> None:
    with_box = carol(device(1), mailbox_id=MAILBOX)
    without = carol(device(1))

    plan = call(with_box)
    bare = call(without)

    assert isinstance(plan, RingDevices) and isinstance(bare, RingDevices)
    assert plan.on_no_answer == Voicemail(MAILBOX, with_box)
    assert plan.on_busy == Reject(RejectReason.BUSY, with_box)
    assert plan.on_unreachable == Voicemail(MAILBOX, with_box)
    assert bare.on_no_answer == Reject(RejectReason.NO_ANSWER, without)
    assert bare.on_unreachable == Reject(RejectReason.NO_DEVICE, without)


# --- remote terminals (A6, A7) ---------------------------------------------------------------------


def test_a_remote_terminal_rings_its_outside_number_through_the_trunk() -> None:
    plan = call(carol(device(1), remote(2, "06 11 22 33 44", 10)))

    assert isinstance(plan, RingDevices)
    desk, mobile = plan.targets
    assert (desk.endpoint, desk.number, desk.delay) == ("acme-102-1", "", 0)
    assert (mobile.device_id, mobile.endpoint, mobile.number, mobile.delay) == (
        2,
        ACME.trunk,
        "+33611223344",
        10,
    )
    assert not plan.external, "Carol is a user of the company, even when her mobile rings"


def test_a_remote_terminal_that_avoids_the_mobiles_voicemail_asks_for_a_key_press() -> None:
    plan = call(carol(remote(1, "0611223344", confirm=True), remote(2, "0155667788")))

    assert isinstance(plan, RingDevices)
    assert [(t.number, t.confirm) for t in plan.targets] == [("+33611223344", True), ("+33155667788", False)]


def test_a_sip_phone_never_asks_for_a_key_press() -> None:
    phone = dataclasses.replace(device(1), confirm=True)

    plan = call(carol(phone))

    assert isinstance(plan, RingDevices) and not plan.targets[0].confirm


def test_a_remote_terminal_the_user_may_not_call_is_left_out() -> None:
    barring = (barring_rule("out", prefix="06"),)
    policy = dataclasses.replace(ACME, barring=barring)

    plan = call(carol(device(1), remote(2, "0611223344")), policy=policy)

    assert rung(plan) == [1]


def test_a_user_whose_only_phone_is_a_barred_remote_terminal_is_unreachable() -> None:
    policy = dataclasses.replace(ACME, barring=(barring_rule("out", number_class="mobile"),))
    callee = carol(remote(1, "0611223344"), mailbox_id=MAILBOX)

    assert call(callee, policy=policy) == Voicemail(MAILBOX, callee)


def test_a_disabled_remote_terminal_does_not_ring() -> None:
    plan = call(carol(remote(1, "0611223344", enabled=False), device(2)))

    assert rung(plan) == [2]
