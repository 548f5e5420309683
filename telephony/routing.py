"""Call routing: a pure function from the facts of a call, the callee's settings and the company's
policy to a plan.

No I/O happens here. The ARI bridge gathers the facts (telephony.queries), asks `plan_call` what to
do, and executes the plan it gets back; it holds no routing rule of its own.

How an incoming call to a user is decided, in this order (the README repeats it for users):

1. The company's incoming barring (B5) refuses outside callers by class (international, mobile,
   anonymous...) or number; the user's black or white list (B6) refuses the callers it names.
2. Forwarding rules (B2) are considered only when they match the call: its origin or caller, the
   user's presence, the day and time in the time zone of the user's site (else the company's). A
   time window across midnight (22:00-06:00) belongs to the day it starts on; a window that ends
   when it starts is never active. Among matching rules of the same
   condition, the first by position wins. A rule whose destination cannot be reached (no mobile
   number set, a number the user may not call, the user themself) is passed over.
3. An "always" rule forwards the call at once.
4. Do not disturb (B3): the "busy" rule, else voicemail, else the busy signal.
5. No phone can ring (none enabled and registered): the "unreachable" rule, else voicemail.
6. Every phone is busy (call waiting off, or its N calls reached, B4): the "busy" rule, else busy.
7. The phones ring, each after its delay. Nobody answers within the first matching "no answer"
   rule's delay (else the extension's ring timeout): that rule, else voicemail, else "no answer".
   Every phone answering busy takes the busy rule; every phone failing takes the unreachable rule.

A forwarded call is decided again for its new destination. A user already on the call's
forwarding path, or a path of MAX_FORWARDS hops, has no rules applied: their phones ring, so a
forwarding loop (A -> B -> A) always ends on a phone or a mailbox. Outside destinations, whether
dialled or reached by forwarding, a remote terminal or a speed dial, pass the outgoing barring (C4)
of the user on whose behalf the call goes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from enum import StrEnum
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from .numbers import canonical, dialable, to_e164


class RejectReason(StrEnum):
    UNKNOWN_NUMBER = "unknown_number"
    BUSY = "busy"
    NO_DEVICE = "no_device"
    NO_ANSWER = "no_answer"
    # The caller may not call this number (outgoing barring, C4).
    BARRED = "barred"
    # The callee does not take calls from this caller (incoming barring B5, black/white list B6).
    REFUSED = "refused"
    # The company is at a toll-fraud limit the platform operator set (simultaneous outside calls,
    # international minutes a day).
    FRAUD_LIMIT = "fraud_limit"


# SIP-facing hang-up causes (Q.850) that Asterisk turns into the SIP final response the caller sees.
CAUSE_UNALLOCATED = 1  # 404 Not Found
CAUSE_USER_BUSY = 17  # 486 Busy Here
CAUSE_NO_ANSWER = 19  # 480 Temporarily Unavailable
CAUSE_CALL_REJECTED = 21  # 403 Forbidden
CAUSE_NO_CIRCUIT = 34  # 503 Service Unavailable (the platform cannot take the call)

REJECT_CAUSES: dict[RejectReason, int] = {
    RejectReason.UNKNOWN_NUMBER: CAUSE_UNALLOCATED,
    RejectReason.BUSY: CAUSE_USER_BUSY,
    RejectReason.NO_DEVICE: CAUSE_NO_ANSWER,
    RejectReason.NO_ANSWER: CAUSE_NO_ANSWER,
    RejectReason.BARRED: CAUSE_CALL_REJECTED,
    RejectReason.REFUSED: CAUSE_CALL_REJECTED,
    RejectReason.FRAUD_LIMIT: CAUSE_CALL_REJECTED,
}

# A call forwarded this many times has no more rules applied: it rings where it is.
MAX_FORWARDS = 5
# How long an outside number rings before the call ends as "no answer".
OUTSIDE_RING_TIMEOUT = 60
# Emergency numbers are never barred.
EMERGENCY_NUMBERS = frozenset({"15", "17", "18", "112", "114", "115", "119", "191", "196", "197"})


# --- numbers -----------------------------------------------------------------------------------------


class Origin(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


def barring_target(prefix: str, country_code: str) -> tuple[str, str]:
    """What an administrator's barring prefix means, as (E.164 prefix, class): "06" is the prefix
    +336; "00" or "+" alone is every international number, "0" alone every national one."""
    prefix = prefix.strip().replace(" ", "")
    if prefix in ("00", "+"):
        return "", NumberClass.INTERNATIONAL
    if prefix == "0":
        return "", NumberClass.NATIONAL
    return to_e164(prefix, country_code), ""


class NumberClass(StrEnum):
    INTERNATIONAL = "international"
    MOBILE = "mobile"
    PREMIUM = "premium"
    NATIONAL = "national"
    ANONYMOUS = "anonymous"
    # Where international revenue-share fraud sends calls: barred by default (Policy.bar_high_risk).
    HIGH_RISK = "high_risk"


# Mobile and premium-rate ranges by country, after the country code.
MOBILE_RANGES: dict[str, tuple[str, ...]] = {"33": ("6", "7"), "32": ("4",), "41": ("7",), "44": ("7",)}
PREMIUM_RANGES: dict[str, tuple[str, ...]] = {"33": ("89", "81", "82"), "44": ("9",)}
# International premium rate (+979): premium as well as high risk.
INTERNATIONAL_PREMIUM_PREFIXES = ("+979",)
# The classic destinations of international revenue-share fraud (IRSF), in E.164, whatever the
# company's country: ITU's non-geographic codes (international premium rate +979, shared cost +808,
# UPT +878, OCHA +888, ITPCS +991), satellite and global networks (Inmarsat +870, Global Mobile
# Satellite Systems +881, international networks +882 and +883), and national revenue-share ranges
# well known to fraud (UK personal numbers +4470, Latvian and Lithuanian premium +37190, +3709).
HIGH_RISK_PREFIXES = (
    *INTERNATIONAL_PREMIUM_PREFIXES,
    "+808",
    "+870",
    "+878",
    "+881",
    "+882",
    "+883",
    "+888",
    "+991",
    "+4470",
    "+37190",
    "+3709",
)


ANONYMOUS_CLASSES = frozenset({NumberClass.ANONYMOUS})


def number_classes(number: str, country_code: str, *, anonymous: bool = False) -> frozenset[str]:
    """The barring classes an outside number (E.164, or a short national number) belongs to."""
    if anonymous or not number:
        return ANONYMOUS_CLASSES
    return _number_classes(number, country_code)


@lru_cache(maxsize=4096)
def _number_classes(number: str, country_code: str) -> frozenset[str]:
    # Cached: the same callers and destinations come back call after call, and barring asks for
    # the classes of each number it checks.
    home = f"+{country_code}"
    classes: set[str] = set()
    if number.startswith(HIGH_RISK_PREFIXES):
        classes.add(NumberClass.HIGH_RISK)
        if number.startswith(INTERNATIONAL_PREMIUM_PREFIXES):
            classes.add(NumberClass.PREMIUM)
    if number.startswith("+") and not number.startswith(home):
        classes.add(NumberClass.INTERNATIONAL)
        return frozenset(classes)
    rest = number[len(home) :] if number.startswith(home) else number
    classes.add(NumberClass.NATIONAL)
    if rest.startswith(MOBILE_RANGES.get(country_code, ())):
        classes.add(NumberClass.MOBILE)
    if rest.startswith(PREMIUM_RANGES.get(country_code, ())):
        classes.add(NumberClass.PREMIUM)
    return frozenset(classes)


# --- company policy -------------------------------------------------------------------------------------


class Feature(StrEnum):
    """What a dial code does (B2, B3, B4, E10)."""

    FORWARD_ALWAYS_ON = "forward_always_on"
    FORWARD_ALWAYS_OFF = "forward_always_off"
    FORWARD_BUSY_ON = "forward_busy_on"
    FORWARD_BUSY_OFF = "forward_busy_off"
    FORWARD_NO_ANSWER_ON = "forward_no_answer_on"
    FORWARD_NO_ANSWER_OFF = "forward_no_answer_off"
    DND_ON = "dnd_on"
    DND_OFF = "dnd_off"
    CALL_WAITING_ON_FOR = "call_waiting_on_for"
    CALL_WAITING_OFF_FOR = "call_waiting_off_for"
    CALL_WAITING_ON = "call_waiting_on"
    CALL_WAITING_OFF = "call_waiting_off"
    VOICEMAIL_DROP = "voicemail_drop"


DEFAULT_DIAL_CODES: dict[Feature, str] = {
    Feature.FORWARD_ALWAYS_ON: "*2",
    Feature.FORWARD_ALWAYS_OFF: "*3",
    Feature.FORWARD_BUSY_ON: "*2*",
    Feature.FORWARD_BUSY_OFF: "*031",
    Feature.FORWARD_NO_ANSWER_ON: "*2#",
    Feature.FORWARD_NO_ANSWER_OFF: "*032",
    Feature.DND_ON: "*8",
    Feature.DND_OFF: "*9",
    Feature.CALL_WAITING_ON_FOR: "*42",
    Feature.CALL_WAITING_OFF_FOR: "*41",
    Feature.CALL_WAITING_ON: "*44",
    Feature.CALL_WAITING_OFF: "*43",
    Feature.VOICEMAIL_DROP: "*86",
}
# Codes followed by a number: *2 0612345678, *42 103, *86 102.
FEATURES_WITH_NUMBER = frozenset(
    {
        Feature.FORWARD_ALWAYS_ON,
        Feature.FORWARD_BUSY_ON,
        Feature.FORWARD_NO_ANSWER_ON,
        Feature.CALL_WAITING_ON_FOR,
        Feature.CALL_WAITING_OFF_FOR,
        Feature.VOICEMAIL_DROP,
    }
)
# Kept for callers of the first version: *86 + extension leaves a message without ringing (E10).
VOICEMAIL_DROP_CODE = DEFAULT_DIAL_CODES[Feature.VOICEMAIL_DROP]

DialCodes = tuple[tuple[str, Feature], ...]


def dial_code_table(overrides: Mapping[str, str] | None = None) -> DialCodes:
    """The company's codes (its overrides over the defaults), longest first so *2* wins over *2."""
    codes = dict(DEFAULT_DIAL_CODES)
    for name, code in (overrides or {}).items():
        if name in Feature.__members__.values() and code:
            codes[Feature(name)] = code
    return tuple(sorted(((code, feature) for feature, code in codes.items()), key=lambda c: -len(c[0])))


DEFAULT_DIAL_CODE_TABLE = dial_code_table()


@dataclass(frozen=True, slots=True)
class BarringRule:
    direction: str  # "in" or "out"
    # The user it applies to; None: everyone in the company.
    user_id: int | None
    number_class: str = ""
    # In E.164 form (see to_e164), or a short number.
    prefix: str = ""
    allow: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """What the company decides for all its users' calls."""

    company_id: int = 0
    timezone: str = "UTC"
    voicemail_number: str = ""
    outside_prefix: str = ""
    country_code: str = "33"
    main_number: str = ""
    # The receptionist's extension, where "receptionist" rules send calls; empty if none.
    receptionist: str = ""
    dial_codes: DialCodes = DEFAULT_DIAL_CODE_TABLE
    # short number -> what it dials, canonical (an extension, or an outside number in E.164).
    speed_dials: Mapping[str, str] = field(default_factory=dict)
    barring: tuple[BarringRule, ...] = ()
    # High-risk numbers (HIGH_RISK_PREFIXES) are barred for everyone of the company, as a company
    # rule for that class would: an allow rule for a prefix, or for the class and a user, still wins.
    bar_high_risk: bool = True
    # The company's own public numbers (E.164: its DIDs, its and its sites' main numbers) and what
    # each one rings as if dialled inside (an extension, or the voicemail service number).
    own_numbers: Mapping[str, str] = field(default_factory=dict)
    # The carrier trunk's endpoint, through which outside numbers are rung.
    trunk: str = "carrier"


# How specific a rule for the high-risk class is: more than other classes, less than any prefix.
HIGH_RISK_RANK = 2.0


def barred(
    number: str,
    direction: str,
    user_id: int | None,
    policy: Policy,
    *,
    anonymous: bool = False,
) -> bool:
    """Whether the company's barring rules refuse this number for this user.

    The most specific matching rule decides: an exact number beats a longer prefix beats a shorter
    prefix beats a class, and a rule for the user beats the same rule for the whole company. At equal
    specificity a prohibition wins. No matching rule: allowed. The high-risk class, a part of the
    international one, is more specific than the other classes; the company's `bar_high_risk` is a
    company rule barring it."""
    if direction == "out" and number in EMERGENCY_NUMBERS:
        return False
    classes: frozenset[str] | None = None
    best_rank = -1.0
    best_allow = True
    if direction == "out" and policy.bar_high_risk and number.startswith(HIGH_RISK_PREFIXES):
        best_rank, best_allow = HIGH_RISK_RANK, False
    for rule in policy.barring:
        if rule.direction != direction or (rule.user_id is not None and rule.user_id != user_id):
            continue
        if rule.number_class:
            if classes is None:
                classes = number_classes(number, policy.country_code, anonymous=anonymous)
            if rule.number_class not in classes:
                continue
            rank = HIGH_RISK_RANK if rule.number_class == NumberClass.HIGH_RISK else 1.0
        else:
            if anonymous or not number.startswith(rule.prefix):
                continue
            rank = 10.0 + len(rule.prefix) + (50.0 if rule.prefix == number else 0.0)
        if rule.user_id is not None:
            rank += 0.5
        if rank > best_rank or (rank == best_rank and not rule.allow):
            best_rank, best_allow = rank, rule.allow
    return not best_allow


# --- what was dialled -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Internal:
    extension: str


@dataclass(frozen=True, slots=True)
class External:
    number: str  # E.164, or a short national number (112)


@dataclass(frozen=True, slots=True)
class VoicemailService:
    pass


@dataclass(frozen=True, slots=True)
class DialCode:
    feature: Feature
    # Canonical: an extension or an E.164 number; empty for codes without a number.
    argument: str = ""


@dataclass(frozen=True, slots=True)
class Unknown:
    pass


Dialled = Internal | External | VoicemailService | DialCode | Unknown


def parse_destination(number: str, policy: Policy) -> Internal | External | Unknown:
    """A number as written in a setting (a forwarding rule, a speed dial, a remote terminal): an
    extension or speed dial (up to 6 digits), or an outside number without the outside prefix."""
    number = number.strip().replace(" ", "")
    if not number or not number.lstrip("+").isdigit():
        return Unknown()
    if len(number) <= 6 and not number.startswith("+"):
        if number in policy.speed_dials:
            target = policy.speed_dials[number]
            return Internal(target) if len(target) <= 6 and not target.startswith("+") else External(target)
        return Internal(number)
    if not dialable(number, policy.country_code):
        return Unknown()
    return External(to_e164(number, policy.country_code))


def interpret(dialled: str, policy: Policy) -> Dialled:
    """What a string dialled on a phone of the company asks for."""
    if not dialled:
        return Unknown()
    if policy.voicemail_number and dialled == policy.voicemail_number:
        return VoicemailService()
    if dialled[0] in "*#":
        for code, feature in policy.dial_codes:
            if feature in FEATURES_WITH_NUMBER:
                if dialled.startswith(code) and len(dialled) > len(code):
                    target = interpret(dialled[len(code) :], policy)
                    if isinstance(target, Internal):
                        return DialCode(feature, target.extension)
                    if isinstance(target, External):
                        return DialCode(feature, target.number)
                    return Unknown()
            elif dialled == code:
                return DialCode(feature)
        return Unknown()
    if dialled.startswith("+"):
        return External(dialled) if dialled[1:].isdigit() and len(dialled) > 4 else Unknown()
    if not dialled.isdigit():
        return Unknown()
    if dialled in EMERGENCY_NUMBERS:
        # Emergency services answer without the outside prefix, whatever the extension plan.
        return External(dialled)
    if dialled in policy.speed_dials:
        short = policy.speed_dials[dialled]
        return Internal(short) if len(short) <= 6 and not short.startswith("+") else External(short)
    prefix = policy.outside_prefix
    if prefix and dialled.startswith(prefix) and len(dialled) > len(prefix) + 1:
        outside = dialled[len(prefix) :]
    elif not prefix and len(dialled) > 6:
        outside = dialled
    else:
        return Internal(dialled)
    if not dialable(outside, policy.country_code):
        return Unknown()
    return External(to_e164(outside, policy.country_code))


def callee_number(dialled: str, policy: Policy | None = None) -> str:
    """The extension a dialled string names (the number itself, or what follows *86), or ""."""
    what = interpret(dialled, policy or Policy())
    if isinstance(what, Internal):
        return what.extension
    if isinstance(what, DialCode) and what.feature == Feature.VOICEMAIL_DROP:
        return what.argument
    return ""


# --- the call and its callee ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """Who places the call, as the callee will see them."""

    company_id: int
    user_id: int | None
    number: str
    name: str
    anonymous: bool = False
    # What an outside callee sees when this party calls out (A4); empty: withheld.
    outside_number: str = ""


# How carriers present an outside caller who withheld their number.
ANONYMOUS_NUMBERS = frozenset({"", "anonymous", "unknown", "restricted", "private", "unavailable"})


def outside_party(*, company_id: int, number: str, name: str) -> Party:
    """An outside caller as the carrier presented them, to a company's number: a withheld number is
    anonymous (no number, no name), and an E.164 number sent without its + gets it back."""
    if number.lower() in ANONYMOUS_NUMBERS:
        return Party(company_id=company_id, user_id=None, number="", name="", anonymous=True)
    if number.isdigit() and len(number) >= 8 and not number.startswith("0"):
        number = f"+{number}"  # carriers often send E.164 without its +
    return Party(company_id=company_id, user_id=None, number=number, name=name, outside_number=number)


@dataclass(frozen=True, slots=True)
class CallFacts:
    caller: Party
    dialled: str
    origin: Origin = Origin.INTERNAL
    # Users whose forwarding rules sent this call on, in order.
    forwarded_by: tuple[int, ...] = ()


class DeviceKind(StrEnum):
    SIP = "sip"
    REMOTE = "remote"


@dataclass(frozen=True, slots=True)
class DeviceState:
    device_id: int
    endpoint: str
    ring_delay: int
    enabled: bool
    # Calls the device is in now, and how many it takes at once (call waiting, B4).
    active_calls: int = 0
    max_calls: int = 1
    # A SIP phone is reachable when registered.
    reachable: bool = True
    kind: DeviceKind = DeviceKind.SIP
    # A remote terminal's outside number (E.164), and whether it must press a key to take the call.
    number: str = ""
    confirm: bool = False

    @property
    def in_call(self) -> bool:
        return self.active_calls > 0


@dataclass(frozen=True, slots=True)
class Rule:
    """A forwarding rule (B2), as routing needs it."""

    rule_id: int
    condition: str  # always, busy, no_answer, unreachable
    destination: str  # receptionist, home, mobile, voicemail, number
    # For destination "number": canonical (an extension or E.164).
    destination_number: str = ""
    label: str = ""
    enabled: bool = True
    no_answer_after: int = 15
    origin: str = "all"  # all, anonymous, external, internal, listed
    # For origin "listed": canonical caller numbers.
    callers: frozenset[str] = frozenset()
    presences: frozenset[str] = frozenset()
    days: frozenset[int] = frozenset()
    time_from: time | None = None
    time_to: time | None = None


class Screening(StrEnum):
    OFF = "off"
    BLACKLIST = "blacklist"
    WHITELIST = "whitelist"


@dataclass(frozen=True, slots=True)
class Callee:
    """A user reachable by extension in the caller's company, with what routing needs to know."""

    company_id: int
    user_id: int
    extension: str
    name: str
    ring_timeout: int
    devices: tuple[DeviceState, ...] = ()
    # The callee's voicemail box, when it is on: where unanswered calls go.
    mailbox_id: int | None = None
    dnd: bool = False
    presence: str = "available"
    rules: tuple[Rule, ...] = ()
    # Canonical (E.164) home and mobile numbers, for rules that name them; empty if not set.
    home_number: str = ""
    mobile_number: str = ""
    # What an outside callee sees when a call this user forwards goes out; empty: withheld.
    outside_number: str = ""
    screening: Screening = Screening.OFF
    reject_anonymous: bool = False
    screened_numbers: frozenset[str] = frozenset()
    # The time zone of the callee's site, in which their rules' days and hours are read; empty:
    # the company's (Policy.timezone).
    timezone: str = ""
    # The extension of the callee's site receptionist, where "receptionist" rules send calls;
    # empty: the company's (Policy.receptionist).
    receptionist: str = ""


# --- plans -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RingTarget:
    device_id: int | None
    endpoint: str
    delay: int
    # An outside number rung through `endpoint` (the trunk); empty for a SIP phone.
    number: str = ""
    # The answering side must press a key before it is connected (A7).
    confirm: bool = False
    # The caller's identity this target is shown, when not the plan's (a remote terminal is outside).
    caller_id_number: str = ""
    caller_id_name: str = ""


@dataclass(frozen=True, slots=True)
class Voicemail:
    """Answer and let the caller leave a message in the callee's mailbox."""

    mailbox_id: int
    callee: Callee


@dataclass(frozen=True, slots=True)
class Reject:
    """End the call for the caller with an announcement and the SIP status of `cause`."""

    reason: RejectReason
    callee: Callee | None = None

    @property
    def cause(self) -> int:
        return REJECT_CAUSES[self.reason]


@dataclass(frozen=True, slots=True)
class Forward:
    """Send the call on, as the callee's rule `rule_id` says; it is decided again for `number`."""

    # Canonical: an extension of the company or an outside number (E.164).
    number: str
    external: bool
    condition: str
    rule_id: int
    label: str
    by_user_id: int
    # What an outside destination sees as the caller: an outside caller's own number, or the
    # forwarding user's outside number for an internal caller; empty: withheld.
    caller_outside_number: str


Next = Forward | Voicemail | Reject


@dataclass(frozen=True, slots=True)
class RingDevices:
    """Ring these phones, each after its delay; the first to answer takes the call."""

    # None for a call to an outside number.
    callee: Callee | None
    targets: tuple[RingTarget, ...]
    # Seconds from the start of ringing after which nobody answering means "no answer".
    timeout: int
    caller_id_number: str
    caller_id_name: str
    # What happens when nobody answers in time, every phone is busy, or none can be reached.
    on_no_answer: Next = field(default_factory=lambda: Reject(RejectReason.NO_ANSWER))
    on_busy: Next = field(default_factory=lambda: Reject(RejectReason.BUSY))
    on_unreachable: Next = field(default_factory=lambda: Reject(RejectReason.NO_ANSWER))
    # The number rung is outside the company (through the trunk).
    external: bool = False


@dataclass(frozen=True, slots=True)
class VoicemailMenu:
    """The voicemail service: log in to a mailbox (the caller's own, unless they name another) and listen."""

    owner_user_id: int | None


@dataclass(frozen=True, slots=True)
class ApplyDialCode:
    """Change the caller's settings as the dial code says, then confirm it aloud."""

    feature: Feature
    argument: str
    user_id: int


@dataclass(frozen=True, slots=True)
class RerouteToDid:
    """The call goes to one of the company's own public numbers: it is routed again on the platform,
    as if `dial` had been dialled inside (on-net), not sent out through the carrier and back in, so
    that the call, its record and its forwarding path (and the loop guard) stay together."""

    number: str  # the public number, E.164
    dial: str  # what it rings inside: an extension or the voicemail service number


Plan = RingDevices | Reject | Voicemail | VoicemailMenu | Forward | ApplyDialCode | RerouteToDid


# --- deciding ------------------------------------------------------------------------------------------


def plan_call(facts: CallFacts, callee: Callee | None, now: datetime, policy: Policy | None = None) -> Plan:
    """Decide what happens to a call dialled from a phone of the company, or routed into it.

    `callee` is the user the dialled number names *in the caller's company* (see `callee_number`),
    or None when it names nobody there: a phone of one company never reaches another's extensions.
    """
    policy = policy or Policy(company_id=facts.caller.company_id)
    what = interpret(facts.dialled, policy)
    if isinstance(what, VoicemailService):
        return VoicemailMenu(owner_user_id=facts.caller.user_id)
    if isinstance(what, External):
        return plan_outside(facts, what.number, policy)
    if isinstance(what, DialCode):
        if what.feature == Feature.VOICEMAIL_DROP:
            return plan_incoming(facts, callee, now, policy, drop=True)
        if facts.caller.user_id is None or facts.origin != Origin.INTERNAL:
            return Reject(RejectReason.UNKNOWN_NUMBER)
        return ApplyDialCode(what.feature, what.argument, facts.caller.user_id)
    if isinstance(what, Internal):
        return plan_incoming(facts, callee, now, policy)
    return Reject(RejectReason.UNKNOWN_NUMBER)


def plan_outside(facts: CallFacts, number: str, policy: Policy) -> RingDevices | Reject | RerouteToDid:
    """A call to an outside number through the trunk: dialled (C2), forwarded or a speed dial (C3).

    The user on whose behalf it goes out (the last forwarder, else the caller) must be allowed to
    call the number (C4). One of the company's own public numbers is reached on the platform."""
    on_behalf = facts.forwarded_by[-1] if facts.forwarded_by else facts.caller.user_id
    if on_behalf is None or barred(number, "out", on_behalf, policy):
        return Reject(RejectReason.BARRED)
    own = policy.own_numbers.get(number)
    if own:
        return RerouteToDid(number=number, dial=own)
    caller = facts.caller
    return RingDevices(
        callee=None,
        targets=(RingTarget(device_id=None, endpoint=policy.trunk, delay=0, number=number),),
        timeout=OUTSIDE_RING_TIMEOUT,
        caller_id_number=caller.outside_number or "anonymous",
        caller_id_name="" if not caller.outside_number else caller.name,
        on_no_answer=Reject(RejectReason.NO_ANSWER),
        on_busy=Reject(RejectReason.BUSY),
        on_unreachable=Reject(RejectReason.NO_ANSWER),
        external=True,
    )


class FraudLimit(StrEnum):
    SIMULTANEOUS_CALLS = "simultaneous_calls"
    INTERNATIONAL_MINUTES = "international_minutes"


@dataclass(frozen=True, slots=True)
class OutsideUsage:
    """A company's calls through the carrier as a new one is placed, and its limits (None: no limit)."""

    open_calls: int
    international_seconds_today: int
    max_calls: int | None
    max_international_minutes: int | None


def fraud_limit_reached(number: str, country_code: str, usage: OutsideUsage) -> FraudLimit | None:
    """The toll-fraud limit a new call out to `number` (E.164, or a short number) would pass, if any.

    Emergency numbers are never refused. A call already up is never cut: the limits refuse new ones."""
    if number in EMERGENCY_NUMBERS:
        return None
    if usage.max_calls is not None and usage.open_calls >= usage.max_calls:
        return FraudLimit.SIMULTANEOUS_CALLS
    if (
        usage.max_international_minutes is not None
        and NumberClass.INTERNATIONAL in number_classes(number, country_code)
        and usage.international_seconds_today >= usage.max_international_minutes * 60
    ):
        return FraudLimit.INTERNATIONAL_MINUTES
    return None


# Share of the day's international allowance past which the traffic is unusual (the administrators
# are told, before calls are refused at the limit itself).
UNUSUAL_INTERNATIONAL_SHARE = 0.8


def unusual_international_traffic(usage: OutsideUsage) -> bool:
    """Most of the company's international minutes of the day are gone (only with a limit set)."""
    limit = usage.max_international_minutes
    return limit is not None and usage.international_seconds_today >= limit * 60 * UNUSUAL_INTERNATIONAL_SHARE


def fraud_limits_passed(plan: RingDevices, country_code: str, usage: OutsideUsage) -> dict[int, FraudLimit]:
    """The index of each outside number the plan rings that would pass a toll-fraud limit, and which
    limit: each outside number rung at once counts toward the simultaneous calls of the next."""
    passed: dict[int, FraudLimit] = {}
    for index, target in enumerate(plan.targets):
        if not target.number:
            continue
        limit = fraud_limit_reached(target.number, country_code, usage)
        if limit is not None:
            passed[index] = limit
        else:
            usage = replace(usage, open_calls=usage.open_calls + 1)
    return passed


def within_limits(plan: RingDevices, passed: Mapping[int, FraudLimit]) -> Plan:
    """`plan` without the outside numbers `passed` (fraud_limits_passed) names.

    A call out over a limit is refused. A user's remote terminals (outside numbers rung through the
    trunk beside the user's phones) over a limit are left out of the ringing: the phones still ring,
    and with nothing left to ring the call takes its "unreachable" path (their voicemail, say), so the
    caller, who did not call out, never hears about the limit."""
    if not passed:
        return plan
    if plan.external:
        return Reject(RejectReason.FRAUD_LIMIT)
    kept = tuple(target for index, target in enumerate(plan.targets) if index not in passed)
    return replace(plan, targets=kept) if kept else plan.on_unreachable


def within_fraud_limits(plan: Plan, country_code: str, usage: OutsideUsage) -> Plan:
    """The plan, within the toll-fraud limits (see within_limits)."""
    if not isinstance(plan, RingDevices):
        return plan
    return within_limits(plan, fraud_limits_passed(plan, country_code, usage))


def _caller_keys(caller: Party, country_code: str) -> frozenset[str]:
    if caller.anonymous or not caller.number:
        return frozenset()
    return frozenset({caller.number, canonical(caller.number, country_code)})


def refused(facts: CallFacts, callee: Callee, policy: Policy) -> bool:
    """Incoming barring (B5, outside callers) and the callee's black or white list (B6)."""
    caller = facts.caller
    if facts.origin == Origin.EXTERNAL:
        number = "" if caller.anonymous else canonical(caller.number, policy.country_code)
        if barred(number, "in", callee.user_id, policy, anonymous=caller.anonymous or not number):
            return True
    if callee.reject_anonymous and (caller.anonymous or not caller.number):
        return True
    if callee.screening == Screening.OFF:
        return False
    listed = bool(_caller_keys(caller, policy.country_code) & callee.screened_numbers)
    return listed if callee.screening == Screening.BLACKLIST else not listed


def _rule_matches(
    rule: Rule, facts: CallFacts, keys: frozenset[str], presence: str, weekday: int, clock: time
) -> bool:
    if not rule.enabled:
        return False
    origin = rule.origin
    if origin != "all":
        if origin == "anonymous":
            if not (facts.caller.anonymous or not facts.caller.number):
                return False
        elif origin == "listed":
            if not (keys & rule.callers):
                return False
        elif origin != facts.origin:
            return False
    if rule.presences and presence not in rule.presences:
        return False
    start, end = rule.time_from, rule.time_to
    if start is not None and end is not None:
        if start < end:
            if not start <= clock < end:
                return False
        elif start > end:
            # A window across midnight (22:00-06:00) belongs to the day it starts on: Monday's
            # night is still Monday's at 03:00 on Tuesday.
            if clock < end:
                weekday = (weekday - 1) % 7
            elif clock < start:
                return False
        else:
            return False  # it ends when it starts: never active (validation refuses it anyway)
    return not rule.days or weekday in rule.days


def _rule_days(rule: Rule) -> frozenset[int]:
    """The weekdays on which a rule can be active at some hour: its own days, and for a window
    across midnight also the days after them (its early hours)."""
    start, end = rule.time_from, rule.time_to
    if start is not None and end is not None and start > end:
        return rule.days | {(day + 1) % 7 for day in rule.days}
    return rule.days


# A user with this many rules has them indexed (see _RuleIndex); fewer are simply scanned.
INDEX_RULES_FROM = 16


class _RuleIndex:
    """A long list of rules sorted out once, for every call to its user: which rules a call can
    match at all, given the callee's presence, the call's origin, the caller's number and the day.

    It only leaves out rules that _rule_matches would refuse, and keeps the others in order; every
    rule it gives is still checked by _rule_matches (time windows are left to it alone)."""

    __slots__ = ("by_call", "listed", "rules")

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        # (presence, origin, anonymous, weekday) -> the enabled rules not for listed callers whose
        # origin, presence and day filters such a call passes, and their positions; filled as calls
        # come.
        self.by_call: dict[tuple[str, str, bool, int], tuple[tuple[Rule, ...], frozenset[int]]] = {}
        # A caller's number -> the positions of the enabled rules for listed callers naming it.
        self.listed: dict[str, list[int]] = {}
        for position, rule in enumerate(rules):
            if rule.enabled and rule.origin == "listed":
                for number in rule.callers:
                    self.listed.setdefault(number, []).append(position)

    def candidates(
        self, presence: str, origin: str, anonymous: bool, weekday: int, keys: frozenset[str]
    ) -> Sequence[Rule]:
        call = (presence, origin, anonymous, weekday)
        found = self.by_call.get(call)
        if found is None:
            positions = [
                position
                for position, rule in enumerate(self.rules)
                if rule.enabled
                and (not rule.presences or presence in rule.presences)
                and (not rule.days or weekday in _rule_days(rule))
                and (
                    rule.origin == "all"
                    or (rule.origin == "anonymous" and anonymous)
                    or (rule.origin not in ("anonymous", "listed") and rule.origin == origin)
                )
            ]
            found = self.by_call[call] = (tuple(self.rules[p] for p in positions), frozenset(positions))
        listed = {position for key in keys for position in self.listed.get(key, ())}
        if not listed:
            return found[0]
        return [self.rules[position] for position in sorted(listed.union(found[1]))]


_RULE_INDEXES: dict[int, _RuleIndex] = {}


def _rule_index(rules: tuple[Rule, ...]) -> _RuleIndex:
    """The index of this very tuple of rules (the bridge keeps a user's settings between calls)."""
    index = _RULE_INDEXES.get(id(rules))
    # The index holds its tuple: while it is here, no other tuple can have the same id.
    if index is None or index.rules is not rules:
        if len(_RULE_INDEXES) >= 1024:
            _RULE_INDEXES.clear()
        index = _RULE_INDEXES[id(rules)] = _RuleIndex(rules)
    return index


def _destination(rule: Rule, facts: CallFacts, callee: Callee, policy: Policy) -> Next | None:
    """Where the rule sends the call, or None if it cannot (nothing set, barred, the callee themself)."""
    if rule.destination == "voicemail":
        return Voicemail(callee.mailbox_id, callee) if callee.mailbox_id is not None else None
    if rule.destination == "receptionist":
        number = callee.receptionist or policy.receptionist
    elif rule.destination == "home":
        number = callee.home_number
    elif rule.destination == "mobile":
        number = callee.mobile_number
    else:
        number = rule.destination_number
    if not number or number == callee.extension:
        return None
    external = number.startswith("+") or len(number) > 6
    if external and barred(number, "out", callee.user_id, policy):
        return None
    if facts.origin == Origin.EXTERNAL:
        presented = "" if facts.caller.anonymous else canonical(facts.caller.number, policy.country_code)
    else:
        presented = callee.outside_number
    return Forward(
        number=number,
        external=external,
        condition=rule.condition,
        rule_id=rule.rule_id,
        label=rule.label,
        by_user_id=callee.user_id,
        caller_outside_number=presented,
    )


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def matching_rules(
    facts: CallFacts, callee: Callee, now: datetime, policy: Policy
) -> dict[str, tuple[Rule, Next]]:
    """The first rule of each condition that matches the call and can send it somewhere."""
    found: dict[str, tuple[Rule, Next]] = {}
    if not callee.rules:
        return found
    local = now.astimezone(_zone(callee.timezone or policy.timezone))
    weekday, clock = local.weekday(), local.time()
    keys = _caller_keys(facts.caller, policy.country_code)
    presence = callee.presence
    rules: Sequence[Rule] = callee.rules
    if len(rules) >= INDEX_RULES_FROM:
        # Only the rules this call can match (same order): a user may have a hundred.
        anonymous = facts.caller.anonymous or not facts.caller.number
        rules = _rule_index(callee.rules).candidates(presence, facts.origin, anonymous, weekday, keys)
    for rule in rules:
        if rule.condition in found or not _rule_matches(rule, facts, keys, presence, weekday, clock):
            continue
        target = _destination(rule, facts, callee, policy)
        if target is not None:
            found[rule.condition] = (rule, target)
            if len(found) == 4:
                break
    return found


def plan_incoming(
    facts: CallFacts, callee: Callee | None, now: datetime, policy: Policy, *, drop: bool = False
) -> Plan:
    if callee is None or callee.company_id != facts.caller.company_id:
        return Reject(RejectReason.UNKNOWN_NUMBER)
    if refused(facts, callee, policy):
        return Reject(RejectReason.REFUSED, callee)
    mailbox: Voicemail | None = (
        Voicemail(callee.mailbox_id, callee) if callee.mailbox_id is not None else None
    )
    if drop:
        # Straight to the mailbox, without ringing (E10); no mailbox means nothing to drop into.
        return mailbox or Reject(RejectReason.UNKNOWN_NUMBER)
    rules_apply = callee.user_id not in facts.forwarded_by and len(facts.forwarded_by) < MAX_FORWARDS
    rules = matching_rules(facts, callee, now, policy) if rules_apply else {}

    def then(condition: str, otherwise: Next) -> Next:
        hit = rules.get(condition)
        return hit[1] if hit is not None else otherwise

    if "always" in rules:
        return rules["always"][1]
    busy = then("busy", Reject(RejectReason.BUSY, callee))
    if callee.dnd:
        return then("busy", mailbox or Reject(RejectReason.BUSY, callee))
    unreachable = then("unreachable", mailbox or Reject(RejectReason.NO_DEVICE, callee))
    ringable = [
        d
        for d in callee.devices
        if d.enabled
        and d.reachable
        and (d.kind == DeviceKind.SIP or (d.number and not barred(d.number, "out", callee.user_id, policy)))
    ]
    if not ringable:
        return unreachable
    free = [d for d in ringable if d.active_calls < d.max_calls]
    if not free:
        return busy
    no_answer_rule = rules.get("no_answer")
    timeout = no_answer_rule[0].no_answer_after if no_answer_rule else callee.ring_timeout
    on_no_answer = (
        no_answer_rule[1] if no_answer_rule else (mailbox or Reject(RejectReason.NO_ANSWER, callee))
    )
    caller = facts.caller
    anonymous = caller.anonymous or not caller.number
    # A remote terminal is outside: it sees an outside caller's number, or an internal caller's
    # outside number, never an extension.
    outside_shown = caller.outside_number or "anonymous"
    outside_name = "" if outside_shown == "anonymous" else ("Anonymous" if anonymous else caller.name)
    targets = tuple(
        RingTarget(
            device_id=d.device_id,
            endpoint=d.endpoint if d.kind == DeviceKind.SIP else policy.trunk,
            delay=max(0, min(d.ring_delay, 30)),
            number=d.number if d.kind == DeviceKind.REMOTE else "",
            confirm=d.confirm and d.kind == DeviceKind.REMOTE,
            caller_id_number=outside_shown if d.kind == DeviceKind.REMOTE else "",
            caller_id_name=outside_name if d.kind == DeviceKind.REMOTE else "",
        )
        for d in sorted(free, key=lambda d: (d.ring_delay, d.device_id))
        # A device whose delay is past the ring timeout would never ring: leave it out.
        if d.ring_delay < timeout
    )
    if not targets:
        return on_no_answer
    return RingDevices(
        callee=callee,
        targets=targets,
        timeout=timeout,
        caller_id_number="anonymous" if anonymous else caller.number,
        caller_id_name="Anonymous" if anonymous else caller.name,
        on_no_answer=on_no_answer,
        on_busy=busy,
        on_unreachable=unreachable,
    )


def outside_caller_id(
    choice: str, chosen_number: str, own_numbers: tuple[str, ...], company_number: str
) -> str:
    """The number an outside callee sees (A4): the user's choice; "auto" is their first public
    number, else the company's. Empty: withheld."""
    if choice == "withheld":
        return ""
    if choice == "number" and chosen_number:
        return chosen_number
    if choice == "company":
        return company_number
    return own_numbers[0] if own_numbers else company_number
