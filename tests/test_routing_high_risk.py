"""The high-risk class (C4, J2): the destinations of international revenue-share fraud (international
premium rate +979, satellite and global networks +881/+882/+883, and the like) are barred by default
on every way out of the platform (dialling, forwarding, remote terminals, speed dials, the voicemail
call-back), and the administrator may lift the bar or let chosen numbers through."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from telephony.routing import (
    HIGH_RISK_PREFIXES,
    Forward,
    NumberClass,
    Reject,
    RejectReason,
    RingDevices,
    Voicemail,
    barred,
    number_classes,
)

from .test_routing import (
    ACME,
    BOB,
    MAILBOX,
    barring_rule,
    call,
    carol,
    device,
    remote,
    rule,
    rung,
)

PREMIUM_979 = "+979123456789"
SATELLITE = ["+881612345678", "+88234567890", "+88312345678"]
OPEN = dataclasses.replace(ACME, bar_high_risk=False)


def international(number: str) -> str:
    """As dialled from a phone: the outside prefix 0, then 00 and the number."""
    return "0" + "00" + number.removeprefix("+")


high_risk_numbers = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(HIGH_RISK_PREFIXES),
    st.from_regex(r"[0-9]{4,9}", fullmatch=True),
)


@given(high_risk_numbers)
def test_every_high_risk_number_is_barred_by_default_and_belongs_to_the_class(number: str) -> None:
    assert NumberClass.HIGH_RISK in number_classes(number, "33")
    assert barred(number, "out", 11, ACME)
    assert not barred(number, "out", 11, OPEN)


@given(st.from_regex(r"\+(33|44|49|1|39)[1-9][0-9]{8}", fullmatch=True))
def test_ordinary_numbers_are_not_high_risk(number: str) -> None:
    assume(not number.startswith(HIGH_RISK_PREFIXES))
    assert NumberClass.HIGH_RISK not in number_classes(number, "33")
    assert not barred(number, "out", 11, ACME)


def test_the_international_premium_range_is_premium_too() -> None:
    assert {NumberClass.PREMIUM, NumberClass.HIGH_RISK, NumberClass.INTERNATIONAL} <= number_classes(
        PREMIUM_979, "33"
    )


@pytest.mark.parametrize("number", [PREMIUM_979, *SATELLITE])
def test_dialling_a_high_risk_number_is_refused(number: str) -> None:
    assert call(None, international(number)) == Reject(RejectReason.BARRED)
    # as the voicemail's call-back dials a sender's number: in E.164
    assert call(None, number) == Reject(RejectReason.BARRED)


def test_allowing_every_international_number_does_not_open_the_high_risk_ones() -> None:
    policy = dataclasses.replace(
        ACME, barring=(barring_rule("out", number_class="international", allow=True),)
    )
    assert call(None, international(PREMIUM_979), policy=policy) == Reject(RejectReason.BARRED)
    assert isinstance(call(None, "00044207946000", policy=policy), RingDevices)


def test_an_allowed_prefix_or_a_users_own_allowance_lets_a_high_risk_number_through() -> None:
    by_prefix = dataclasses.replace(ACME, barring=(barring_rule("out", prefix="+8816", allow=True),))
    for_bob = dataclasses.replace(
        ACME, barring=(barring_rule("out", number_class="high_risk", allow=True, user_id=BOB.user_id),)
    )
    assert isinstance(call(None, international(SATELLITE[0]), policy=by_prefix), RingDevices)
    assert isinstance(call(None, international(SATELLITE[0]), policy=for_bob), RingDevices)
    assert call(None, international(SATELLITE[1]), policy=by_prefix) == Reject(RejectReason.BARRED)


def test_a_forward_to_a_high_risk_number_is_passed_over() -> None:
    callee = carol(device(1), mailbox_id=MAILBOX, rules=(rule(1, "always", number=PREMIUM_979),))

    plan = call(callee)

    assert not isinstance(plan, Forward)
    assert rung(plan) == [1]
    assert isinstance(call(dataclasses.replace(callee), policy=OPEN), Forward)


def test_a_high_risk_remote_terminal_never_rings() -> None:
    callee = carol(remote(1, SATELLITE[2]), mailbox_id=MAILBOX)

    assert call(callee) == Voicemail(MAILBOX, callee)


def test_a_speed_dial_to_a_high_risk_number_is_refused() -> None:
    policy = dataclasses.replace(ACME, speed_dials={"230": PREMIUM_979})

    assert call(None, "230", policy=policy) == Reject(RejectReason.BARRED)
