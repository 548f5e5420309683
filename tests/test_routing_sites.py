"""Sites in the routing decision (C5) and the time windows of forwarding rules: a callee's rules
follow the time zone of their site, else the company's; a window across midnight belongs to the day it
starts on; a window that ends when it starts is never active."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.routing import INDEX_RULES_FROM, Callee, Forward, Plan, RingDevices, Rule, Voicemail

from .test_routing import ACME, BOB, MAILBOX, OUTSIDER, barring_rule, call, carol, device, rule

MONDAY, TUESDAY, SUNDAY = 0, 1, 6


def at_paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))


def free_carol(*rules: Rule) -> Callee:
    return carol(device(1), rules=rules, mailbox_id=MAILBOX)


def to_voicemail(plan: Plan) -> bool:
    return isinstance(plan, Voicemail)


# --- the callee's site time zone --------------------------------------------------------------------


OFFICE_HOURS = rule(1, "always", destination="voicemail", time_from=time(9), time_to=time(18))


def test_a_rule_follows_the_time_zone_of_the_callees_site() -> None:
    # given: Carol works at a New York site of a Paris company; 14:30 UTC is 09:30 there, 15:30 in Paris
    callee = carol(device(1), rules=(OFFICE_HOURS,), mailbox_id=MAILBOX, timezone="America/New_York")
    early_in_new_york = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)  # 08:30 there, 14:30 in Paris

    # when / then
    assert to_voicemail(call(callee, now=datetime(2026, 11, 25, 14, 30, tzinfo=UTC)))
    assert not to_voicemail(call(callee, now=early_in_new_york))


def test_a_callee_without_a_site_time_zone_follows_the_companys() -> None:
    callee = carol(device(1), rules=(OFFICE_HOURS,), mailbox_id=MAILBOX)

    assert to_voicemail(call(callee, now=datetime(2026, 11, 25, 13, 30, tzinfo=UTC)))  # 14:30 in Paris
    assert not to_voicemail(call(callee, now=datetime(2026, 11, 25, 17, 30, tzinfo=UTC)))  # 18:30


def test_the_days_of_a_rule_are_the_days_at_the_callees_site() -> None:
    # Monday 02:00 in Paris is still Sunday 20:00 in New York.
    mondays = rule(1, "always", destination="voicemail", days=[MONDAY])
    now = at_paris(2026, 11, 23, 2)

    assert to_voicemail(call(carol(device(1), rules=(mondays,), mailbox_id=MAILBOX), now=now))
    new_yorker = carol(device(1), rules=(mondays,), mailbox_id=MAILBOX, timezone="America/New_York")
    assert not to_voicemail(call(new_yorker, now=now))


def test_the_site_time_zone_holds_with_many_rules_too() -> None:
    # given: enough rules for the rule index to be used
    filler = tuple(
        rule(n, "always", destination="voicemail", presences=["holiday"])
        for n in range(2, INDEX_RULES_FROM + 2)
    )
    callee = carol(device(1), rules=(OFFICE_HOURS, *filler), mailbox_id=MAILBOX, timezone="America/New_York")

    assert to_voicemail(call(callee, now=datetime(2026, 11, 25, 14, 30, tzinfo=UTC)))
    assert not to_voicemail(call(callee, now=datetime(2026, 11, 25, 13, 30, tzinfo=UTC)))


def test_a_receptionist_rule_goes_to_the_site_receptionist_when_the_site_has_one() -> None:
    to_receptionist = rule(1, "always", destination="receptionist")

    at_site = call(carol(device(1), rules=(to_receptionist,), receptionist="104"))
    without = call(carol(device(1), rules=(to_receptionist,)))

    assert isinstance(at_site, Forward) and at_site.number == "104"
    assert isinstance(without, Forward) and without.number == ACME.receptionist


def test_a_colleague_of_another_site_is_an_internal_call_showing_the_extension() -> None:
    # Sites share one extension plan: Bob (Paris) calls Carol (Lyon) by her extension.
    plan = call(carol(device(1), timezone="Europe/Paris", receptionist="104"))

    assert isinstance(plan, RingDevices)
    assert (plan.caller_id_number, plan.caller_id_name, plan.external) == ("101", "Bob", False)


def test_outgoing_barring_never_stops_a_call_to_a_colleague_of_another_site() -> None:
    barred_everywhere = dataclasses.replace(
        ACME, barring=(barring_rule("out", number_class="national"), barring_rule("out", prefix="1"))
    )

    plan = call(carol(device(1), timezone="Europe/Paris"), policy=barred_everywhere)

    assert isinstance(plan, RingDevices) and not plan.external


# --- a window across midnight belongs to the day it starts on ----------------------------------------

MONDAY_NIGHT = rule(1, "always", destination="voicemail", days=[MONDAY], time_from=time(22), time_to=time(6))


@pytest.mark.parametrize(
    ("now", "active"),
    [
        (at_paris(2026, 11, 23, 21, 59), False),  # Monday 21:59
        (at_paris(2026, 11, 23, 22, 0), True),  # Monday 22:00
        (at_paris(2026, 11, 23, 23, 30), True),  # Monday 23:30
        (at_paris(2026, 11, 24, 3, 0), True),  # Tuesday 03:00: still Monday's night
        (at_paris(2026, 11, 24, 5, 59), True),  # Tuesday 05:59
        (at_paris(2026, 11, 24, 6, 0), False),  # Tuesday 06:00: over
        (at_paris(2026, 11, 23, 3, 0), False),  # Monday 03:00: Sunday's night, not selected
        (at_paris(2026, 11, 24, 22, 30), False),  # Tuesday 22:30: Tuesday's night, not selected
    ],
    ids=[
        "mon-21:59",
        "mon-22:00",
        "mon-23:30",
        "tue-03:00",
        "tue-05:59",
        "tue-06:00",
        "mon-03:00",
        "tue-22:30",
    ],
)
def test_a_monday_night_rule_runs_from_monday_22_to_tuesday_6(now: datetime, active: bool) -> None:
    assert to_voicemail(call(free_carol(MONDAY_NIGHT), now=now)) == active


def test_the_early_hours_of_monday_belong_to_sunday_night() -> None:
    sunday_and_monday = dataclasses.replace(MONDAY_NIGHT, days=frozenset({SUNDAY, MONDAY}))

    assert to_voicemail(call(free_carol(sunday_and_monday), now=at_paris(2026, 11, 23, 3)))


def test_a_night_rule_without_days_is_active_every_night() -> None:
    every_night = dataclasses.replace(MONDAY_NIGHT, days=frozenset())

    assert to_voicemail(call(free_carol(every_night), now=at_paris(2026, 11, 23, 3)))
    assert to_voicemail(call(free_carol(every_night), now=at_paris(2026, 11, 26, 23)))


def test_a_night_rule_belongs_to_its_day_with_many_rules_too() -> None:
    # The rule index sorts rules by day: the early hours of Tuesday must keep Monday's night rule.
    filler = tuple(
        rule(n, "always", destination="voicemail", presences=["holiday"])
        for n in range(2, INDEX_RULES_FROM + 2)
    )
    callee = free_carol(MONDAY_NIGHT, *filler)

    assert to_voicemail(call(callee, now=at_paris(2026, 11, 24, 3)))
    assert not to_voicemail(call(callee, now=at_paris(2026, 11, 23, 3)))


def test_a_window_that_ends_when_it_starts_is_never_active() -> None:
    empty = rule(1, "always", destination="voicemail", time_from=time(9), time_to=time(9))

    for hour in (0, 8, 9, 10, 23):
        assert not to_voicemail(call(free_carol(empty), now=at_paris(2026, 11, 25, hour)))


# --- the same, as a property -------------------------------------------------------------------------

hours = st.integers(0, 23).map(lambda h: time(h))
moments = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (naive bounds, as hypothesis wants them)
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def active_by_the_calendar(now: datetime, start: time, end: time, days: frozenset[int], zone: str) -> bool:
    """The window as a person reads a calendar: it opens at `start` on each selected day (every day
    if none) and stays open until the next `end` (the next day's, across midnight)."""
    local = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    for back in (0, 1):
        day = local.date() - timedelta(days=back)
        opens = datetime.combine(day, start)
        closes = datetime.combine(day + timedelta(days=1) if end < start else day, end)
        if (not days or day.weekday() in days) and opens <= local < closes:
            return True
    return False


@settings(max_examples=400, deadline=None)
@given(
    now=moments,
    start=hours,
    end=hours,
    days=st.frozensets(st.integers(0, 6), max_size=3),
    zone=st.sampled_from(["", "America/New_York", "Asia/Tokyo"]),
    from_outside=st.booleans(),
)
def test_a_time_window_is_active_exactly_when_the_calendar_says(
    now: datetime, start: time, end: time, days: frozenset[int], zone: str, from_outside: bool
) -> None:
    window = rule(1, "always", destination="voicemail", days=days, time_from=start, time_to=end)
    callee = carol(device(1), rules=(window,), mailbox_id=MAILBOX, timezone=zone)

    plan = call(callee, now=now, caller=OUTSIDER if from_outside else BOB)

    expected = start != end and active_by_the_calendar(now, start, end, days, zone or ACME.timezone)
    assert to_voicemail(plan) == expected
