"""The routing decision, as a pure function: which phones ring, when, and how a call ends otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from telephony.routing import (
    CAUSE_UNALLOCATED,
    CAUSE_USER_BUSY,
    Callee,
    CallFacts,
    DeviceState,
    Party,
    Reject,
    RejectReason,
    RingDevices,
    plan_call,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BOB = Party(company_id=1, user_id=11, number="101", name="Bob")


def carol(*devices: DeviceState, company_id: int = 1, ring_timeout: int = 20) -> Callee:
    return Callee(
        company_id=company_id,
        user_id=12,
        extension="102",
        name="Carol",
        ring_timeout=ring_timeout,
        devices=devices,
    )


def device(device_id: int, delay: int = 0, *, enabled: bool = True, in_call: bool = False) -> DeviceState:
    return DeviceState(
        device_id=device_id,
        endpoint=f"acme-102-{device_id}",
        ring_delay=delay,
        enabled=enabled,
        in_call=in_call,
    )


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
    plan = plan_call(CallFacts(BOB, "102"), carol(device(1, in_call=True), device(2, 5, in_call=True)), NOW)

    assert isinstance(plan, Reject) and plan.reason == RejectReason.BUSY and plan.cause == CAUSE_USER_BUSY


def test_a_free_device_still_rings_when_another_is_in_a_call() -> None:
    plan = plan_call(CallFacts(BOB, "102"), carol(device(1, in_call=True), device(2, 5)), NOW)

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
        in_call=st.booleans(),
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
            source = by_id[target.device_id]
            assert source.enabled and not source.in_call
            assert 0 <= target.delay <= 30 and target.delay < timeout
        delays = [t.delay for t in plan.targets]
        assert delays == sorted(delays)
    else:
        ringable = [d for d in devices if d.enabled and not d.in_call and d.ring_delay < timeout]
        assert not ringable
