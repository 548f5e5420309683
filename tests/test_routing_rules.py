"""Forwarding rules (B2), do not disturb (B3) and loops: what happens to a call to Carol (102) as her
rules, her presence, the time in Paris and the state of her phones say."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time
from typing import Any

import pytest

from telephony.routing import (
    MAX_FORWARDS,
    Callee,
    CallFacts,
    Forward,
    Origin,
    Party,
    Plan,
    Reject,
    RejectReason,
    RingDevices,
    Rule,
    Screening,
    Voicemail,
    matching_rules,
    plan_call,
)

from .test_routing import (
    ACME,
    BOB,
    CAROL_HOME,
    CAROL_MOBILE,
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
    remote,
    rule,
    rung,
)


def forwarded_to(plan: Plan) -> tuple[str, str, int] | None:
    """(number, condition, rule id) of a Forward plan, else None."""
    return (plan.number, plan.condition, plan.rule_id) if isinstance(plan, Forward) else None


def free_carol(*rules: Rule, **settings: Any) -> Callee:
    """Carol with one free phone, a mailbox, and these rules."""
    settings.setdefault("mailbox_id", MAILBOX)
    return carol(device(1), rules=rules, **settings)


# --- the order in which things are decided ----------------------------------------------------------


def test_an_always_rule_forwards_at_once_without_ringing_the_phones() -> None:
    plan = call(free_carol(rule(1, "always", number="103")))

    assert forwarded_to(plan) == ("103", "always", 1)
    assert isinstance(plan, Forward)
    assert (plan.external, plan.by_user_id, plan.label) == (False, 12, "rule 1")


def test_an_always_rule_beats_do_not_disturb() -> None:
    plan = call(free_carol(rule(1, "busy", number="104"), rule(2, "always", number="103"), dnd=True))

    assert forwarded_to(plan) == ("103", "always", 2)


def test_an_always_rule_forwards_even_a_user_without_any_phone() -> None:
    plan = call(carol(rules=(rule(1, "always", number="103"),)))

    assert forwarded_to(plan) == ("103", "always", 1)


def test_do_not_disturb_takes_the_busy_rule() -> None:
    plan = call(free_carol(rule(1, "busy", number="103"), rule(2, "no_answer", number="104"), dnd=True))

    assert forwarded_to(plan) == ("103", "busy", 1)


def test_do_not_disturb_without_a_busy_rule_sends_callers_to_voicemail() -> None:
    callee = free_carol(rule(1, "unreachable", number="103"), rule(2, "no_answer", number="104"), dnd=True)

    assert call(callee) == Voicemail(MAILBOX, callee)


def test_do_not_disturb_without_a_busy_rule_or_a_mailbox_gives_the_busy_signal() -> None:
    callee = free_carol(dnd=True, mailbox_id=None)

    assert call(callee) == Reject(RejectReason.BUSY, callee)


def test_do_not_disturb_comes_before_the_unreachable_rule_when_no_phone_can_ring() -> None:
    callee = carol(rules=(rule(1, "unreachable", number="103"),), dnd=True, mailbox_id=MAILBOX)

    assert call(callee) == Voicemail(MAILBOX, callee)


def test_no_phone_that_can_ring_takes_the_unreachable_rule() -> None:
    callee = carol(
        device(1, enabled=False),
        device(2, reachable=False),
        rules=(rule(1, "busy", number="104"), rule(2, "unreachable", number="103")),
        mailbox_id=MAILBOX,
    )

    assert forwarded_to(call(callee)) == ("103", "unreachable", 2)


def test_unreachable_comes_before_busy() -> None:
    callee = carol(
        device(1, reachable=False),
        rules=(rule(1, "busy", number="104"), rule(2, "unreachable", number="103")),
    )

    assert forwarded_to(call(callee)) == ("103", "unreachable", 2)


def test_every_phone_busy_takes_the_busy_rule() -> None:
    callee = carol(
        device(1, active_calls=1),
        rules=(rule(1, "unreachable", number="104"), rule(2, "busy", number="103")),
        mailbox_id=MAILBOX,
    )

    assert forwarded_to(call(callee)) == ("103", "busy", 2)


def test_every_phone_busy_without_a_busy_rule_gives_the_busy_signal_even_with_a_mailbox() -> None:
    callee = carol(device(1, active_calls=1), rules=(rule(1, "no_answer", number="103"),), mailbox_id=MAILBOX)

    assert call(callee) == Reject(RejectReason.BUSY, callee)


def test_a_free_phone_rings_and_the_no_answer_rule_waits_its_own_delay() -> None:
    callee = free_carol(rule(1, "no_answer", number="103", no_answer_after=8))

    plan = call(callee)

    assert isinstance(plan, RingDevices)
    assert plan.timeout == 8
    assert forwarded_to(plan.on_no_answer) == ("103", "no_answer", 1)


def test_a_phone_delayed_beyond_the_no_answer_rules_delay_does_not_ring() -> None:
    callee = carol(
        device(1, 0), device(2, 10), rules=(rule(1, "no_answer", number="103", no_answer_after=8),)
    )

    assert rung(call(callee)) == [1]


def test_while_ringing_busy_and_unreachable_phones_lead_to_their_rules() -> None:
    callee = free_carol(
        rule(1, "busy", number="103"), rule(2, "unreachable", destination="voicemail"), ring_timeout=25
    )

    plan = call(callee)

    assert isinstance(plan, RingDevices)
    assert plan.timeout == 25
    assert forwarded_to(plan.on_busy) == ("103", "busy", 1)
    assert plan.on_unreachable == Voicemail(MAILBOX, callee)
    assert plan.on_no_answer == Voicemail(MAILBOX, callee)


# --- which rule: conditions, order, what makes a rule match --------------------------------------------


def test_the_first_matching_rule_of_a_condition_wins() -> None:
    plan = call(free_carol(rule(1, "always", number="103"), rule(2, "always", number="104")))

    assert forwarded_to(plan) == ("103", "always", 1)


def test_a_disabled_rule_is_ignored() -> None:
    plan = call(free_carol(rule(1, "always", number="103", enabled=False), rule(2, "always", number="104")))

    assert forwarded_to(plan) == ("104", "always", 2)


def test_rules_of_each_condition_are_found_in_one_pass() -> None:
    callee = free_carol(
        rule(1, "no_answer", number="104"),
        rule(2, "busy", number="105"),
        rule(3, "unreachable", number="106"),
        rule(4, "busy", number="107"),
    )

    found = matching_rules(CallFacts(BOB, "102"), callee, NOW, ACME)

    assert {condition: r.rule_id for condition, (r, _) in found.items()} == {
        "no_answer": 1,
        "busy": 2,
        "unreachable": 3,
    }


@pytest.mark.parametrize(
    ("rule_origin", "caller", "applies"),
    [
        ("all", BOB, True),
        ("all", OUTSIDER, True),
        ("all", HIDDEN, True),
        ("internal", BOB, True),
        ("internal", OUTSIDER, False),
        ("internal", HIDDEN, False),
        ("external", BOB, False),
        ("external", OUTSIDER, True),
        ("external", HIDDEN, True),
        ("anonymous", BOB, False),
        ("anonymous", OUTSIDER, False),
        ("anonymous", HIDDEN, True),
        ("anonymous", dataclasses.replace(OUTSIDER, number=""), True),
    ],
    ids=[
        "all-internal",
        "all-outside",
        "all-withheld",
        "internal-internal",
        "internal-outside",
        "internal-withheld",
        "external-internal",
        "external-outside",
        "external-withheld",
        "anonymous-internal",
        "anonymous-outside",
        "anonymous-withheld",
        "anonymous-no-number",
    ],
)
def test_a_rule_applies_to_the_calls_of_its_origin_only(
    rule_origin: str, caller: Party, applies: bool
) -> None:
    plan = call(free_carol(rule(1, "always", number="104", origin=rule_origin)), caller=caller)

    assert (forwarded_to(plan) is not None) == applies


def test_a_rule_for_listed_callers_forwards_only_their_calls() -> None:
    callee = free_carol(rule(1, "always", number="104", origin="listed", callers=["103", "109"]))

    assert forwarded_to(call(callee, caller=DAVE)) == ("104", "always", 1)
    assert rung(call(callee, caller=BOB)) == [1]


@pytest.mark.parametrize(
    ("listed", "presented"),
    [
        ("06 99 88 77 66", "+33699887766"),
        ("0699887766", "+33699887766"),
        ("+33699887766", "0699887766"),
        ("+33 6 99 88 77 66", "+33699887766"),
    ],
    ids=["national-listed", "national-listed-no-spaces", "e164-listed", "e164-listed-with-spaces"],
)
def test_a_listed_outside_caller_is_recognised_whether_written_nationally_or_in_e164(
    listed: str, presented: str
) -> None:
    callee = free_carol(rule(1, "always", number="104", origin="listed", callers=[listed]))

    plan = call(callee, caller=dataclasses.replace(OUTSIDER, number=presented))

    assert forwarded_to(plan) == ("104", "always", 1)


def test_a_withheld_number_never_matches_a_list_of_callers() -> None:
    callee = free_carol(rule(1, "always", number="104", origin="listed", callers=["0699887766"]))

    assert rung(call(callee, caller=HIDDEN)) == [1]


def test_a_holiday_rule_sends_calls_to_the_mobile_only_while_on_holiday() -> None:
    holiday = rule(1, "always", destination="mobile", presences=["holiday"])

    on_holiday = call(free_carol(holiday, mobile_number=CAROL_MOBILE, presence="holiday"))
    at_work = call(free_carol(holiday, mobile_number=CAROL_MOBILE, presence="available"))

    assert forwarded_to(on_holiday) == (CAROL_MOBILE, "always", 1)
    assert isinstance(on_holiday, Forward) and on_holiday.external
    assert rung(at_work) == [1]


def test_a_rule_for_several_presences_applies_in_each_of_them() -> None:
    away = rule(1, "always", number="103", presences=["meeting", "training"])

    for presence, forwarded in [("meeting", True), ("training", True), ("sick", False), ("available", False)]:
        assert (forwarded_to(call(free_carol(away, presence=presence))) is not None) == forwarded, presence


def test_a_presence_rule_for_no_answer_only_changes_what_happens_when_nobody_answers() -> None:
    callee = free_carol(
        rule(1, "no_answer", number="103", presences=["meeting"]),
        rule(2, "no_answer", destination="voicemail"),
        presence="meeting",
    )

    plan = call(callee)

    assert isinstance(plan, RingDevices) and forwarded_to(plan.on_no_answer) == ("103", "no_answer", 1)


# --- time windows and days, in the company's time zone ------------------------------------------------


OFFICE_HOURS = rule(1, "always", number="103", time_from=time(9), time_to=time(19))


def at_utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def forwards_at(forwarding_rule: Rule, now: datetime, **settings: Any) -> bool:
    return forwarded_to(call(free_carol(forwarding_rule, **settings), now=now)) is not None


@pytest.mark.parametrize(
    ("now", "active"),
    [
        (at_utc(2026, 11, 25, 7, 59), False),  # 08:59 in Paris (UTC+1)
        (at_utc(2026, 11, 25, 8, 0), True),  # 09:00
        (at_utc(2026, 11, 25, 8, 30), True),  # 09:30
        (at_utc(2026, 11, 25, 17, 59), True),  # 18:59
        (at_utc(2026, 11, 25, 18, 0), False),  # 19:00: the window is over
        (at_utc(2026, 11, 25, 18, 30), False),  # 18:30 UTC, but 19:30 in Paris
    ],
    ids=["08:59", "09:00", "09:30", "18:59", "19:00", "19:30"],
)
def test_a_9_to_19_rule_is_active_in_office_hours_in_paris_time(now: datetime, active: bool) -> None:
    assert forwards_at(OFFICE_HOURS, now) == active


@pytest.mark.parametrize(
    ("now", "label"),
    [
        (at_utc(2026, 3, 28, 8, 30), "Saturday before the change, UTC+1"),
        (at_utc(2026, 3, 29, 7, 30), "the Sunday of the change, UTC+2"),
        (at_utc(2026, 3, 30, 7, 30), "Monday after, UTC+2"),
        (at_utc(2026, 10, 24, 7, 30), "Saturday before the change, UTC+2"),
        (at_utc(2026, 10, 25, 8, 30), "the Sunday of the change, UTC+1"),
        (at_utc(2026, 10, 26, 8, 30), "Monday after, UTC+1"),
    ],
    ids=["march-before", "march-sunday", "march-after", "october-before", "october-sunday", "october-after"],
)
def test_a_9_to_19_rule_is_active_at_9_30_paris_time_on_both_sides_of_a_clock_change(
    now: datetime, label: str
) -> None:
    assert forwards_at(OFFICE_HOURS, now), label


@pytest.mark.parametrize(
    "now",
    [
        at_utc(2026, 3, 29, 6, 30),  # 08:30 in Paris after the change (it would be 07:30 in winter time)
        at_utc(2026, 3, 29, 17, 30),  # 19:30 in Paris after the change
        at_utc(2026, 10, 24, 6, 30),  # 08:30 in Paris, summer time
        at_utc(2026, 10, 25, 18, 0),  # 19:00 in Paris, winter time again
    ],
    ids=["march-08:30", "march-19:30", "october-08:30", "october-19:00"],
)
def test_a_9_to_19_rule_is_off_outside_office_hours_across_clock_changes(now: datetime) -> None:
    assert not forwards_at(OFFICE_HOURS, now)


NIGHT = rule(1, "always", destination="voicemail", time_from=time(22), time_to=time(6))


@pytest.mark.parametrize(
    ("now", "active"),
    [
        (at_utc(2026, 11, 25, 20, 59), False),  # 21:59
        (at_utc(2026, 11, 25, 21, 0), True),  # 22:00
        (at_utc(2026, 11, 25, 23, 30), True),  # 00:30 the next day
        (at_utc(2026, 11, 26, 4, 59), True),  # 05:59
        (at_utc(2026, 11, 26, 5, 0), False),  # 06:00
        (at_utc(2026, 11, 26, 11, 0), False),  # noon
        (at_utc(2026, 10, 25, 0, 30), True),  # 02:30 summer time, the night the clocks go back
        (at_utc(2026, 10, 25, 1, 30), True),  # 02:30 again, winter time
        (at_utc(2026, 10, 25, 4, 30), True),  # 05:30 winter time
        (at_utc(2026, 10, 25, 5, 0), False),  # 06:00 winter time (05:00 UTC)
        (at_utc(2026, 3, 29, 0, 30), True),  # 01:30 winter time, the night the clocks go forward
        (at_utc(2026, 3, 29, 3, 59), True),  # 05:59 summer time
        (at_utc(2026, 3, 29, 4, 0), False),  # 06:00 summer time (04:00 UTC)
    ],
    ids=[
        "21:59",
        "22:00",
        "00:30",
        "05:59",
        "06:00",
        "noon",
        "oct-02:30-summer",
        "oct-02:30-winter",
        "oct-05:30",
        "oct-06:00",
        "march-01:30",
        "march-05:59",
        "march-06:00",
    ],
)
def test_a_night_rule_from_22_to_6_spans_midnight(now: datetime, active: bool) -> None:
    callee = free_carol(NIGHT)

    assert (call(callee, now=now) == Voicemail(MAILBOX, callee)) == active


def test_a_weekday_rule_is_off_at_the_weekend() -> None:
    weekdays = rule(1, "always", number="103", days=[0, 1, 2, 3, 4])

    assert forwards_at(weekdays, at_utc(2026, 11, 27, 10))  # Friday
    assert not forwards_at(weekdays, at_utc(2026, 11, 28, 10))  # Saturday
    assert not forwards_at(weekdays, at_utc(2026, 11, 29, 10))  # Sunday
    assert forwards_at(weekdays, at_utc(2026, 11, 30, 10))  # Monday


def test_the_day_of_a_rule_is_the_day_in_paris_not_in_utc() -> None:
    mondays = rule(1, "always", number="103", days=[0])

    # Sunday 23:30 UTC is already Monday 00:30 in Paris (winter) ...
    assert forwards_at(mondays, at_utc(2026, 11, 29, 23, 30))
    # ... and Monday 23:30 UTC is Tuesday there.
    assert not forwards_at(mondays, at_utc(2026, 11, 30, 23, 30))
    # In summer, Sunday 22:30 UTC is Monday 00:30 in Paris.
    assert forwards_at(mondays, at_utc(2026, 6, 28, 22, 30))


def test_days_and_hours_together_make_a_weekly_schedule() -> None:
    lunch_on_weekdays = rule(
        1, "always", number="103", days=[0, 1, 2, 3, 4], time_from=time(12), time_to=time(14)
    )

    assert forwards_at(lunch_on_weekdays, at_utc(2026, 11, 25, 11, 30))  # Wednesday 12:30
    assert not forwards_at(lunch_on_weekdays, at_utc(2026, 11, 25, 14, 30))  # Wednesday 15:30
    assert not forwards_at(lunch_on_weekdays, at_utc(2026, 11, 28, 11, 30))  # Saturday 12:30


def test_a_rule_in_another_companys_time_zone_follows_that_zone() -> None:
    policy = dataclasses.replace(ACME, timezone="America/New_York")

    # 14:30 UTC is 09:30 in New York (UTC-5) but 15:30 in Paris.
    plan = call(free_carol(OFFICE_HOURS), now=at_utc(2026, 11, 25, 14, 30), policy=policy)
    early = call(free_carol(OFFICE_HOURS), now=at_utc(2026, 11, 25, 13, 30), policy=policy)

    assert forwarded_to(plan) is not None
    assert forwarded_to(early) is None


# --- where a rule sends the call, and when it cannot ----------------------------------------------------


def test_a_receptionist_rule_forwards_to_the_companys_receptionist() -> None:
    plan = call(free_carol(rule(1, "always", destination="receptionist")))

    assert forwarded_to(plan) == ("100", "always", 1)
    assert isinstance(plan, Forward) and not plan.external


def test_a_receptionist_rule_is_passed_over_when_the_company_has_none() -> None:
    policy = dataclasses.replace(ACME, receptionist="")

    assert rung(call(free_carol(rule(1, "always", destination="receptionist")), policy=policy)) == [1]


def test_the_receptionists_own_receptionist_rule_is_passed_over() -> None:
    policy = dataclasses.replace(ACME, receptionist="102")

    assert rung(call(free_carol(rule(1, "always", destination="receptionist")), policy=policy)) == [1]


def test_home_and_mobile_rules_forward_to_the_users_own_numbers_outside() -> None:
    callee = free_carol(
        rule(1, "busy", destination="home"),
        rule(2, "no_answer", destination="mobile"),
        home_number=CAROL_HOME,
        mobile_number=CAROL_MOBILE,
    )

    plan = call(callee)

    assert isinstance(plan, RingDevices)
    assert isinstance(plan.on_busy, Forward) and isinstance(plan.on_no_answer, Forward)
    assert (plan.on_busy.number, plan.on_busy.external) == (CAROL_HOME, True)
    assert (plan.on_no_answer.number, plan.on_no_answer.external) == (CAROL_MOBILE, True)


def test_a_mobile_rule_without_a_mobile_number_is_passed_over_for_the_next_rule() -> None:
    callee = free_carol(rule(1, "always", destination="mobile"), rule(2, "always", number="103"))

    assert forwarded_to(call(callee)) == ("103", "always", 2)


def test_a_home_rule_without_a_home_number_is_passed_over() -> None:
    assert rung(call(free_carol(rule(1, "always", destination="home"), mobile_number=CAROL_MOBILE))) == [1]


def test_a_voicemail_rule_sends_callers_to_the_mailbox() -> None:
    callee = free_carol(rule(1, "always", destination="voicemail"))

    assert call(callee) == Voicemail(MAILBOX, callee)


def test_a_voicemail_rule_without_a_mailbox_is_passed_over() -> None:
    callee = free_carol(
        rule(1, "always", destination="voicemail"), rule(2, "always", number="103"), mailbox_id=None
    )

    assert forwarded_to(call(callee)) == ("103", "always", 2)


def test_a_rule_to_the_users_own_extension_is_passed_over() -> None:
    assert rung(call(free_carol(rule(1, "always", number="102")))) == [1]


def test_a_rule_to_an_outside_number_forwards_there_in_e164() -> None:
    plan = call(free_carol(rule(1, "always", number="01 45 67 89 00")))

    assert forwarded_to(plan) == ("+33145678900", "always", 1)
    assert isinstance(plan, Forward) and plan.external


def test_a_rule_to_an_outside_number_the_user_may_not_call_is_passed_over() -> None:
    policy = dataclasses.replace(
        ACME, barring=(barring_rule("out", number_class="international", user_id=12),)
    )
    callee = free_carol(rule(1, "no_answer", number="+447700900123"))

    plan = call(callee, policy=policy)

    assert isinstance(plan, RingDevices) and plan.on_no_answer == Voicemail(MAILBOX, callee)
    assert plan.timeout == callee.ring_timeout


def test_a_rule_to_an_outside_number_barred_for_someone_else_still_forwards() -> None:
    policy = dataclasses.replace(
        ACME, barring=(barring_rule("out", number_class="international", user_id=11),)
    )

    plan = call(free_carol(rule(1, "always", number="+447700900123")), policy=policy)

    assert forwarded_to(plan) == ("+447700900123", "always", 1)


def test_a_forward_outside_presents_the_forwarders_number_for_a_colleague_else_the_callers_own() -> None:
    callee = free_carol(rule(1, "always", number="0611223344"), outside_number="+33140000102")

    from_bob = call(callee, caller=BOB)
    from_outside = call(callee, caller=OUTSIDER)
    from_hidden = call(callee, caller=HIDDEN)
    national = call(callee, caller=dataclasses.replace(OUTSIDER, number="0699887766"))

    assert isinstance(from_bob, Forward) and from_bob.caller_outside_number == "+33140000102"
    assert isinstance(from_outside, Forward) and from_outside.caller_outside_number == "+33699887766"
    assert isinstance(from_hidden, Forward) and from_hidden.caller_outside_number == ""
    assert isinstance(national, Forward) and national.caller_outside_number == "+33699887766"


# --- a forwarded call decided again: loops and the limit ----------------------------------------------


def follow(forward: Plan, caller: Party, forwarded_by: tuple[int, ...], callee: Callee | None) -> Plan:
    """What the bridge does with a Forward: the same call, decided again for the new number."""
    assert isinstance(forward, Forward)
    origin = Origin.EXTERNAL if caller.user_id is None else Origin.INTERNAL
    facts = CallFacts(caller, forward.number, origin, (*forwarded_by, forward.by_user_id))
    return plan_call(facts, callee, NOW, ACME)


def test_two_users_forwarding_to_each_other_end_on_the_first_ones_phones() -> None:
    carol_to_dave = free_carol(rule(1, "always", number="103"))
    dave_to_carol = dave(device(7), rules=(rule(2, "always", number="102"),))

    first = call(carol_to_dave)
    second = follow(first, BOB, (), dave_to_carol)
    third = follow(second, BOB, (12,), carol_to_dave)

    assert forwarded_to(first) == ("103", "always", 1)
    assert forwarded_to(second) == ("102", "always", 2)
    assert rung(third) == [1]
    assert isinstance(third, RingDevices)
    assert third.on_no_answer == Voicemail(MAILBOX, carol_to_dave), "no rule applies to her again"


def test_a_user_already_on_the_forwarding_path_has_no_rules_applied_even_when_busy() -> None:
    callee = carol(device(1, active_calls=1), rules=(rule(1, "busy", number="103"),), mailbox_id=MAILBOX)

    assert call(callee, forwarded_by=(13, 12)) == Reject(RejectReason.BUSY, callee)


def test_do_not_disturb_still_holds_for_a_user_already_on_the_forwarding_path() -> None:
    callee = free_carol(rule(1, "always", number="103"), dnd=True)

    assert call(callee, forwarded_by=(12,)) == Voicemail(MAILBOX, callee)


def test_after_the_maximum_number_of_forwards_the_phones_ring() -> None:
    callee = free_carol(rule(1, "always", number="103"))
    others = tuple(range(100, 100 + MAX_FORWARDS))

    assert forwarded_to(call(callee, forwarded_by=others[:-1])) == ("103", "always", 1)
    assert rung(call(callee, forwarded_by=others)) == [1]


def test_a_forwarded_call_meets_the_next_users_black_list() -> None:
    blocking = dave(device(7), screening=Screening.BLACKLIST, screened_numbers=frozenset({"101"}))

    first = call(free_carol(rule(1, "always", number="103")))
    second = follow(first, BOB, (), blocking)

    assert second == Reject(RejectReason.REFUSED, blocking)


def test_a_remote_terminal_and_a_rule_work_together() -> None:
    callee = carol(
        device(1),
        remote(2, "0611223344", 5, confirm=True),
        rules=(rule(1, "no_answer", destination="voicemail", no_answer_after=20),),
        mailbox_id=MAILBOX,
    )

    plan = call(callee)

    assert isinstance(plan, RingDevices)
    assert [(t.device_id, t.delay, t.confirm) for t in plan.targets] == [(1, 0, False), (2, 5, True)]
    assert plan.on_no_answer == Voicemail(MAILBOX, callee)
