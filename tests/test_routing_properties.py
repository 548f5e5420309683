"""Invariants of the routing decision, over generated companies, settings, callers and times.

* a disabled, unregistered or full phone never rings, nor any phone of a user in do not disturb;
* a number the user on whose behalf a call goes out may not call is never dialled, on any path:
  dialled, forwarded outside, a remote terminal, a speed dial;
* forwarding never loops: followed the way the bridge follows it, every branch of a call ends on
  phones, a mailbox or a refusal within MAX_FORWARDS forwards, and nobody forwards it twice;
* an "always" rule that matches wins over everything else the callee set;
* ring delays stay within 0-30 s and under the ring timeout, in order;
* time windows follow Paris wall-clock time, clock changes included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from telephony.numbers import canonical, to_e164
from telephony.routing import (
    INDEX_RULES_FROM,
    MAX_FORWARDS,
    BarringRule,
    Callee,
    CallFacts,
    DeviceKind,
    DeviceState,
    Forward,
    NumberClass,
    Origin,
    Party,
    Plan,
    Policy,
    Reject,
    RerouteToDid,
    RingDevices,
    Rule,
    Voicemail,
    barred,
    callee_number,
    matching_rules,
    plan_call,
    refused,
)

from .test_routing import ACME

# --- a small company to generate from ------------------------------------------------------------------

EXTENSIONS = ["201", "202", "203", "204", "205", "206", "207"]
USER_IDS = {ext: index + 1 for index, ext in enumerate(EXTENSIONS)}
OUTSIDE = [
    "+33612345678",
    "+33698765432",
    "+33711223344",
    "+33145678900",
    "+33899123456",
    "+447700900123",
    "+12125550100",
    "112",
    "3615",
]
# Prefixes as an admin types them; the query layer stores them in E.164 (to_e164).
PREFIXES = ["06", "0612345678", "07", "01", "08", "0899", "+44", "+4477", "+1", "3615", "112", "00", ""]
SPEED_DIALS = {"230": "+33612345678", "231": "+447700900123", "232": "205"}
PRESENCES = ["available", "meeting", "holiday", "sick"]
CONDITIONS = ["always", "busy", "no_answer", "unreachable"]
DESTINATIONS = ["receptionist", "home", "mobile", "voicemail", "number"]
ORIGINS = ["all", "anonymous", "external", "internal", "listed"]
WINDOWS: list[tuple[time | None, time | None]] = [
    (None, None),
    (time(9), time(19)),
    (time(22), time(6)),
    (time(12), time(14)),
]
# Between 2025 and 2030, every clock change included.
moments = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (naive bounds, as hypothesis wants them)
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)

barring_rules = st.builds(
    lambda direction, user, by_class, number_class, prefix, allow: BarringRule(
        direction,
        user,
        number_class=number_class if by_class else "",
        prefix="" if by_class or not prefix else to_e164(prefix, "33"),
        allow=allow,
    ),
    direction=st.sampled_from(["out", "out", "in"]),
    user=st.sampled_from([None, None, 1, 2, 3]),
    by_class=st.booleans(),
    number_class=st.sampled_from(list(NumberClass)),
    prefix=st.sampled_from(PREFIXES),
    allow=st.booleans(),
)

policies = st.builds(
    lambda prefix, receptionist, rules: dataclasses.replace(
        ACME, outside_prefix=prefix, receptionist=receptionist, speed_dials=SPEED_DIALS, barring=tuple(rules)
    ),
    prefix=st.sampled_from(["0", "9", ""]),
    receptionist=st.sampled_from(["", "201", "203"]),
    rules=st.lists(barring_rules, max_size=10),
)


@st.composite
def forwarding_rules(draw: st.DrawFn, rule_id: int, destinations: list[str], loose: bool = False) -> Rule:
    """A rule, more often than not one that matches any call (so calls do get forwarded); a loose
    one matches any call."""
    time_from, time_to = draw(st.sampled_from([(None, None), (None, None), *WINDOWS]))
    if loose:
        return Rule(
            rule_id=rule_id,
            condition=draw(st.sampled_from(CONDITIONS)),
            destination=draw(st.sampled_from(["number", "number", "number", "number", *DESTINATIONS])),
            destination_number=draw(st.sampled_from(destinations)),
            no_answer_after=draw(st.integers(5, 120)),
        )
    return Rule(
        rule_id=rule_id,
        condition=draw(st.sampled_from(CONDITIONS)),
        destination=draw(st.sampled_from(["number", "number", "number", *DESTINATIONS])),
        destination_number=draw(st.sampled_from(destinations)),
        enabled=draw(st.sampled_from([True, True, True, False])),
        no_answer_after=draw(st.integers(5, 120)),
        origin=draw(st.sampled_from(["all", "all", "all", *ORIGINS])),
        callers=draw(
            st.frozensets(st.sampled_from(["201", "202", "+33699887766", "+447700900123"]), max_size=2)
        ),
        presences=draw(
            st.sampled_from([frozenset(), frozenset(), frozenset({"holiday"}), frozenset(PRESENCES[:2])])
        ),
        days=draw(st.sampled_from([frozenset(), frozenset(), frozenset(range(5)), frozenset({5, 6})])),
        time_from=time_from,
        time_to=time_to,
    )


@st.composite
def phones(draw: st.DrawFn, first_id: int) -> tuple[DeviceState, ...]:
    count = draw(st.integers(0, 3))
    found = []
    for n in range(count):
        kind = draw(st.sampled_from([DeviceKind.SIP, DeviceKind.SIP, DeviceKind.REMOTE]))
        found.append(
            DeviceState(
                device_id=first_id + n,
                endpoint=f"phone-{first_id + n}",
                ring_delay=draw(st.integers(0, 40)),
                enabled=draw(st.sampled_from([True, True, True, False])),
                active_calls=draw(st.integers(0, 3)),
                max_calls=draw(st.integers(1, 3)),
                reachable=draw(st.sampled_from([True, True, True, False])),
                kind=kind,
                number=draw(st.sampled_from(OUTSIDE)) if kind == DeviceKind.REMOTE else "",
                confirm=draw(st.booleans()),
            )
        )
    return tuple(found)


@st.composite
def users(draw: st.DrawFn, extension: str, colleagues: list[str] = EXTENSIONS, loose: bool = False) -> Callee:
    """A user of the company; their rules forward to colleagues more often than outside."""
    user_id = USER_IDS[extension]
    destinations = [*colleagues, *colleagues, *colleagues, *OUTSIDE, "232", "231"]
    rule_count = draw(st.integers(1 if loose else 0, 5))
    return Callee(
        company_id=1,
        user_id=user_id,
        extension=extension,
        name=f"User {extension}",
        ring_timeout=draw(st.integers(5, 120)),
        devices=draw(phones(user_id * 10)),
        mailbox_id=draw(st.sampled_from([None, user_id * 100])),
        dnd=draw(st.booleans()),
        presence=draw(st.sampled_from(PRESENCES)),
        rules=tuple(
            draw(forwarding_rules(user_id * 100 + n, destinations, loose and draw(st.booleans())))
            for n in range(rule_count)
        ),
        home_number=draw(st.sampled_from(["", *OUTSIDE])),
        mobile_number=draw(st.sampled_from(["", *OUTSIDE])),
        outside_number=draw(st.sampled_from(["", f"+3314000{extension}"])),
    )


@st.composite
def companies(draw: st.DrawFn) -> dict[str, Callee]:
    """2 to 7 colleagues, about half their rules matching any call."""
    size = draw(st.integers(2, len(EXTENSIONS)))
    colleagues = EXTENSIONS[:size]
    return {ext: draw(users(ext, colleagues, loose=True)) for ext in colleagues}


def callers(directory: dict[str, Callee]) -> st.SearchStrategy[Party]:
    colleagues = [
        Party(
            company_id=1, user_id=c.user_id, number=c.extension, name=c.name, outside_number=c.outside_number
        )
        for c in directory.values()
    ]
    strangers = [
        Party(company_id=1, user_id=None, number="+33699887766", name="Outsider"),
        Party(company_id=1, user_id=None, number="0699887766", name="Outsider"),
        Party(company_id=1, user_id=None, number="+447700900123", name="Abroad"),
        Party(company_id=1, user_id=None, number="", name="", anonymous=True),
    ]
    return st.sampled_from(colleagues + strangers)


# --- following a call the way the bridge does ----------------------------------------------------------


def origin_of(caller: Party) -> Origin:
    return Origin.EXTERNAL if caller.user_id is None else Origin.INTERNAL


def onward(facts: CallFacts, forward: Forward) -> CallFacts:
    """The facts of a forwarded call: the same caller (shown outside as the forward says), the new
    number dialled, the forwarder added to the path."""
    caller = facts.caller
    if forward.external:
        caller = dataclasses.replace(caller, outside_number=forward.caller_outside_number)
    return CallFacts(caller, forward.number, facts.origin, (*facts.forwarded_by, forward.by_user_id))


Visit = Callable[[CallFacts, Callee | None, Plan, int], None]


def walk(
    facts: CallFacts, directory: dict[str, Callee], now: datetime, policy: Policy, visit: Visit, step: int = 1
) -> None:
    """Plan the call, then every way it can be forwarded on: at once, or when the phones ring and
    nobody answers, every phone is busy, or none can be reached."""
    callee = directory.get(callee_number(facts.dialled, policy))
    plan = plan_call(facts, callee, now, policy)
    visit(facts, callee, plan, step)
    if isinstance(plan, Forward):
        branches: list[Forward] = [plan]
    elif isinstance(plan, RingDevices):
        branches = [
            n for n in (plan.on_no_answer, plan.on_busy, plan.on_unreachable) if isinstance(n, Forward)
        ]
    else:
        branches = []
    for forward in branches:
        walk(onward(facts, forward), directory, now, policy, visit, step + 1)


def outside_numbers_dialled(facts: CallFacts, plan: Plan) -> list[tuple[str, int | None]]:
    """(number, on whose behalf) of every outside number a plan rings or forwards to."""
    found: list[tuple[str, int | None]] = []
    if isinstance(plan, RingDevices):
        for target in plan.targets:
            if plan.external:
                on_behalf = facts.forwarded_by[-1] if facts.forwarded_by else facts.caller.user_id
                found.append((target.number, on_behalf))
            elif target.number:
                assert plan.callee is not None
                found.append((target.number, plan.callee.user_id))
        nexts = [plan.on_no_answer, plan.on_busy, plan.on_unreachable]
    else:
        nexts = [plan] if isinstance(plan, Forward) else []
    found.extend((n.number, n.by_user_id) for n in nexts if isinstance(n, Forward) and n.external)
    return found


DIALLED = [
    *EXTENSIONS,
    "230",
    "231",
    "232",
    "555",
    "00612345678",
    "90612345678",
    "0612345678",
    "+447700900123",
]
# Whole companies are slow to generate: fewer of them, more single users.
many = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
some = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


# --- phones --------------------------------------------------------------------------------------------


@some
@given(data=st.data(), callee=users("202"), policy=policies, now=moments)
def test_only_enabled_registered_free_phones_of_a_user_not_in_dnd_ring_in_order_and_in_time(
    data: st.DataObject, callee: Callee, policy: Policy, now: datetime
) -> None:
    caller = data.draw(callers({callee.extension: callee}))
    forwarded_by = tuple(
        data.draw(st.lists(st.sampled_from(list(USER_IDS.values())), max_size=6, unique=True))
    )
    facts = CallFacts(caller, callee.extension, origin_of(caller), forwarded_by)

    plan = plan_call(facts, callee, now, policy)

    if callee.dnd:
        assert not isinstance(plan, RingDevices), "do not disturb never rings a phone"
    if not isinstance(plan, RingDevices):
        return
    assert plan.callee == callee and not plan.external
    assert plan.targets, "a ring plan rings something"
    phones_by_id = {d.device_id: d for d in callee.devices}
    for target in plan.targets:
        assert target.device_id is not None
        phone = phones_by_id[target.device_id]
        assert phone.enabled, "a disabled phone never rings"
        assert phone.reachable and phone.active_calls < phone.max_calls
        assert 0 <= target.delay <= 30 and target.delay < plan.timeout
        if phone.kind == DeviceKind.REMOTE:
            assert (target.endpoint, target.number, target.confirm) == (
                policy.trunk,
                phone.number,
                phone.confirm,
            )
        else:
            assert (target.endpoint, target.number, target.confirm) == (phone.endpoint, "", False)
    delays = [t.delay for t in plan.targets]
    assert delays == sorted(delays)
    assert len({t.device_id for t in plan.targets}) == len(plan.targets)
    timeouts = {callee.ring_timeout} | {r.no_answer_after for r in callee.rules}
    assert plan.timeout in timeouts


# --- barring -------------------------------------------------------------------------------------------


@many
@given(data=st.data(), directory=companies(), policy=policies, now=moments)
def test_a_barred_number_is_never_dialled_on_any_path(
    data: st.DataObject, directory: dict[str, Callee], policy: Policy, now: datetime
) -> None:
    caller = data.draw(callers(directory))
    dialled = data.draw(st.sampled_from(DIALLED))
    seen: list[str] = []

    def visit(facts: CallFacts, callee: Callee | None, plan: Plan, step: int) -> None:
        for number, on_behalf in outside_numbers_dialled(facts, plan):
            assert on_behalf is not None, f"{number} would go out on nobody's behalf"
            assert not barred(number, "out", on_behalf, policy), f"{number} is barred for user {on_behalf}"
            seen.append(number)
        if isinstance(plan, Reject) and plan.reason == "barred":
            seen.append("refused")

    walk(CallFacts(caller, dialled, origin_of(caller)), directory, now, policy, visit)
    event(f"outside numbers dialled: {min(len([n for n in seen if n != 'refused']), 3)}")
    event(f"barred calls refused: {min(seen.count('refused'), 2)}")


@many
@given(
    dialled=st.sampled_from([*OUTSIDE, "0612345678", "0044207946000", "0899123456"]),
    prefix=st.sampled_from(["0", "9", ""]),
    rules=st.lists(barring_rules, max_size=12),
    user=st.sampled_from([1, 2, 3, 4]),
)
def test_dialling_out_rings_the_trunk_exactly_when_the_number_is_not_barred(
    dialled: str, prefix: str, rules: list[BarringRule], user: int
) -> None:
    policy = dataclasses.replace(ACME, outside_prefix=prefix, barring=tuple(rules))
    number = to_e164(dialled, "33")
    caller = Party(company_id=1, user_id=user, number="201", name="U", outside_number="+33140000201")
    typed = number if number.startswith("+") else prefix + dialled
    if not prefix and len(typed) <= 6:
        return  # without a prefix a short number is an extension

    plan = plan_call(CallFacts(caller, typed), None, datetime(2026, 11, 25, tzinfo=UTC), policy)

    if barred(number, "out", user, policy):
        assert isinstance(plan, Reject) and plan.reason == "barred"
    else:
        assert isinstance(plan, RingDevices) and plan.external
        assert [t.number for t in plan.targets] == [number]


@many
@given(
    dialled=st.sampled_from([*OUTSIDE, "0612345678", "0044207946000", "0899123456"]),
    own=st.dictionaries(
        st.sampled_from([to_e164(n, "33") for n in (*OUTSIDE, "0612345678", "0140000100")]),
        st.sampled_from(["102", "103", "555"]),
        max_size=4,
    ),
    rules=st.lists(barring_rules, max_size=6),
    user=st.sampled_from([1, 2, 3, 4]),
)
def test_a_call_out_to_one_of_the_company_s_own_numbers_is_rerouted_on_the_platform_and_only_then(
    dialled: str, own: dict[str, str], rules: list[BarringRule], user: int
) -> None:
    policy = dataclasses.replace(ACME, outside_prefix="0", barring=tuple(rules), own_numbers=own)
    number = to_e164(dialled, "33")
    typed = number if number.startswith("+") else "0" + dialled
    caller = Party(company_id=1, user_id=user, number="201", name="U", outside_number="+33140000201")

    plan = plan_call(CallFacts(caller, typed), None, datetime(2026, 11, 25, tzinfo=UTC), policy)

    if barred(number, "out", user, policy):
        assert isinstance(plan, Reject)
    elif number in own:
        assert plan == RerouteToDid(number=number, dial=own[number])
    else:
        assert isinstance(plan, RingDevices) and [t.number for t in plan.targets] == [number]


# --- loops ---------------------------------------------------------------------------------------------


@many
@given(data=st.data(), directory=companies(), policy=policies, now=moments)
def test_forwarding_never_loops_and_every_branch_ends_on_phones_a_mailbox_or_a_refusal(
    data: st.DataObject, directory: dict[str, Callee], policy: Policy, now: datetime
) -> None:
    caller = data.draw(callers(directory))
    dialled = data.draw(st.sampled_from(list(directory)))
    endings: list[Plan] = []

    depths: list[int] = []

    def visit(facts: CallFacts, callee: Callee | None, plan: Plan, step: int) -> None:
        depths.append(step)
        assert step <= MAX_FORWARDS + 1, "a call is decided at most MAX_FORWARDS + 1 times"
        assert len(set(facts.forwarded_by)) == len(facts.forwarded_by), "nobody forwards a call twice"
        if isinstance(plan, Forward):
            assert callee is not None and plan.by_user_id == callee.user_id
            assert plan.by_user_id not in facts.forwarded_by
            assert plan.number != callee.extension, "nobody forwards to themself"
        else:
            assert isinstance(plan, RingDevices | Voicemail | Reject)
            endings.append(plan)

    walk(CallFacts(caller, dialled, origin_of(caller)), directory, now, policy, visit)

    assert endings, "every call ends somewhere"
    event(f"deepest branch: {max(depths)} decisions")


def test_a_chain_of_always_forwards_through_the_whole_company_stops_after_max_forwards() -> None:
    directory = {
        ext: Callee(
            company_id=1,
            user_id=USER_IDS[ext],
            extension=ext,
            name=ext,
            ring_timeout=20,
            devices=(DeviceState(USER_IDS[ext], f"phone-{ext}", 0, True),),
            rules=(Rule(1, "always", "number", EXTENSIONS[(i + 1) % len(EXTENSIONS)]),),
        )
        for i, ext in enumerate(EXTENSIONS)
    }
    bob = Party(company_id=1, user_id=None, number="+33699887766", name="Outsider")
    facts = CallFacts(bob, "201", Origin.EXTERNAL)
    path = []
    for _ in range(len(EXTENSIONS) + 1):
        plan = plan_call(facts, directory[facts.dialled], datetime(2026, 11, 25, tzinfo=UTC), ACME)
        path.append(facts.dialled)
        if not isinstance(plan, Forward):
            break
        facts = onward(facts, plan)

    assert path == EXTENSIONS[: MAX_FORWARDS + 1]
    assert isinstance(plan, RingDevices) and plan.callee == directory[EXTENSIONS[MAX_FORWARDS]]


# --- always first --------------------------------------------------------------------------------------


@some
@given(data=st.data(), callee=users("202"), policy=policies, now=moments)
def test_an_always_rule_that_matches_wins_over_busy_no_answer_unreachable_and_dnd(
    data: st.DataObject, callee: Callee, policy: Policy, now: datetime
) -> None:
    caller = data.draw(callers({callee.extension: callee}))
    target = data.draw(st.sampled_from([e for e in EXTENSIONS if e != callee.extension]))
    always = Rule(rule_id=999, condition="always", destination="number", destination_number=target)
    others = [r for r in callee.rules if r.condition != "always"]
    position = data.draw(st.integers(0, len(others)))
    callee = dataclasses.replace(callee, rules=(*others[:position], always, *others[position:]))
    facts = CallFacts(caller, callee.extension, origin_of(caller))

    plan = plan_call(facts, callee, now, policy)

    if refused(facts, callee, policy):
        assert isinstance(plan, Reject) and plan.reason == "refused"
    else:
        assert isinstance(plan, Forward)
        assert (plan.number, plan.condition, plan.rule_id) == (target, "always", 999)


@some
@given(data=st.data(), callee=users("202"), policy=policies, now=moments)
def test_whenever_an_always_rule_matches_the_call_goes_where_the_first_one_says(
    data: st.DataObject, callee: Callee, policy: Policy, now: datetime
) -> None:
    caller = data.draw(callers({callee.extension: callee}))
    facts = CallFacts(caller, callee.extension, origin_of(caller))
    found = matching_rules(facts, callee, now, policy)

    plan = plan_call(facts, callee, now, policy)

    if "always" in found and not refused(facts, callee, policy):
        first, destination = found["always"]
        assert plan == destination
        assert first == next(
            r for r in callee.rules if r.condition == "always" and r.rule_id == first.rule_id
        )
    elif isinstance(plan, Forward):
        assert plan.condition != "always"


# --- time windows against the EU clock-change rule --------------------------------------------------------


def paris_wall_clock(moment: datetime) -> datetime:
    """Paris time by the EU rule, without zoneinfo: UTC+2 from the last Sunday of March to the last
    Sunday of October, 01:00 UTC; UTC+1 otherwise."""

    def last_sunday(year: int, month: int) -> datetime:
        day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    summer = last_sunday(moment.year, 3) <= moment < last_sunday(moment.year, 10)
    return moment + timedelta(hours=2 if summer else 1)


@settings(max_examples=500, deadline=None)
@given(now=moments, window=st.sampled_from(WINDOWS[1:]), days=st.frozensets(st.integers(0, 6), max_size=4))
def test_a_time_window_follows_paris_wall_clock_time_clock_changes_included(
    now: datetime, window: tuple[time, time], days: frozenset[int]
) -> None:
    start, end = window
    clock_rule = Rule(1, "always", "voicemail", time_from=start, time_to=end, days=days)
    phone = DeviceState(1, "phone-102", 0, True)
    callee = Callee(1, 12, "102", "Carol", 20, devices=(phone,), mailbox_id=120, rules=(clock_rule,))
    local = paris_wall_clock(now)
    hour = local.time()
    in_window = start <= hour < end if start <= end else not end <= hour < start
    # A window across midnight belongs to the day it started on (its early hours, to the day before).
    started = local - timedelta(days=1) if start > end and hour < end else local
    on_day = not days or started.weekday() in days

    plan = plan_call(CallFacts(ACME_CALLER, "102"), callee, now, ACME)

    assert isinstance(plan, Voicemail) == (in_window and on_day), local


ACME_CALLER = Party(company_id=1, user_id=11, number="101", name="Bob")


# --- many rules: the same decisions as the rules say, one by one ------------------------------------------


def reference_matching(facts: CallFacts, callee: Callee, now: datetime, policy: Policy) -> dict[str, int]:
    """The rule id of the first rule of each condition that the module docstring says applies: it
    is enabled, its origin, presence, day and time filters pass, and its destination can be used."""
    local = now.astimezone(ZoneInfo(policy.timezone))
    clock = local.time()
    caller = facts.caller
    withheld = caller.anonymous or not caller.number
    forms = set() if withheld else {caller.number, canonical(caller.number, policy.country_code)}

    def applies(rule: Rule) -> bool:
        origin_ok = {
            "all": True,
            "anonymous": withheld,
            "external": facts.origin == Origin.EXTERNAL,
            "internal": facts.origin == Origin.INTERNAL,
            "listed": bool(forms & rule.callers),
        }.get(rule.origin, False)
        window_ok = True
        day = local.weekday()
        if rule.time_from is not None and rule.time_to is not None:
            if rule.time_from <= rule.time_to:
                window_ok = rule.time_from <= clock < rule.time_to
            else:
                window_ok = clock >= rule.time_from or clock < rule.time_to
                if clock < rule.time_to:  # the early hours of the window that started the day before
                    day = (day - 1) % 7
        return (
            rule.enabled
            and origin_ok
            and (not rule.presences or callee.presence in rule.presences)
            and (not rule.days or day in rule.days)
            and window_ok
        )

    def usable(rule: Rule) -> bool:
        if rule.destination == "voicemail":
            return callee.mailbox_id is not None
        number = {
            "receptionist": policy.receptionist,
            "home": callee.home_number,
            "mobile": callee.mobile_number,
        }.get(rule.destination, rule.destination_number)
        if not number or number == callee.extension:
            return False
        outside = number.startswith("+") or len(number) > 6
        return not (outside and barred(number, "out", callee.user_id, policy))

    found: dict[str, int] = {}
    for rule in callee.rules:
        if rule.condition not in found and applies(rule) and usable(rule):
            found[rule.condition] = rule.rule_id
    return found


@many
@given(data=st.data(), callee=users("202"), policy=policies, now=moments, count=st.integers(0, 60))
def test_every_rule_of_a_long_list_is_weighed_as_its_filters_say(
    data: st.DataObject, callee: Callee, policy: Policy, now: datetime, count: int
) -> None:
    destinations = [*EXTENSIONS, *OUTSIDE]
    # Mostly rules with filters, so that a late rule often decides.
    rules = tuple(
        data.draw(forwarding_rules(n + 1, destinations, data.draw(st.integers(0, 9)) == 0))
        for n in range(count)
    )
    presence = data.draw(st.sampled_from([*PRESENCES, "training"]))
    callee = dataclasses.replace(callee, rules=rules, presence=presence)
    caller = data.draw(callers({callee.extension: callee}))
    facts = CallFacts(caller, callee.extension, origin_of(caller))
    expected = reference_matching(facts, callee, now, policy)

    for _ in range(2):  # a second call to the same user finds their rules sorted out already
        found = matching_rules(facts, callee, now, policy)
        assert {condition: rule.rule_id for condition, (rule, _) in found.items()} == expected
    event(f"conditions matched: {len(expected)}")
    origins = {rules[rule_id - 1].origin for rule_id in expected.values()}
    event(f"a rule for listed callers decides: {'listed' in origins}")
    event(f"indexed: {len(rules) >= INDEX_RULES_FROM}")


def test_among_a_hundred_rules_the_one_that_applies_is_found_whatever_the_presence_and_caller() -> None:
    rules = [
        Rule(
            n,
            "always",
            "number",
            "203",
            presences=frozenset({"holiday"}) if n % 2 else frozenset(),
            days=(frozenset({5, 6}) if n % 2 == 0 else frozenset()),
        )
        for n in range(1, 98)
    ]
    rules.append(Rule(98, "always", "number", "204", origin="listed", callers=frozenset({"+33699887766"})))
    rules.append(Rule(99, "always", "number", "205", presences=frozenset({"sick"})))
    rules.append(Rule(100, "always", "voicemail"))
    phone = DeviceState(1, "phone-202", 0, True)
    carol = Callee(1, 2, "202", "Carol", 20, devices=(phone,), mailbox_id=200, rules=tuple(rules))
    listed = Party(company_id=1, user_id=None, number="0699887766", name="Listed")
    other = Party(company_id=1, user_id=None, number="0145000000", name="Other")
    wednesday = datetime(2026, 11, 25, 10, tzinfo=UTC)

    def decided(caller: Party, presence: str) -> object:
        callee = dataclasses.replace(carol, presence=presence)
        plan = plan_call(CallFacts(caller, "202", Origin.EXTERNAL), callee, wednesday, ACME)
        return plan.rule_id if isinstance(plan, Forward) else type(plan).__name__

    assert decided(other, "available") == "Voicemail"  # rule 100
    assert decided(listed, "available") == 98
    assert decided(other, "holiday") == 1
    assert decided(listed, "sick") == 98
    assert decided(other, "sick") == 99
