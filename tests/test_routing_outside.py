"""Calls to and from outside: the outside prefix (C2), E.164, the number presented (A4), speed dials
(C3), outgoing barring (C4), incoming barring (B5), black and white lists (B6)."""

from __future__ import annotations

import dataclasses

import pytest

from telephony.numbers import canonical, to_e164
from telephony.routing import (
    CAUSE_CALL_REJECTED,
    EMERGENCY_NUMBERS,
    OUTSIDE_RING_TIMEOUT,
    BarringRule,
    CallFacts,
    External,
    Forward,
    Internal,
    NumberClass,
    Origin,
    Plan,
    Policy,
    Reject,
    RejectReason,
    RerouteToDid,
    RingDevices,
    Screening,
    Unknown,
    barred,
    callee_number,
    interpret,
    number_classes,
    outside_caller_id,
    parse_destination,
    plan_call,
    refused,
)

from .test_routing import (
    ACME,
    BOB,
    DAVE,
    HIDDEN,
    MAILBOX,
    NOW,
    OUTSIDER,
    barring_rule,
    call,
    carol,
    dave,
    device,
    rule,
    rung,
)


def dialled_out(plan: Plan) -> str | None:
    """The outside number a plan rings through the trunk, or None."""
    if isinstance(plan, RingDevices) and plan.external:
        (target,) = plan.targets
        return target.number
    return None


def barring(*rules: BarringRule) -> Policy:
    """Acme with these barring rules."""
    return dataclasses.replace(ACME, barring=rules)


def test_a_call_to_the_company_s_own_public_number_is_rerouted_to_what_it_rings_inside() -> None:
    policy = dataclasses.replace(ACME, own_numbers={"+33140000103": "103"})

    assert call(None, "00140000103", policy=policy) == RerouteToDid(number="+33140000103", dial="103")
    assert call(None, "+33140000103", policy=policy) == RerouteToDid(number="+33140000103", dial="103")
    assert dialled_out(call(None, "00140000104", policy=policy)) == "+33140000104"


def test_a_forward_to_the_company_s_own_public_number_is_rerouted_once_decided_again() -> None:
    policy = dataclasses.replace(ACME, own_numbers={"+33140000103": "103"})
    forward = call(carol(rules=(rule(1, "always", number="+33140000103"),)), policy=policy)
    assert isinstance(forward, Forward) and forward.external

    again = call(None, forward.number, forwarded_by=(forward.by_user_id,), policy=policy)

    assert again == RerouteToDid(number="+33140000103", dial="103")


# --- numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0612345678", "+33612345678"),
        ("0044207946000", "+44207946000"),
        ("+15555550100", "+15555550100"),
        ("112", "112"),
        ("3615", "3615"),
    ],
)
def test_outside_numbers_are_written_in_e164(written: str, e164: str) -> None:
    assert to_e164(written, "33") == e164


def test_an_extension_stays_an_extension_and_a_spaced_national_number_becomes_e164() -> None:
    assert canonical("103", "33") == "103"
    assert canonical(" 06 12 34 56 78 ", "33") == "+33612345678"
    assert canonical("+33 6 12 34 56 78", "33") == "+33612345678"
    assert canonical("0412345678", "32") == "+32412345678"


@pytest.mark.parametrize(
    ("number", "classes"),
    [
        ("+33612345678", {NumberClass.NATIONAL, NumberClass.MOBILE}),
        ("+33712345678", {NumberClass.NATIONAL, NumberClass.MOBILE}),
        ("+33145678900", {NumberClass.NATIONAL}),
        ("+33899123456", {NumberClass.NATIONAL, NumberClass.PREMIUM}),
        ("+447700900123", {NumberClass.INTERNATIONAL}),
        ("3615", {NumberClass.NATIONAL}),
        ("", {NumberClass.ANONYMOUS}),
    ],
)
def test_outside_numbers_fall_into_barring_classes(number: str, classes: set[str]) -> None:
    assert number_classes(number, "33") == classes


def test_a_withheld_number_is_anonymous_whatever_it_says() -> None:
    assert number_classes("+33612345678", "33", anonymous=True) == {NumberClass.ANONYMOUS}


def test_a_belgian_companys_mobiles_are_its_own_04_numbers() -> None:
    assert NumberClass.MOBILE in number_classes("+32471234567", "32")
    assert number_classes("+33612345678", "32") == {NumberClass.INTERNATIONAL}


@pytest.mark.parametrize(
    ("written", "destination"),
    [
        ("103", Internal("103")),
        ("06 12 34 56 78", External("+33612345678")),
        ("+447700900123", External("+447700900123")),
        ("230", External("+33145678900")),
        ("231", Internal("103")),
        ("", Unknown()),
        ("10a", Unknown()),
    ],
)
def test_a_number_typed_in_a_setting_is_an_extension_a_speed_dial_or_an_outside_number(
    written: str, destination: object
) -> None:
    policy = dataclasses.replace(ACME, speed_dials={"230": "+33145678900", "231": "103"})

    assert parse_destination(written, policy) == destination


# --- dialling out ---------------------------------------------------------------------------------------


def test_an_outside_number_dialled_after_the_prefix_goes_out_in_e164_through_the_trunk() -> None:
    plan = call(None, "00612345678")

    assert isinstance(plan, RingDevices)
    assert dialled_out(plan) == "+33612345678"
    assert plan.callee is None and plan.external
    assert plan.targets[0].endpoint == ACME.trunk and plan.targets[0].device_id is None
    assert plan.timeout == OUTSIDE_RING_TIMEOUT
    assert (plan.caller_id_number, plan.caller_id_name) == ("+33140000101", "Bob")


def test_an_international_number_dialled_after_the_prefix_goes_out_in_e164() -> None:
    assert dialled_out(call(None, "00044207946000")) == "+44207946000"


def test_a_number_dialled_in_e164_goes_out_as_it_is() -> None:
    assert dialled_out(call(None, "+447700900123")) == "+447700900123"


def test_with_a_prefix_a_short_number_is_an_extension() -> None:
    assert interpret("103", ACME) == Internal("103")
    assert isinstance(call(None, "199"), Reject)


def test_a_company_with_another_prefix_dials_out_with_it() -> None:
    policy = dataclasses.replace(ACME, outside_prefix="9")

    assert dialled_out(call(None, "90612345678", policy=policy)) == "+33612345678"
    assert interpret("0612345678", policy) == Internal("0612345678")


def test_a_company_without_a_prefix_dials_out_any_number_longer_than_an_extension() -> None:
    policy = dataclasses.replace(ACME, outside_prefix="")

    assert dialled_out(call(None, "0612345678", policy=policy)) == "+33612345678"
    assert interpret("103", policy) == Internal("103")


def test_a_national_number_dialled_without_the_outside_prefix_is_refused_as_unknown() -> None:
    # 0612345678 with prefix 0 would be 612345678: no such number in France; it never reaches the carrier
    assert interpret("0612345678", ACME) == Unknown()
    plan = call(None, "0612345678")
    assert isinstance(plan, Reject) and plan.reason == RejectReason.UNKNOWN_NUMBER
    # the same number with the prefix goes out; a short service number after the prefix too
    assert dialled_out(call(None, "00612345678")) == "+33612345678"
    assert interpret("03615", ACME) == External("3615")


def test_without_a_prefix_a_long_number_without_its_leading_0_is_unknown() -> None:
    policy = dataclasses.replace(ACME, outside_prefix="")

    assert interpret("612345678", policy) == Unknown()
    assert interpret("0612345678", policy) == External("+33612345678")


def test_where_national_numbers_have_no_leading_0_a_long_number_goes_out() -> None:
    # North America: ten digits, no trunk prefix
    policy = dataclasses.replace(ACME, outside_prefix="9", country_code="1")

    assert interpret("95551234567", policy) == External("5551234567")


@pytest.mark.parametrize("written", ["612345678", "6 12 34 56 78", "1 40 00 00 00"])
def test_a_setting_refuses_a_national_number_missing_its_leading_0(written: str) -> None:
    assert parse_destination(written, ACME) == Unknown()


def test_an_outside_number_goes_out_withheld_when_the_user_withholds_theirs() -> None:
    plan = call(None, "00612345678", caller=dataclasses.replace(BOB, outside_number=""))

    assert isinstance(plan, RingDevices)
    assert (plan.caller_id_number, plan.caller_id_name) == ("anonymous", "")


def test_an_outside_caller_cannot_use_the_platform_to_call_out() -> None:
    plan = call(None, "00612345678", caller=OUTSIDER)

    assert plan == Reject(RejectReason.BARRED)


@pytest.mark.parametrize(
    ("choice", "chosen", "own", "shown"),
    [
        ("withheld", "", ("+33140000101",), ""),
        ("number", "+33140000199", ("+33140000101",), "+33140000199"),
        ("number", "", ("+33140000101",), "+33140000101"),
        ("company", "", ("+33140000101",), "+33140000000"),
        ("auto", "", ("+33140000101", "+33140000102"), "+33140000101"),
        ("auto", "", (), "+33140000000"),
    ],
)
def test_the_number_shown_outside_follows_the_users_choice(
    choice: str, chosen: str, own: tuple[str, ...], shown: str
) -> None:
    assert outside_caller_id(choice, chosen, own, "+33140000000") == shown


# --- speed dials ------------------------------------------------------------------------------------------


SPEED = dataclasses.replace(ACME, speed_dials={"230": "+33145678900", "231": "103"})


def test_a_speed_dial_calls_its_outside_number() -> None:
    assert dialled_out(call(None, "230", policy=SPEED)) == "+33145678900"


def test_a_speed_dial_to_an_extension_rings_that_colleague() -> None:
    assert callee_number("231", SPEED) == "103"

    plan = call(dave(device(7)), "231", policy=SPEED)

    assert isinstance(plan, RingDevices) and plan.callee is not None and plan.callee.extension == "103"
    assert rung(plan) == [7]


def test_a_barred_speed_dial_is_refused() -> None:
    policy = dataclasses.replace(SPEED, barring=(barring_rule("out", prefix="0145678900", user_id=11),))

    assert call(None, "230", policy=policy) == Reject(RejectReason.BARRED)
    assert dialled_out(call(None, "230", caller=DAVE, policy=policy)) == "+33145678900"


# --- outgoing barring (C4) --------------------------------------------------------------------------------


FORBID_06_BUT_ONE = barring(
    barring_rule("out", prefix="06"), barring_rule("out", prefix="0612345678", allow=True)
)


def test_forbidding_06_refuses_mobile_numbers_with_a_403() -> None:
    plan = call(None, "00698765432", policy=FORBID_06_BUT_ONE)

    assert plan == Reject(RejectReason.BARRED)
    assert isinstance(plan, Reject) and plan.cause == CAUSE_CALL_REJECTED


def test_an_allowed_number_is_an_exception_to_a_forbidden_prefix() -> None:
    assert dialled_out(call(None, "00612345678", policy=FORBID_06_BUT_ONE)) == "+33612345678"
    assert dialled_out(call(None, "+33612345678", policy=FORBID_06_BUT_ONE)) == "+33612345678"


def test_a_forbidden_prefix_does_not_touch_other_numbers() -> None:
    assert dialled_out(call(None, "00145678900", policy=FORBID_06_BUT_ONE)) == "+33145678900"


def test_barring_a_class_refuses_its_numbers_only() -> None:
    policy = barring(barring_rule("out", number_class="international"))

    assert call(None, "00044207946000", policy=policy) == Reject(RejectReason.BARRED)
    assert dialled_out(call(None, "00612345678", policy=policy)) == "+33612345678"


def test_premium_numbers_can_be_barred() -> None:
    policy = barring(barring_rule("out", number_class="premium"))

    assert call(None, "00899123456", policy=policy) == Reject(RejectReason.BARRED)


def test_an_allowed_prefix_is_an_exception_to_a_forbidden_class() -> None:
    policy = barring(
        barring_rule("out", number_class="international"), barring_rule("out", prefix="+44", allow=True)
    )

    assert dialled_out(call(None, "+447700900123", policy=policy)) == "+447700900123"
    assert call(None, "+15555550100", policy=policy) == Reject(RejectReason.BARRED)


def test_a_longer_forbidden_prefix_beats_a_shorter_allowed_one() -> None:
    policy = barring(barring_rule("out", prefix="+44", allow=True), barring_rule("out", prefix="+447"))

    assert call(None, "+447700900123", policy=policy) == Reject(RejectReason.BARRED)
    assert dialled_out(call(None, "+442079460000", policy=policy)) == "+442079460000"


def test_a_rule_for_one_user_does_not_bar_the_others() -> None:
    policy = barring(barring_rule("out", number_class="mobile", user_id=11))

    assert call(None, "00612345678", policy=policy) == Reject(RejectReason.BARRED)
    assert dialled_out(call(None, "00612345678", caller=DAVE, policy=policy)) == "+33612345678"


def test_a_users_own_allowance_beats_the_same_company_prohibition() -> None:
    policy = barring(
        barring_rule("out", prefix="06"), barring_rule("out", prefix="06", allow=True, user_id=11)
    )

    assert dialled_out(call(None, "00612345678", policy=policy)) == "+33612345678"
    assert call(None, "00612345678", caller=DAVE, policy=policy) == Reject(RejectReason.BARRED)


def test_at_equal_weight_a_prohibition_wins() -> None:
    policy = barring(barring_rule("out", prefix="06", allow=True), barring_rule("out", prefix="06"))

    assert call(None, "00612345678", policy=policy) == Reject(RejectReason.BARRED)


def test_a_rule_without_class_or_prefix_forbids_every_outside_number() -> None:
    policy = barring(barring_rule("out"), barring_rule("out", prefix="0145678900", allow=True))

    assert call(None, "00612345678", policy=policy) == Reject(RejectReason.BARRED)
    assert dialled_out(call(None, "00145678900", policy=policy)) == "+33145678900"


def test_incoming_rules_do_not_bar_outgoing_calls() -> None:
    policy = barring(barring_rule("in", number_class="mobile"))

    assert dialled_out(call(None, "00612345678", policy=policy)) == "+33612345678"


@pytest.mark.parametrize("number", sorted(EMERGENCY_NUMBERS))
def test_emergency_numbers_are_never_barred(number: str) -> None:
    policy = barring(
        barring_rule("out"),
        barring_rule("out", number_class="national", user_id=11),
        barring_rule("out", prefix=number, user_id=11),
    )

    assert dialled_out(call(None, "0" + number, policy=policy)) == number


def test_a_forward_outside_goes_out_on_behalf_of_the_forwarder_not_the_caller() -> None:
    # Bob may not call mobiles; Carol may, and forwards her calls to one.
    policy = barring(barring_rule("out", number_class="mobile", user_id=11))
    callee = carol(device(1), rules=(rule(1, "always", number="0611223344"),), outside_number="+33140000102")

    forward = call(callee, policy=policy)
    assert isinstance(forward, Forward)
    # The bridge decides the same call again for the new number, Carol on its forwarding path,
    # presenting what the forward says.
    caller = dataclasses.replace(BOB, outside_number=forward.caller_outside_number)
    onward = plan_call(
        CallFacts(caller, forward.number, Origin.INTERNAL, (forward.by_user_id,)), None, NOW, policy
    )

    assert dialled_out(onward) == "+33611223344"
    assert isinstance(onward, RingDevices) and onward.caller_id_number == "+33140000102"


def test_a_forward_outside_is_refused_when_the_forwarder_may_not_call_the_number() -> None:
    policy = barring(barring_rule("out", number_class="mobile", user_id=12))

    onward = plan_call(CallFacts(BOB, "+33611223344", Origin.INTERNAL, (12,)), None, NOW, policy)

    assert onward == Reject(RejectReason.BARRED)


# --- incoming barring (B5) ----------------------------------------------------------------------------


def test_incoming_barring_refuses_international_callers_but_not_national_ones() -> None:
    policy = barring(barring_rule("in", number_class="international"))
    callee = carol(device(1), mailbox_id=MAILBOX)

    abroad = call(callee, caller=dataclasses.replace(OUTSIDER, number="+4420794600"), policy=policy)
    at_home = call(callee, caller=dataclasses.replace(OUTSIDER, number="+33145000000"), policy=policy)

    assert abroad == Reject(RejectReason.REFUSED, callee)
    assert isinstance(abroad, Reject) and abroad.cause == CAUSE_CALL_REJECTED
    assert rung(at_home) == [1]


def test_incoming_barring_of_mobiles_knows_a_mobile_written_nationally() -> None:
    policy = barring(barring_rule("in", number_class="mobile"))
    callee = carol(device(1))

    for number in ("0699887766", "+33699887766", "+33799887766"):
        plan = call(callee, caller=dataclasses.replace(OUTSIDER, number=number), policy=policy)
        assert plan == Reject(RejectReason.REFUSED, callee), number
    assert rung(call(callee, caller=dataclasses.replace(OUTSIDER, number="0145000000"), policy=policy)) == [1]


def test_incoming_barring_of_anonymous_callers_refuses_withheld_numbers() -> None:
    policy = barring(barring_rule("in", number_class="anonymous"))
    callee = carol(device(1))

    assert call(callee, caller=HIDDEN, policy=policy) == Reject(RejectReason.REFUSED, callee)
    assert rung(call(callee, caller=OUTSIDER, policy=policy)) == [1]


def test_incoming_barring_never_refuses_a_colleague() -> None:
    policy = barring(barring_rule("in"), barring_rule("in", number_class="anonymous"))

    assert rung(call(carol(device(1)), caller=BOB, policy=policy)) == [1]


def test_incoming_barring_for_one_user_leaves_the_others_reachable() -> None:
    policy = barring(barring_rule("in", number_class="international", user_id=13))
    abroad = dataclasses.replace(OUTSIDER, number="+447700900123")

    assert rung(call(carol(device(1)), caller=abroad, policy=policy)) == [1]
    assert call(dave(device(7)), "103", caller=abroad, policy=policy) == Reject(
        RejectReason.REFUSED, dave(device(7))
    )


def test_incoming_barring_by_prefix_with_an_allowed_number() -> None:
    policy = barring(barring_rule("in", prefix="0899"), barring_rule("in", prefix="0899123456", allow=True))
    callee = carol(device(1))

    assert call(callee, caller=dataclasses.replace(OUTSIDER, number="0899000000"), policy=policy) == Reject(
        RejectReason.REFUSED, callee
    )
    assert rung(call(callee, caller=dataclasses.replace(OUTSIDER, number="+33899123456"), policy=policy)) == [
        1
    ]


def test_a_refused_caller_is_refused_before_any_forwarding_rule() -> None:
    policy = barring(barring_rule("in", number_class="international"))
    callee = carol(device(1), rules=(rule(1, "always", number="103"),))

    plan = call(callee, caller=dataclasses.replace(OUTSIDER, number="+447700900123"), policy=policy)

    assert plan == Reject(RejectReason.REFUSED, callee)


# --- black and white lists (B6) --------------------------------------------------------------------------


def test_a_black_list_refuses_the_colleagues_it_names_and_lets_the_others_in() -> None:
    callee = carol(device(1), screening=Screening.BLACKLIST, screened_numbers=frozenset({"101"}))

    assert call(callee, caller=BOB) == Reject(RejectReason.REFUSED, callee)
    assert rung(call(callee, caller=DAVE)) == [1]


def test_a_white_list_lets_only_the_callers_it_names_in() -> None:
    callee = carol(device(1), screening=Screening.WHITELIST, screened_numbers=frozenset({"103"}))

    assert call(callee, caller=BOB) == Reject(RejectReason.REFUSED, callee)
    assert rung(call(callee, caller=DAVE)) == [1]


def test_a_white_list_refuses_withheld_numbers() -> None:
    callee = carol(device(1), screening=Screening.WHITELIST, screened_numbers=frozenset({"103"}))

    assert call(callee, caller=HIDDEN) == Reject(RejectReason.REFUSED, callee)


def test_a_black_list_lets_withheld_numbers_in_unless_anonymous_calls_are_rejected() -> None:
    listed = frozenset({canonical("0699887766", "33")})
    lenient = carol(device(1), screening=Screening.BLACKLIST, screened_numbers=listed)
    strict = dataclasses.replace(lenient, reject_anonymous=True)

    assert rung(call(lenient, caller=HIDDEN)) == [1]
    assert call(strict, caller=HIDDEN) == Reject(RejectReason.REFUSED, strict)


def test_rejecting_anonymous_calls_refuses_withheld_numbers_only() -> None:
    callee = carol(device(1), reject_anonymous=True)

    assert call(callee, caller=HIDDEN) == Reject(RejectReason.REFUSED, callee)
    assert call(callee, caller=dataclasses.replace(OUTSIDER, number="")) == Reject(
        RejectReason.REFUSED, callee
    )
    assert rung(call(callee, caller=OUTSIDER)) == [1]
    assert rung(call(callee, caller=BOB)) == [1]


@pytest.mark.parametrize(
    ("listed", "presented"),
    [("06 99 88 77 66", "+33699887766"), ("+33699887766", "0699887766")],
    ids=["listed-nationally", "listed-in-e164"],
)
def test_a_black_listed_outside_number_is_recognised_in_either_form(listed: str, presented: str) -> None:
    callee = carol(
        device(1), screening=Screening.BLACKLIST, screened_numbers=frozenset({canonical(listed, "33")})
    )

    plan = call(callee, caller=dataclasses.replace(OUTSIDER, number=presented))

    assert plan == Reject(RejectReason.REFUSED, callee)


def test_with_screening_off_a_list_has_no_effect() -> None:
    callee = carol(device(1), screening=Screening.OFF, screened_numbers=frozenset({"101"}))

    assert not refused(CallFacts(BOB, "102"), callee, ACME)


def test_a_company_without_barring_rules_lets_its_users_call_any_number() -> None:
    assert not barred("+33612345678", "out", 11, ACME)
    assert not barred("+447700900123", "out", 11, ACME)
    assert not barred("+447700900123", "in", 11, ACME)
    assert barred("+33612345678", "out", 11, FORBID_06_BUT_ONE) is False
    assert barred("+33698765432", "out", 11, FORBID_06_BUT_ONE) is True
