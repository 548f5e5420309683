"""Reading Asterisk's security log and deciding which sources to block: pure, no I/O.

Asterisk writes one security event a line (templates/asterisk/logger.conf, res_security_log):

    [2026-12-01 22:36:55.498] SECURITY[22391] res_security_log.c: SecurityEvent="ChallengeResponseFailed",
    ...,AccountID="acme-101",SessionID="f899...@127.0.0.54",LocalAddress="IPV4/UDP/127.0.0.1/5290",
    RemoteAddress="IPV4/UDP/127.0.0.54/47536",Challenge="...",Response="...",ExpectedResponse=""

Measured on Asterisk 22.10: a REGISTER with a wrong password gives ChallengeSent then
ChallengeResponseFailed; an unknown account gives InvalidAccountID (twice), ChallengeSent and
ChallengeResponseFailed; an OPTIONS probe gives InvalidAccountID and ChallengeSent for an unknown
user, ChallengeSent alone for a known one; a REGISTER from the carrier's address gives
RequestNotSupported. A phone that registers or calls gives ChallengeSent then SuccessfulAuth.

So a source earns a strike for every failure event, and for every challenge it never answers right
(a challenge is forgiven when the same session authenticates): a phone with the right password
earns none, a wrong password two per attempt, an unknown account four, a probe one or two.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

FAILURE_EVENTS = frozenset(
    {
        "InvalidAccountID",
        "ChallengeResponseFailed",
        "InvalidPassword",
        "FailedACL",
        "RequestNotAllowed",
        "RequestNotSupported",
        "AuthMethodNotAllowed",
        "RequestBadFormat",
        "UnexpectedAddress",
        "InvalidTransport",
    }
)
CHALLENGE_EVENT = "ChallengeSent"
SUCCESS_EVENT = "SuccessfulAuth"
UNKNOWN_ACCOUNT = "<unknown>"
# Accounts remembered per source (what the administrator is shown): enough to recognise a sweep.
MAX_ACCOUNTS = 20

_FIELD = re.compile(r'(\w+)="([^"]*)"')
# Asterisk's own rendering of the peer: IPV4/UDP/192.0.2.1/5060, IPV6/TLS/[2001:db8::1]/5061.
_REMOTE = re.compile(r',RemoteAddress="IPV[46]/(\w+)/\[?([0-9A-Fa-f.:]+)\]?/(\d+)"')


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    name: str
    address: str
    account: str = ""
    session: str = ""
    transport: str = "UDP"


def parse_line(line: str) -> SecurityEvent | None:
    """The event a security log line holds; None for anything else (the banner, a torn line).

    The account and session (Call-ID) are written as the peer sent them and may hold quotes: a line
    with more than one RemoteAddress could be a peer trying to have another address blamed, so it is
    not attributed to anyone."""
    if "SecurityEvent=" not in line:
        return None
    remotes = _REMOTE.findall(line)
    if len(remotes) != 1:
        return None
    transport, host, _port = remotes[0]
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        return None
    fields = dict(_FIELD.findall(line.split(",RemoteAddress=", 1)[0]))
    name = fields.get("SecurityEvent", "")
    if not name:
        return None
    return SecurityEvent(
        name=name,
        address=address,
        account=fields.get("AccountID", ""),
        session=fields.get("SessionID", ""),
        transport=transport.upper(),
    )


@dataclass(frozen=True, slots=True)
class Offender:
    """A source to block: it earned `failures` strikes within the window."""

    address: str
    failures: int
    reasons: tuple[tuple[str, int], ...]
    accounts: tuple[str, ...]

    @property
    def reason(self) -> str:
        return ", ".join(f"{name} x{count}" for name, count in self.reasons)


def networks(entries: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Addresses or networks (192.0.2.1, 10.0.0.0/8) as networks; a bad entry fails loudly."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


@dataclass
class _Source:
    # (time, event name, session) of each strike, oldest first.
    strikes: deque[tuple[float, str, str]] = field(default_factory=deque)
    accounts: list[str] = field(default_factory=list)


@dataclass
class Detector:
    """Counts strikes per source address over a sliding window; says when a source must be blocked.

    `trusted` sources (the carrier, the operator's own networks) are never blocked, whatever they do."""

    max_failures: int
    window: float
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    sources: dict[str, _Source] = field(default_factory=dict)

    def is_trusted(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in self.trusted)

    def feed(self, event: SecurityEvent, now: float) -> Offender | None:
        """Take one event seen at `now` (seconds, monotonic); the offender when its source must go."""
        if event.name == SUCCESS_EVENT:
            source = self.sources.get(event.address)
            if source is not None:
                source.strikes = deque(
                    s for s in source.strikes if not (s[1] == CHALLENGE_EVENT and s[2] == event.session)
                )
            return None
        if event.name not in FAILURE_EVENTS and event.name != CHALLENGE_EVENT:
            return None
        if self.is_trusted(event.address):
            return None
        source = self.sources.setdefault(event.address, _Source())
        source.strikes.append((now, event.name, event.session))
        if (
            event.account
            and event.account != UNKNOWN_ACCOUNT
            and event.account not in source.accounts
            and len(source.accounts) < MAX_ACCOUNTS
        ):
            source.accounts.append(event.account)
        while source.strikes and source.strikes[0][0] <= now - self.window:
            source.strikes.popleft()
        if len(source.strikes) < self.max_failures:
            return None
        reasons = Counter(name for _t, name, _s in source.strikes)
        del self.sources[event.address]  # a fresh count once the block is over
        return Offender(
            address=event.address,
            failures=len(source.strikes),
            reasons=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
            accounts=tuple(source.accounts),
        )

    def forget(self, address: str) -> None:
        """Start the source's count again (a block lifted by an administrator)."""
        self.sources.pop(address, None)

    def prune(self, now: float) -> None:
        """Drop sources with no strike left in the window, so memory follows the live attackers."""
        for address in [
            a for a, s in self.sources.items() if not s.strikes or s.strikes[-1][0] <= now - self.window
        ]:
            del self.sources[address]
