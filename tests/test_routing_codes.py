"""Dial codes (B2, B3, B4, E10) and the voicemail service: what a string starting with * asks for."""

from __future__ import annotations

import dataclasses

import pytest

from telephony.routing import (
    DEFAULT_DIAL_CODES,
    VOICEMAIL_DROP_CODE,
    ApplyDialCode,
    DialCode,
    Feature,
    Reject,
    RejectReason,
    Unknown,
    Voicemail,
    VoicemailMenu,
    VoicemailService,
    callee_number,
    dial_code_table,
    interpret,
)

from .test_routing import ACME, BOB, HIDDEN, MAILBOX, OUTSIDER, call, carol, device, rule

EVERY_DEFAULT_CODE = [
    ("*2103", Feature.FORWARD_ALWAYS_ON, "103"),
    ("*3", Feature.FORWARD_ALWAYS_OFF, ""),
    ("*2*103", Feature.FORWARD_BUSY_ON, "103"),
    ("*031", Feature.FORWARD_BUSY_OFF, ""),
    ("*2#103", Feature.FORWARD_NO_ANSWER_ON, "103"),
    ("*032", Feature.FORWARD_NO_ANSWER_OFF, ""),
    ("*8", Feature.DND_ON, ""),
    ("*9", Feature.DND_OFF, ""),
    ("*42103", Feature.CALL_WAITING_ON_FOR, "103"),
    ("*41103", Feature.CALL_WAITING_OFF_FOR, "103"),
    ("*44", Feature.CALL_WAITING_ON, ""),
    ("*43", Feature.CALL_WAITING_OFF, ""),
    ("*86102", Feature.VOICEMAIL_DROP, "102"),
]


def test_every_feature_has_a_default_code_and_the_table_covers_them() -> None:
    assert {feature for _, feature, _ in EVERY_DEFAULT_CODE} == set(Feature)
    assert set(DEFAULT_DIAL_CODES) == set(Feature)
    assert VOICEMAIL_DROP_CODE == "*86"


@pytest.mark.parametrize(
    ("dialled", "feature", "argument"), EVERY_DEFAULT_CODE, ids=[c for c, _, _ in EVERY_DEFAULT_CODE]
)
def test_each_default_code_means_its_feature(dialled: str, feature: Feature, argument: str) -> None:
    assert interpret(dialled, ACME) == DialCode(feature, argument)


@pytest.mark.parametrize(
    ("dialled", "feature", "argument"),
    [c for c in EVERY_DEFAULT_CODE if c[1] != Feature.VOICEMAIL_DROP],
    ids=[c for c, f, _ in EVERY_DEFAULT_CODE if f != Feature.VOICEMAIL_DROP],
)
def test_a_setting_code_dialled_from_a_phone_changes_the_callers_setting(
    dialled: str, feature: Feature, argument: str
) -> None:
    assert call(None, dialled) == ApplyDialCode(feature, argument, BOB.user_id or 0)


def test_star_2_star_is_busy_forwarding_and_star_2_directly_followed_by_the_number_is_always() -> None:
    assert interpret("*2*103", ACME) == DialCode(Feature.FORWARD_BUSY_ON, "103")
    assert interpret("*2103", ACME) == DialCode(Feature.FORWARD_ALWAYS_ON, "103")
    assert interpret("*2#103", ACME) == DialCode(Feature.FORWARD_NO_ANSWER_ON, "103")


def test_forwarding_by_code_to_an_outside_number_takes_it_as_dialled_with_the_prefix() -> None:
    assert interpret("*200612345678", ACME) == DialCode(Feature.FORWARD_ALWAYS_ON, "+33612345678")
    assert interpret("*2*+447700900123", ACME) == DialCode(Feature.FORWARD_BUSY_ON, "+447700900123")


def test_forwarding_by_code_to_a_speed_dial_takes_its_number() -> None:
    policy = dataclasses.replace(ACME, speed_dials={"230": "+33145678900"})

    assert interpret("*2#230", policy) == DialCode(Feature.FORWARD_NO_ANSWER_ON, "+33145678900")


def test_star_86_drops_a_message_in_the_colleagues_mailbox_without_ringing() -> None:
    callee = carol(device(1), mailbox_id=MAILBOX)

    assert callee_number("*86102", ACME) == "102"
    assert call(callee, "*86102") == Voicemail(MAILBOX, callee)


def test_star_86_drops_a_message_even_when_the_colleague_forwards_everything() -> None:
    callee = carol(device(1), mailbox_id=MAILBOX, rules=(rule(1, "always", number="103"),), dnd=True)

    assert call(callee, "*86102") == Voicemail(MAILBOX, callee)


def test_star_86_to_a_colleague_without_a_mailbox_or_to_nobody_is_an_unknown_number() -> None:
    assert call(carol(device(1)), "*86102") == Reject(RejectReason.UNKNOWN_NUMBER)
    assert call(None, "*86199") == Reject(RejectReason.UNKNOWN_NUMBER)


@pytest.mark.parametrize("dialled", ["*7", "*99", "*2*", "*2", "*86", "*42", "#5", "*2abc", "*8*", "**", "*"])
def test_an_unknown_or_incomplete_code_is_unknown(dialled: str) -> None:
    assert interpret(dialled, ACME) == Unknown()
    assert call(None, dialled) == Reject(RejectReason.UNKNOWN_NUMBER)


def test_a_code_naming_the_voicemail_service_as_a_forward_is_unknown() -> None:
    assert interpret("*2555", ACME) == Unknown()


def test_codes_cannot_be_dialled_from_outside() -> None:
    assert call(None, "*8", caller=OUTSIDER) == Reject(RejectReason.UNKNOWN_NUMBER)
    assert call(None, "*2103", caller=HIDDEN) == Reject(RejectReason.UNKNOWN_NUMBER)


def test_a_company_can_change_a_code_and_the_old_one_no_longer_works() -> None:
    policy = dataclasses.replace(
        ACME, dial_codes=dial_code_table({"dnd_on": "*78", "forward_always_on": "*72"})
    )

    assert interpret("*78", policy) == DialCode(Feature.DND_ON)
    assert interpret("*8", policy) == Unknown()
    assert interpret("*72103", policy) == DialCode(Feature.FORWARD_ALWAYS_ON, "103")
    assert interpret("*2103", policy) == Unknown()
    # The other codes keep their defaults.
    assert interpret("*2*103", policy) == DialCode(Feature.FORWARD_BUSY_ON, "103")
    assert interpret("*9", policy) == DialCode(Feature.DND_OFF)


def test_a_company_code_longer_than_a_default_one_is_recognised_first() -> None:
    policy = dataclasses.replace(ACME, dial_codes=dial_code_table({"dnd_off": "*21"}))

    assert interpret("*21", policy) == DialCode(Feature.DND_OFF)
    assert interpret("*2103", policy) == DialCode(Feature.FORWARD_ALWAYS_ON, "103")
    assert interpret("*9", policy) == Unknown()


def test_unknown_features_and_empty_codes_in_a_companys_table_are_ignored() -> None:
    table = dial_code_table({"teleport": "*5", "dnd_on": "", "DND_OFF": "*0"})

    assert table == dial_code_table()
    assert interpret("*5", dataclasses.replace(ACME, dial_codes=table)) == Unknown()


def test_the_table_lists_longer_codes_first() -> None:
    lengths = [len(code) for code, _ in dial_code_table({"dnd_on": "*7777"})]

    assert lengths == sorted(lengths, reverse=True)


def test_the_voicemail_service_number_opens_the_callers_own_mailbox_menu() -> None:
    assert interpret("555", ACME) == VoicemailService()
    assert call(None, "555") == VoicemailMenu(owner_user_id=BOB.user_id)
    assert call(None, "555", caller=OUTSIDER) == VoicemailMenu(owner_user_id=None)


def test_nothing_or_letters_dialled_is_an_unknown_number() -> None:
    assert call(None, "") == Reject(RejectReason.UNKNOWN_NUMBER)
    assert call(None, "10a") == Reject(RejectReason.UNKNOWN_NUMBER)
    assert call(None, "+12") == Reject(RejectReason.UNKNOWN_NUMBER)
