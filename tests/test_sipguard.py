"""The SIP guard's decisions (sipguard.detector) on the security log lines Asterisk 22 writes, and its
blocks as a company's administrator sees and lifts them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from sipguard import actions
from sipguard.detector import Detector, Offender, SecurityEvent, networks, parse_line
from sipguard.models import SipBlock
from tests.personas import Person

# Lines as Asterisk 22.10 wrote them here (a wrong password from 127.0.0.54, a phone that registers).
CHALLENGE = (
    '[2026-12-01 22:36:55.497] SECURITY[22391] res_security_log.c: SecurityEvent="ChallengeSent",'
    'EventTV="2026-12-01T22:36:55.496+0000",Severity="Informational",Service="PJSIP",EventVersion="1",'
    'AccountID="acme-101",SessionID="f89993afe8be76f4@127.0.0.54",LocalAddress="IPV4/UDP/127.0.0.1/5290",'
    'RemoteAddress="IPV4/UDP/127.0.0.54/47536",Challenge=""'
)
FAILED = (
    '[2026-12-01 22:36:55.498] SECURITY[22391] res_security_log.c: SecurityEvent="ChallengeResponseFailed",'
    'EventTV="2026-12-01T22:36:55.498+0000",Severity="Error",Service="PJSIP",EventVersion="1",'
    'AccountID="acme-101",SessionID="f89993afe8be76f4@127.0.0.54",LocalAddress="IPV4/UDP/127.0.0.1/5290",'
    'RemoteAddress="IPV4/UDP/127.0.0.54/47536",Challenge="1796164603/7e9c",Response="aea2",ExpectedResponse=""'
)
SUCCESS = (
    '[2026-12-01 22:36:55.499] SECURITY[22391] res_security_log.c: SecurityEvent="SuccessfulAuth",'
    'EventTV="2026-12-01T22:36:55.499+0000",Severity="Informational",Service="PJSIP",EventVersion="1",'
    'AccountID="acme-101",SessionID="808f156d990ce66a@127.0.0.55",LocalAddress="IPV4/UDP/127.0.0.1/5290",'
    'RemoteAddress="IPV4/UDP/127.0.0.55/37241",UsingPassword="1"'
)


def detector(max_failures: int = 20, window: float = 600, trusted: tuple[str, ...] = ()) -> Detector:
    return Detector(max_failures=max_failures, window=window, trusted=networks(trusted))


def event(name: str, address: str, session: str = "s1", account: str = "acme-101") -> SecurityEvent:
    return SecurityEvent(name=name, address=address, account=account, session=session)


def wrong_password_attempts(guard: Detector, address: str, attempts: int, start: float = 0) -> int | None:
    """Feed `attempts` wrong-password REGISTERs; the attempt at which the source is blocked, if any."""
    for n in range(attempts):
        for name in ("ChallengeSent", "ChallengeResponseFailed"):
            if guard.feed(event(name, address, session="brute"), start + n) is not None:
                return n + 1
    return None


def test_a_security_log_line_gives_the_event_its_source_and_the_account_tried() -> None:
    assert parse_line(FAILED) == SecurityEvent(
        name="ChallengeResponseFailed",
        address="127.0.0.54",
        account="acme-101",
        session="f89993afe8be76f4@127.0.0.54",
        transport="UDP",
    )
    assert parse_line("[2026-12-01 22:36:42.484] Asterisk 22.10.1 built by nobody") is None


def test_an_ipv6_source_is_read_without_its_brackets() -> None:
    line = FAILED.replace(
        'RemoteAddress="IPV4/UDP/127.0.0.54/47536"', 'RemoteAddress="IPV6/TLS/[2001:db8::7]/5061"'
    )
    parsed = parse_line(line)
    assert parsed is not None and (parsed.address, parsed.transport) == ("2001:db8::7", "TLS")


def test_a_line_naming_a_second_address_in_what_the_peer_sent_is_blamed_on_nobody() -> None:
    # a Call-ID may hold quotes: a peer could try to have another address blocked in its place
    forged = FAILED.replace(
        'SessionID="f89993afe8be76f4@127.0.0.54"',
        'SessionID="x",RemoteAddress="IPV4/UDP/192.0.2.10/5060",y="@127.0.0.54"',
    )
    assert parse_line(forged) is None


def test_a_wrong_password_source_is_blocked_at_its_tenth_attempt() -> None:
    guard = detector()

    assert wrong_password_attempts(guard, "198.51.100.7", 20) == 10


def test_a_phone_with_the_right_password_is_never_blocked() -> None:
    guard = detector()
    for n in range(500):
        assert guard.feed(event("ChallengeSent", "198.51.100.8", session=f"c{n}"), n) is None
        assert guard.feed(event("SuccessfulAuth", "198.51.100.8", session=f"c{n}"), n) is None


def test_challenges_never_answered_count_as_failures_so_a_probe_sweep_is_blocked() -> None:
    guard = detector()
    blocked = [guard.feed(event("ChallengeSent", "203.0.113.9", session=f"p{n}"), n) for n in range(20)]

    assert blocked[:19] == [None] * 19
    offender = blocked[19]
    assert isinstance(offender, Offender) and offender.failures == 20


def test_failures_spread_wider_than_the_window_are_not_blocked() -> None:
    guard = detector(max_failures=20, window=60)

    # one wrong password every 7 seconds: never 20 strikes within a minute
    for n in range(100):
        assert guard.feed(event("ChallengeResponseFailed", "198.51.100.9"), n * 7.0) is None


def test_a_trusted_source_such_as_the_carrier_is_never_blocked() -> None:
    guard = detector(trusted=("192.0.2.1", "10.0.0.0/8"))

    assert wrong_password_attempts(guard, "192.0.2.1", 100) is None
    assert wrong_password_attempts(guard, "10.1.2.3", 100) is None
    assert wrong_password_attempts(guard, "192.0.2.2", 100) == 10


def test_each_source_is_counted_on_its_own() -> None:
    guard = detector()
    for n in range(9):
        wrong_password_attempts(guard, f"198.51.100.{n + 20}", 9, start=n)

    assert all(wrong_password_attempts(guard, f"198.51.100.{n + 20}", 1) == 1 for n in range(9))


def test_the_accounts_a_source_tried_are_remembered_a_few_at_most() -> None:
    guard = detector(max_failures=100)
    offender = None
    for n in range(100):
        offender = guard.feed(event("InvalidAccountID", "203.0.113.5", account=f"u{n}"), n) or offender

    assert offender is not None and len(offender.accounts) == 20 and offender.accounts[0] == "u0"


def test_sources_with_nothing_left_in_the_window_are_forgotten() -> None:
    guard = detector(window=60)
    guard.feed(event("InvalidAccountID", "203.0.113.6"), 0)

    guard.prune(61)

    assert guard.sources == {}


# --- blocks as administrators see them -------------------------------------------------------------


def block_of(address: str, *accounts: str) -> SipBlock:
    offender = Offender(
        address=address, failures=20, reasons=(("ChallengeResponseFailed", 20),), accounts=accounts
    )
    return actions.record_block(offender=offender, seconds=3600, now=timezone.now())


@pytest.mark.django_db
def test_a_block_belongs_to_the_companies_whose_accounts_the_source_tried(
    alice: Person, bob: Person, gina: Person, gus: Person
) -> None:
    block = block_of("198.51.100.30", bob.sip_username, gus.sip_username, "101")

    assert set(block.companies.values_list("slug", flat=True)) == {"acme", "globex"}
    # each administrator sees only their own company's accounts among those tried
    client = Client()
    client.force_login(alice.user)
    assert [b["accounts"] for b in client.get("/api/security/sip-blocks/").json()] == [[bob.sip_username]]
    client.force_login(gina.user)
    assert [b["accounts"] for b in client.get("/api/security/sip-blocks/").json()] == [[gus.sip_username]]


@pytest.mark.django_db
def test_only_a_company_administrator_sees_blocks_and_only_their_companys(
    alice: Person, bob: Person, gina: Person
) -> None:
    acme_block = block_of("198.51.100.31", bob.sip_username)
    block_of("198.51.100.32", "nobody")
    client = Client()

    client.force_login(bob.user)
    assert client.get("/api/security/sip-blocks/").status_code == 403
    assert client.post(f"/api/security/sip-blocks/{acme_block.pk}/lift/").status_code == 403
    assert client.get("/admin-console/security/").status_code == 403
    client.force_login(gina.user)
    assert client.get("/api/security/sip-blocks/").json() == []
    assert client.post(f"/api/security/sip-blocks/{acme_block.pk}/lift/").status_code == 404
    assert client.post(f"/admin-console/security/blocks/{acme_block.pk}/lift/").status_code == 404
    acme_block.refresh_from_db()
    assert acme_block.lifted_at is None


@pytest.mark.django_db
def test_an_administrator_lifts_a_block_from_the_security_page(alice: Person, bob: Person) -> None:
    block = block_of("198.51.100.33", bob.sip_username)
    client = Client()
    client.force_login(alice.user)
    page = client.get("/admin-console/security/")
    assert b"198.51.100.33" in page.content and bob.sip_username.encode() in page.content

    response = client.post(f"/admin-console/security/blocks/{block.pk}/lift/", follow=True)

    assert response.status_code == 200
    assert b"198.51.100.33" in response.content  # the confirmation names it
    assert b'data-address="198.51.100.33"' not in response.content
    block.refresh_from_db()
    assert block.lifted_by_id == alice.user.pk


@pytest.mark.django_db
def test_an_expired_block_is_shown_to_nobody(alice: Person, bob: Person) -> None:
    block = block_of("198.51.100.34", bob.sip_username)
    SipBlock.objects.filter(pk=block.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = Client()
    client.force_login(alice.user)

    assert client.get("/api/security/sip-blocks/").json() == []


@pytest.mark.django_db
def test_the_security_page_shows_the_fraud_limits_the_operator_set(alice: Person) -> None:
    company = alice.user.company
    assert company is not None
    company.max_outside_calls, company.max_international_minutes = 3, None
    company.save()
    client = Client()
    client.force_login(alice.user)

    page = client.get("/admin-console/security/").content.decode()

    assert '<dd class="max-outside-calls">3</dd>' in page
    assert '<dd class="max-international-minutes">no limit</dd>' in page
    assert 'id="international-warning"' not in page


@pytest.mark.django_db
def test_the_security_page_warns_of_unusual_international_traffic(alice: Person, bob: Person) -> None:
    from tests.test_fraud_limits import record_call_out

    company = alice.user.company
    assert company is not None
    company.max_international_minutes = 10
    # a time zone where it is not just past midnight: the calls below are all of today there
    company.timezone = next(
        tz for tz in ("UTC", "Asia/Tokyo") if timezone.now().astimezone(ZoneInfo(tz)).hour >= 1
    )
    company.save()
    client = Client()
    client.force_login(alice.user)
    record_call_out(company, bob, "+97912345678", at=timezone.now() - timedelta(minutes=9), talk=7 * 60)
    assert 'id="international-warning"' not in client.get("/admin-console/security/").content.decode()

    record_call_out(company, bob, "+97912345679", at=timezone.now() - timedelta(minutes=2), talk=60)
    page = client.get("/admin-console/security/").content.decode()

    assert 'id="international-warning"' in page and "8 minutes today" in page
    assert '<dd class="international-minutes-today">8</dd>' in page


# --- following the log ---------------------------------------------------------------------------------


def test_the_guard_reads_only_new_whole_lines_and_follows_a_rotated_log(tmp_path: Path) -> None:
    from ari_bridge.sipguard import LogFollower

    log = tmp_path / "security.log"
    log.write_text("old line, from before the guard started\n")
    follower = LogFollower(log)
    assert follower.lines() == []

    with log.open("a") as out:
        out.write("first\nsecond, half")
    assert follower.lines() == ["first"]
    with log.open("a") as out:
        out.write(" written\n")
    assert follower.lines() == ["second, half written"]

    # Asterisk's `logger rotate`: the file moves away, a new one starts
    log.rename(tmp_path / "security.log.0")
    log.write_text("after rotation\n")
    assert follower.lines() == ["after rotation"]


def test_a_log_that_appears_after_the_guard_started_is_read_from_its_start(tmp_path: Path) -> None:
    from ari_bridge.sipguard import LogFollower

    log = tmp_path / "security.log"
    follower = LogFollower(log)
    assert follower.lines() == []

    log.write_text("first event\n")

    assert follower.lines() == ["first event"]


@pytest.mark.django_db
def test_a_source_blocked_again_within_a_day_is_blocked_twice_as_long_up_to_a_week() -> None:
    from sipguard.queries import block_seconds

    now = timezone.now()
    assert block_seconds("198.51.100.40", 3600, now) == 3600
    offender = Offender(address="198.51.100.40", failures=20, reasons=(), accounts=())
    actions.record_block(offender=offender, seconds=3600, now=now - timedelta(hours=3))

    assert block_seconds("198.51.100.40", 3600, now) == 7200
    assert block_seconds("198.51.100.41", 3600, now) == 3600  # another source
    assert block_seconds("198.51.100.40", 3600, now + timedelta(days=2)) == 3600  # long ago
    actions.record_block(offender=offender, seconds=6 * 24 * 3600, now=now - timedelta(hours=1))
    assert block_seconds("198.51.100.40", 3600, now) == 7 * 24 * 3600
