"""Self-check of the suite's SIP user agent (tests/sipua.py).

The e2e tests run two phones against the running Asterisk, through the plain ``bench-baseline`` context
(``Dial(PJSIP/${EXTEN},10)``, no Stasis application on the path), with endpoints of their own pushed
through ARI and deleted afterwards. That context only matches digits, so the endpoints have numeric names.
They run against the suite's own Asterisk instance.

The other tests need no Asterisk: two user agents talk to each other directly (each is the other's
server), which lets them lose a packet on purpose to check the RFC 3261 retransmissions.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from django.conf import settings

from tests.sipua import (
    Call,
    CallState,
    NameAddr,
    SdpInfo,
    SipMessage,
    SipTimeout,
    SipUA,
    digest_response,
    parse_challenge,
)

# The test suite's own Asterisk instance (config/test_settings.py), started by the `asterisk` fixture.
ARI_URL = f"{settings.ARI_URL}/ari"
ARI_CREDENTIALS = f"{settings.ARI_USERNAME}:{settings.ARI_PASSWORD}"
SIP_SERVER = (settings.ASTERISK_SIP_HOST, settings.ASTERISK_SIP_PORT)
REALM = settings.SIP_REALM
CONTEXT = "bench-baseline"
# Numeric, since bench-baseline's only pattern is _X!; far from any extension the personas use.
CALLER, CALLEE = "8880001", "8880002"


# --------------------------------------------------------------------------------------------------
# Endpoints pushed through ARI
# --------------------------------------------------------------------------------------------------


def _ari(method: str, path: str, body: Mapping[str, object] | None = None) -> int:
    request = urllib.request.Request(
        f"{ARI_URL}{path}", data=json.dumps(body).encode() if body is not None else None, method=method
    )
    request.add_header("Authorization", "Basic " + base64.b64encode(ARI_CREDENTIALS.encode()).decode())
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def push_endpoint(name: str, password: str, context: str = CONTEXT) -> None:
    ha1 = hashlib.md5(f"{name}:{REALM}:{password}".encode(), usedforsecurity=False).hexdigest()
    objects: list[tuple[str, dict[str, str]]] = [
        (
            "auth",
            {"auth_type": "digest", "username": name, "realm": REALM, "password_digest": f"MD5:{ha1}"},
        ),
        ("aor", {"max_contacts": "1", "remove_existing": "yes"}),
        (
            "endpoint",
            {
                "transport": "transport-udp",
                "context": context,
                "disallow": "all",
                "allow": "ulaw",
                "auth": name,
                "aors": name,
                "direct_media": "no",
                "rtp_symmetric": "yes",
                "force_rport": "yes",
                "rewrite_contact": "yes",
                "dtmf_mode": "rfc4733",
            },
        ),
    ]
    for kind, fields in objects:
        body = {"fields": [{"attribute": key, "value": value} for key, value in fields.items()]}
        status = _ari("PUT", f"/asterisk/config/dynamic/res_pjsip/{kind}/{name}", body)
        assert status < 300, f"Asterisk refused {kind} {name}: HTTP {status}"


def delete_endpoint(name: str) -> None:
    for kind in ("endpoint", "aor", "auth"):
        _ari("DELETE", f"/asterisk/config/dynamic/res_pjsip/{kind}/{name}")


@pytest.fixture(scope="module")
def accounts(asterisk: object) -> Iterator[dict[str, str]]:
    """Two endpoints in bench-baseline: {username: password}; deleted after the module."""
    status = _ari("GET", "/asterisk/info")
    assert status == 200, f"ARI answered HTTP {status} to {ARI_CREDENTIALS.split(':')[0]}"
    passwords = {CALLER: secrets.token_urlsafe(12), CALLEE: secrets.token_urlsafe(12)}
    try:
        for name, password in passwords.items():
            push_endpoint(name, password)
        yield passwords
    finally:
        for name in passwords:
            delete_endpoint(name)


@asynccontextmanager
async def two_phones(accounts: dict[str, str]) -> AsyncIterator[tuple[SipUA, SipUA]]:
    """The caller (display name "Self Check") and the callee, registered; closed afterwards."""
    caller = await SipUA.create(CALLER, accounts[CALLER], server=SIP_SERVER, display_name="Self Check")
    callee = await SipUA.create(CALLEE, accounts[CALLEE], server=SIP_SERVER)
    try:
        assert await caller.register() == 200
        assert await callee.register() == 200
        yield caller, callee
    finally:
        await caller.close()
        await callee.close()


# --------------------------------------------------------------------------------------------------
# Against Asterisk
# --------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_register_ok_and_wrong_password_refused(accounts: dict[str, str]) -> None:
    async def scenario() -> tuple[int, int, int, bool]:
        good = await SipUA.create(CALLER, accounts[CALLER], server=SIP_SERVER)
        bad = await SipUA.create(CALLEE, "not-" + accounts[CALLEE], server=SIP_SERVER)
        try:
            ok = await good.register(expires=120)
            refused = await bad.register()
            gone = await good.unregister()
            return ok, refused, gone, good.registered
        finally:
            await good.close()
            await bad.close()

    ok, refused, gone, still_registered = asyncio.run(scenario())

    assert ok == 200
    assert refused in (401, 403)
    assert gone == 200 and not still_registered


async def _answered_call(caller: SipUA, callee: SipUA) -> tuple[Call, Call, dict[str, object]]:
    """Caller calls callee, callee rings and answers, audio flows both ways; returns both calls."""
    call = await caller.invite(CALLEE)
    incoming = await callee.wait_incoming(timeout=5)
    ringing = await call.wait_status(180, timeout=5)
    seen: dict[str, object] = {
        "name": incoming.caller_name,
        "number": incoming.caller_number,
        "called": incoming.called_number,
        "rang_before_ringback": incoming.ringing_since is not None and incoming.ringing_since <= ringing.at,
    }
    await incoming.answer()
    await call.wait_status(200, timeout=5)
    assert call.established and incoming.established
    await call.wait_rtp(25, timeout=5)
    await incoming.wait_rtp(25, timeout=5)
    return call, incoming, seen


@pytest.mark.e2e
@pytest.mark.parametrize("who_hangs_up", ["caller", "callee"])
def test_call_rings_answers_carries_audio_and_hangs_up(accounts: dict[str, str], who_hangs_up: str) -> None:
    async def scenario() -> dict[str, object]:
        async with two_phones(accounts) as (caller, callee):
            call, incoming, seen = await _answered_call(caller, callee)
            hanging, other = (call, incoming) if who_hangs_up == "caller" else (incoming, call)
            assert await hanging.hangup() == 200
            await other.wait_ended(timeout=5)
            await caller.assert_not_rung()
            return {
                **seen,
                "statuses": call.status_codes,
                "final": call.final_status,
                "other_ended": (other.ended_by, other.end_reason),
                "hanging_ended": (hanging.ended_by, hanging.end_reason),
                "rtp": (call.rtp_received, incoming.rtp_received),
                "callee_rung": callee.incoming_count,
            }

    result = asyncio.run(scenario())

    assert (result["name"], result["number"], result["called"]) == ("Self Check", CALLER, CALLEE)
    assert result["rang_before_ringback"]
    statuses = result["statuses"]
    assert isinstance(statuses, list)
    assert statuses[-2:] == [180, 200] and result["final"] == 200
    assert result["other_ended"] == ("remote", "BYE")
    assert result["hanging_ended"] == ("local", "BYE")
    rtp = result["rtp"]
    assert isinstance(rtp, tuple) and min(rtp) >= 25
    assert result["callee_rung"] == 1


@pytest.mark.e2e
def test_cancel_before_answer(accounts: dict[str, str]) -> None:
    async def scenario() -> tuple[int | None, bool, str | None, CallState, list[int]]:
        async with two_phones(accounts) as (caller, callee):
            call = await caller.invite(CALLEE)
            incoming = await callee.wait_incoming(timeout=5)
            await call.wait_status(180, timeout=5)
            final = await call.cancel()
            await incoming.wait_cancelled(timeout=5)
            await incoming.wait_ended(timeout=5)
            return final, incoming.cancelled, incoming.end_reason, call.state, call.status_codes

    final, cancelled, reason, state, statuses = asyncio.run(scenario())

    assert final == 487 and statuses[-1] == 487
    assert cancelled and reason == "CANCEL"
    assert state is CallState.TERMINATED


@pytest.mark.e2e
def test_callee_rejects_busy(accounts: dict[str, str]) -> None:
    async def scenario() -> tuple[int, int, bool]:
        async with two_phones(accounts) as (caller, callee):
            call = await caller.invite(CALLEE)
            incoming = await callee.wait_incoming(timeout=5)
            await incoming.reject(486)
            final = await call.wait_final(timeout=5)
            await call.wait_ended(timeout=1)
            return final, incoming.final_status or 0, incoming.ended

    final, rejected_with, callee_done = asyncio.run(scenario())

    assert final == 486 and rejected_with == 486 and callee_done


@pytest.mark.e2e
def test_dtmf_reaches_the_other_phone(accounts: dict[str, str]) -> None:
    async def scenario() -> tuple[str, str]:
        async with two_phones(accounts) as (caller, callee):
            call, incoming, _ = await _answered_call(caller, callee)
            await call.send_dtmf("19*#")
            await incoming.wait_dtmf("19*#", timeout=5)
            await incoming.send_dtmf("0")
            await call.wait_dtmf("0", timeout=5)
            await call.hangup()
            return incoming.dtmf_received, call.dtmf_received

    assert asyncio.run(scenario()) == ("19*#", "0")


@pytest.mark.e2e
def test_a_phone_that_is_not_registered_is_not_rung(accounts: dict[str, str]) -> None:
    async def scenario() -> tuple[int, list[int]]:
        caller = await SipUA.create(CALLER, accounts[CALLER], server=SIP_SERVER)
        try:
            assert await caller.register() == 200
            call = await caller.invite(CALLEE)  # CALLEE has no contact: Dial fails at once
            return await call.wait_final(timeout=5), call.status_codes
        finally:
            await caller.close()

    final, statuses = asyncio.run(scenario())

    assert final >= 400 and statuses[0] == 401  # challenged, then refused


# --------------------------------------------------------------------------------------------------
# Without Asterisk: two user agents face to face
# --------------------------------------------------------------------------------------------------


@asynccontextmanager
async def face_to_face() -> AsyncIterator[tuple[SipUA, SipUA]]:
    """A and B on loopback, each the other's server (no registrar, no authentication)."""
    b = await SipUA.create("bob", "unused", server=("127.0.0.1", 9), display_name="Bob")
    a = await SipUA.create("alice", "unused", server=("127.0.0.1", b.local_port), display_name="Alice")
    b.server = ("127.0.0.1", a.local_port)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def drop_first(ua: SipUA, matches: Callable[[bytes], bool]) -> list[float]:
    """Make `ua` lose the first datagram it sends that `matches`; returns the times it was sent."""
    transport = ua._transport
    assert transport is not None
    original = transport.sendto
    sent_at: list[float] = []

    def sendto(data: bytes | bytearray | memoryview, addr: Any = None) -> None:
        if matches(bytes(data)):
            sent_at.append(time.monotonic())
            if len(sent_at) == 1:
                return
        original(data, addr)

    transport.sendto = sendto  # type: ignore[method-assign]
    return sent_at


def test_lost_ack_makes_the_callee_retransmit_its_200() -> None:
    async def scenario() -> tuple[list[float], int, int]:
        async with face_to_face() as (a, b):
            acks = drop_first(a, lambda data: data.startswith(b"ACK "))
            call = await a.invite("bob")
            incoming = await b.wait_incoming(timeout=2)
            await incoming.answer(timeout=3)  # the first ACK is lost: 200 again after T1, ACK again
            await call.wait_rtp(10, timeout=2)
            await incoming.wait_rtp(10, timeout=2)
            status = await incoming.hangup()
            await call.wait_ended(timeout=2)
            return acks, status or 0, len([c for c in call.statuses if c.code == 200])

    acks, bye_status, oks = asyncio.run(scenario())

    assert len(acks) == 2 and 0.4 <= acks[1] - acks[0] <= 1.5
    assert bye_status == 200 and oks == 1


def test_lost_invite_is_retransmitted_and_cancel_gets_487() -> None:
    async def scenario() -> tuple[list[float], int | None, bool, str]:
        async with face_to_face() as (a, b):
            invites = drop_first(a, lambda data: data.startswith(b"INVITE "))
            call = await a.invite("bob", timeout=2)
            incoming = await b.wait_incoming(timeout=1)
            await call.wait_status(180, timeout=1)
            final = await call.cancel(timeout=2)
            await incoming.wait_cancelled(timeout=1)
            return invites, final, incoming.cancelled, incoming.caller_name

    invites, final, cancelled, name = asyncio.run(scenario())

    assert len(invites) == 2 and 0.4 <= invites[1] - invites[0] <= 1.5
    assert final == 487 and cancelled and name == "Alice"


def _raw_request(
    method: str, ua: SipUA, call: Call, peer: Call, port: int, cseq: int, sdp: str = ""
) -> bytes:
    """A request inside `call`'s dialog as `peer`'s side would send it, from a plain socket on `port`."""
    body = sdp.replace("\n", "\r\n").encode()
    head = (
        f"{method} sip:{ua.username}@127.0.0.1:{ua.local_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bK{secrets.token_hex(6)}\r\n"
        f"From: <sip:{peer.ua.username}@127.0.0.1>;tag={peer.local_tag}\r\n"
        f"To: <sip:{ua.username}@127.0.0.1>;tag={call.local_tag}\r\n"
        f"Call-ID: {call.call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n"
        f"Contact: <sip:{peer.ua.username}@127.0.0.1:{peer.ua.local_port}>\r\n"
        + ("Content-Type: application/sdp\r\n" if body else "")
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def test_reinvite_update_and_options_are_answered() -> None:
    async def scenario() -> dict[str, object]:
        loop = asyncio.get_running_loop()
        async with face_to_face() as (a, b):
            call = await a.invite("bob")
            incoming = await b.wait_incoming(timeout=1)
            await incoming.answer()
            raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            raw.bind(("127.0.0.1", 0))
            raw.setblocking(False)
            port = raw.getsockname()[1]

            async def exchange(data: bytes) -> SipMessage:
                await loop.sock_sendto(raw, data, ("127.0.0.1", b.local_port))
                return SipMessage.parse(await asyncio.wait_for(loop.sock_recv(raw, 65535), 2))

            sdp = (
                f"v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
                f"m=audio {call.rtp.port} RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=sendonly\n"
            )
            try:
                hold = await exchange(_raw_request("INVITE", b, incoming, call, port, 50, sdp))
                await loop.sock_sendto(
                    raw, _raw_request("ACK", b, incoming, call, port, 50), ("127.0.0.1", b.local_port)
                )
                held = incoming.on_hold
                update = await exchange(
                    _raw_request("UPDATE", b, incoming, call, port, 51, sdp.replace("sendonly", "sendrecv"))
                )
                options = await exchange(_raw_request("OPTIONS", b, incoming, call, port, 52))
                old = await exchange(_raw_request("INFO", b, incoming, call, port, 3))
            finally:
                raw.close()
            return {
                "hold": (hold.status, b"a=recvonly" in hold.body, held),
                "update": (update.status, b"a=sendrecv" in update.body, incoming.on_hold),
                "options": options.status,
                "out_of_order": old.status,
                "still_up": incoming.established and call.established,
            }

    result = asyncio.run(scenario())

    assert result == {
        "hold": (200, True, True),
        "update": (200, True, False),
        "options": 200,
        "out_of_order": 500,
        "still_up": True,
    }


def test_waiting_for_a_status_that_does_not_come_says_what_came() -> None:
    async def scenario() -> str:
        async with face_to_face() as (a, b):
            b.auto_ring = False
            call = await a.invite("bob")
            await b.wait_incoming(timeout=1)
            with pytest.raises(SipTimeout) as caught:
                await call.wait_status(180, timeout=0.3)
            return str(caught.value)

    message = asyncio.run(scenario())

    assert "no 180 within 0.3s" in message and "statuses [100]" in message


def test_digest_response_matches_rfc_2617_example() -> None:
    assert (
        digest_response(
            username="Mufasa",
            password="Circle Of Life",
            realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            method="GET",
            uri="/dir/index.html",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )
    challenge = parse_challenge('Digest realm="istra",nonce="1/2,3",opaque="x",algorithm=MD5,qop="auth"')
    assert challenge == {"realm": "istra", "nonce": "1/2,3", "opaque": "x", "algorithm": "MD5", "qop": "auth"}


def test_parsing_headers_and_sdp() -> None:
    message = SipMessage.parse(
        b"INVITE sip:102@127.0.0.1:5062 SIP/2.0\r\n"
        b"v: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKabc, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKdef\r\n"
        b'f: "Bob \\"B\\" Smith" <sip:101@istra>;tag=t1\r\n'
        b"t: <sip:102@istra>\r\n"
        b"i: call-1\r\n"
        b"CSeq: 7 INVITE\r\n"
        b"Content-Type: application/sdp\r\n"
        b"l: 999\r\n\r\n"
        b"v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n"
    )
    assert (message.method, message.cseq, message.call_id) == ("INVITE", (7, "INVITE"), "call-1")
    assert message.branch == "z9hG4bKabc" and len(message.get_all("Via")) == 2
    caller = message.from_
    assert (caller.display, caller.user, caller.tag) == ('Bob "B" Smith', "101", "t1")
    assert NameAddr.parse("sip:103@istra;tag=x").user == "103"
    sdp = SdpInfo.parse(message.body)
    assert sdp is not None
    assert (sdp.address, sdp.port, sdp.telephone_event_pt, sdp.direction) == (
        "10.1.1.1",
        4000,
        96,
        "sendonly",
    )
    with pytest.raises(ValueError):
        SipMessage.parse(b"garbage")
