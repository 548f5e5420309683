"""A small but real SIP user agent for the end-to-end tests: asyncio, UDP, standard library only.

It registers with digest authentication, places and receives calls, answers with SDP (PCMU and
RFC 4733 telephone-event), sends and counts RTP, and speaks enough RFC 3261 to be trusted by the tests:
client transactions retransmit per timers A/E, 2xx and non-2xx responses to INVITE are retransmitted
until their ACK, retransmitted requests get the last response again, dialogs keep their tags, CSeq,
route set and remote target.

Every request goes to the server given at creation (it is our outbound proxy: Asterisk is a B2BUA, so it
is the only peer); responses go back to the address the request came from (RFC 3581 symmetric response).

Typical use::

    a = await SipUA.create("uatest-a", "secret-a", display_name="Alice")
    b = await SipUA.create("uatest-b", "secret-b")
    assert await a.register() == 200 and await b.register() == 200
    call = await a.invite("uatest-b")
    incoming = await b.wait_incoming(timeout=5)
    await call.wait_status(180, timeout=5)
    await incoming.answer()
    await call.wait_status(200, timeout=5)
    await call.wait_rtp(25, timeout=5)
    await incoming.wait_rtp(25, timeout=5)
    await call.hangup()
    await incoming.wait_ended(timeout=5)
    await a.close()
    await b.close()

Waiting never relies on fixed sleeps: every ``wait_*`` method waits for the event itself and raises
:class:`SipTimeout` (an ``AssertionError``) with a description of what did happen when it does not come.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import logging
import math
import re
import secrets
import socket
import struct
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "Call",
    "CallState",
    "Direction",
    "NameAddr",
    "RtpSession",
    "SdpInfo",
    "SipError",
    "SipMessage",
    "SipTimeout",
    "SipUA",
    "StatusEvent",
    "digest_response",
    "parse_challenge",
]

log = logging.getLogger("sipua")

# RFC 3261 timers (seconds). Asterisk here uses the same T1 (pjsip.conf: timer_t1 = 500).
T1 = 0.5
T2 = 4.0
TIMER_64T1 = 64 * T1  # timers B, F, H and J

USER_AGENT = "istra-sipua/1.0"
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, NOTIFY, INFO, MESSAGE"

PCMU = 0
TELEPHONE_EVENT = 101
SAMPLE_RATE = 8000
PTIME_MS = 20
SAMPLES_PER_PACKET = SAMPLE_RATE * PTIME_MS // 1000  # 160 bytes of PCMU per packet


def _voiced(payload: bytes) -> bool:
    """Whether a PCMU payload is sound: a tenth of its samples above about -30 dBov.

    In G.711 mu-law the segment (bits 4-6 of the inverted byte) grows with the amplitude."""
    if not payload:
        return False
    loud = sum(1 for byte in payload if ((~byte) & 0x70) >> 4 >= 4)
    return loud * 10 >= len(payload)


DTMF_EVENTS = "0123456789*#ABCD"  # RFC 4733 event codes 0..15
DTMF_VOLUME = 10  # -10 dBm0

REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    405: "Method Not Allowed",
    408: "Request Timeout",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    603: "Decline",
}


class SipError(AssertionError):
    """A SIP exchange did not go the way the test expected.

    It is an ``AssertionError`` so that pytest reports it as a failed expectation, not as a crash."""


class SipTimeout(SipError):
    """An awaited SIP or RTP event did not happen in time; the message says what happened instead."""


# --------------------------------------------------------------------------------------------------
# SIP messages
# --------------------------------------------------------------------------------------------------

_COMPACT_FORMS = {
    "v": "Via",
    "f": "From",
    "t": "To",
    "i": "Call-ID",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
    "o": "Event",
    "u": "Allow-Events",
    "r": "Refer-To",
    "b": "Referred-By",
    "x": "Session-Expires",
}
_CANONICAL = {
    name.lower(): name
    for name in (
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Length",
        "Content-Type",
        "Max-Forwards",
        "Route",
        "Record-Route",
        "WWW-Authenticate",
        "Proxy-Authenticate",
        "Authorization",
        "Proxy-Authorization",
        "P-Asserted-Identity",
        "User-Agent",
        "Server",
        "Allow",
        "Supported",
        "Require",
        "Expires",
        "Min-Expires",
        "Event",
        "Subscription-State",
    )
}
# Headers whose comma-separated values are separate entries (RFC 3261 7.3.1).
_LIST_HEADERS = {"via", "route", "record-route", "contact", "allow", "supported", "require"}


def _canonical(name: str) -> str:
    name = name.strip()
    lower = name.lower()
    if lower in _COMPACT_FORMS:
        return _COMPACT_FORMS[lower]
    return _CANONICAL.get(lower, name)


def split_commas(value: str) -> list[str]:
    """Split a header value at the commas that are outside quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    angle = 0
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            angle += 1
        elif not quoted and char == ">":
            angle = max(0, angle - 1)
        elif char == "," and not quoted and angle == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _split_params(text: str) -> dict[str, str]:
    """``;a=b;c`` (leading ``;`` optional) → {"a": "b", "c": ""}; quotes are removed from values."""
    params: dict[str, str] = {}
    for part in re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', text):
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return params


@dataclass
class SipMessage:
    """One SIP request or response. Header names are kept canonical (compact forms expanded)."""

    method: str | None = None  # requests only
    uri: str = ""  # requests only
    status: int = 0  # responses only
    reason: str = ""  # responses only
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def get(self, name: str) -> str | None:
        """The first value of a header (the first entry of a comma-separated list header), or None."""
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, list headers split at their commas."""
        wanted = _canonical(name)
        values: list[str] = []
        for key, value in self.headers:
            if key == wanted:
                values.extend(split_commas(value) if wanted.lower() in _LIST_HEADERS else [value])
        return values

    def add(self, name: str, value: str) -> None:
        self.headers.append((_canonical(name), value))

    @property
    def call_id(self) -> str:
        return self.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = (self.get("CSeq") or "0 ?").partition(" ")
        return int(number), method.strip().upper()

    @property
    def branch(self) -> str:
        """The branch parameter of the top Via."""
        top = self.get("Via") or ""
        return _split_params(top.partition(";")[2]).get("branch", "")

    @property
    def from_(self) -> NameAddr:
        return NameAddr.parse(self.get("From") or "")

    @property
    def to(self) -> NameAddr:
        return NameAddr.parse(self.get("To") or "")

    def encode(self) -> bytes:
        if self.is_request:
            start = f"{self.method} {self.uri} SIP/2.0"
        else:
            start = f"SIP/2.0 {self.status} {self.reason or REASONS.get(self.status, 'Unknown')}"
        lines = [start]
        lines += [f"{name}: {value}" for name, value in self.headers if name != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    @classmethod
    def parse(cls, data: bytes) -> SipMessage:
        """Parse one datagram; raises ValueError when it is not SIP."""
        head, separator, body = data.partition(b"\r\n\r\n")
        if not separator:
            head, separator, body = data.partition(b"\n\n")
        lines = head.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
        start = lines[0].strip()
        message = cls()
        if start.startswith("SIP/2.0 "):
            _, code, *reason = start.split(" ", 2)
            message.status = int(code)
            message.reason = reason[0] if reason else ""
        else:
            parts = start.split(" ")
            if len(parts) != 3 or parts[2] != "SIP/2.0":
                raise ValueError(f"not a SIP start line: {start!r}")
            message.method, message.uri = parts[0].upper(), parts[1]
        for line in lines[1:]:
            if not line.strip():
                continue
            if line[0] in " \t" and message.headers:  # folded continuation line
                name, value = message.headers[-1]
                message.headers[-1] = (name, f"{value} {line.strip()}")
                continue
            name, colon, value = line.partition(":")
            if colon:
                message.add(name, value.strip())
        length = message.get("Content-Length")
        message.body = body[: int(length)] if length and length.strip().isdigit() else body
        return message

    def summary(self) -> str:
        number, method = self.cseq
        if self.is_request:
            return f"{self.method} {self.uri} (CSeq {number} {method}, Call-ID {self.call_id})"
        return f"{self.status} {self.reason} (CSeq {number} {method}, Call-ID {self.call_id})"


@dataclass
class NameAddr:
    """A From/To/Contact/P-Asserted-Identity value: ``"Bob" <sip:101@host>;tag=abc``."""

    display: str
    uri: str
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str) -> NameAddr:
        value = value.strip()
        display = ""
        if value.startswith('"'):
            match = re.match(r'"((?:[^"\\]|\\.)*)"\s*', value)
            if match:
                display = re.sub(r"\\(.)", r"\1", match.group(1))
                value = value[match.end() :]
        if "<" in value:
            before, _, rest = value.partition("<")
            display = display or before.strip()
            uri, _, params = rest.partition(">")
        else:  # addr-spec: everything after the first ';' is a header parameter
            uri, _, params = value.partition(";")
            params = ";" + params
        return cls(display=display, uri=uri.strip(), params=_split_params(params))

    @property
    def tag(self) -> str | None:
        return self.params.get("tag") or None

    @property
    def user(self) -> str:
        """The user part of the URI (``101`` in ``sip:101@host``), percent-decoded; '' when there is none."""
        rest = self.uri.split(":", 1)[1] if ":" in self.uri else self.uri
        if rest.startswith("//"):
            rest = rest[2:]
        if self.uri.lower().startswith("tel:"):
            return urllib.parse.unquote(rest.split(";", 1)[0])
        if "@" not in rest:
            return ""
        userinfo = rest.rsplit("@", 1)[0]
        return urllib.parse.unquote(userinfo.split(";", 1)[0].split(":", 1)[0])

    @property
    def host(self) -> str:
        rest = self.uri.split(":", 1)[1] if ":" in self.uri else self.uri
        return rest.rsplit("@", 1)[-1].split(";", 1)[0]

    def render(self, *, tag: str | None = None) -> str:
        """The header value, with ``tag`` replacing any tag parameter (``tag=None`` drops it)."""
        display = self.display.replace("\\", "\\\\").replace('"', '\\"')
        text = f'"{display}" <{self.uri}>' if display else f"<{self.uri}>"
        params = {k: v for k, v in self.params.items() if k != "tag"}
        if tag:
            params["tag"] = tag
        return text + "".join(f";{k}={v}" if v else f";{k}" for k, v in params.items())


# --------------------------------------------------------------------------------------------------
# Digest authentication (RFC 2617 / RFC 3261 22, MD5 only)
# --------------------------------------------------------------------------------------------------


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_response(
    *,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str = "00000001",
    cnonce: str = "",
) -> str:
    """The ``response`` value of a Digest Authorization header (MD5; with or without qop=auth)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def parse_challenge(value: str) -> dict[str, str] | None:
    """The parameters of a ``Digest`` WWW-/Proxy-Authenticate value, or None for another scheme."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    for match in re.finditer(r'([\w-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)', rest):
        params[match.group(1).lower()] = match.group(3) if match.group(3) is not None else match.group(2)
    return params


# --------------------------------------------------------------------------------------------------
# SDP
# --------------------------------------------------------------------------------------------------

_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


@dataclass
class SdpInfo:
    """What we need from a remote SDP: the audio address, payload types, telephone-event and direction."""

    address: str
    port: int
    payload_types: list[int]
    telephone_event_pt: int | None
    direction: str

    @classmethod
    def parse(cls, body: bytes) -> SdpInfo | None:
        """The first audio stream of an SDP body, or None when there is none."""
        session_address = ""
        media_address = ""
        port = -1
        payload_types: list[int] = []
        telephone_event: int | None = None
        session_direction = "sendrecv"
        media_direction = ""
        in_audio = False
        seen_audio = False
        for raw in body.decode("utf-8", errors="replace").splitlines():
            line = raw.strip()
            if line.startswith("m="):
                if seen_audio:
                    break  # only the first audio stream
                parts = line[2:].split()
                in_audio = parts[0] == "audio"
                if in_audio:
                    seen_audio = True
                    port = int(parts[1])
                    payload_types = [int(p) for p in parts[3:] if p.isdigit()]
            elif line.startswith("c="):
                address = line.split()[-1].split("/")[0]
                if in_audio:
                    media_address = address
                elif not seen_audio:
                    session_address = address
            elif line.startswith("a="):
                attribute = line[2:]
                if attribute in _DIRECTIONS:
                    if in_audio:
                        media_direction = attribute
                    elif not seen_audio:
                        session_direction = attribute
                elif in_audio and attribute.lower().startswith("rtpmap:"):
                    pt, _, codec = attribute[7:].partition(" ")
                    if codec.lower().startswith("telephone-event/") and pt.isdigit():
                        telephone_event = int(pt)
        if not seen_audio:
            return None
        return cls(
            address=media_address or session_address,
            port=port,
            payload_types=payload_types,
            telephone_event_pt=telephone_event,
            direction=media_direction or session_direction,
        )


# --------------------------------------------------------------------------------------------------
# Waiting for state changes
# --------------------------------------------------------------------------------------------------


class _Waiters:
    """Coroutines waiting for a predicate over some state; ``notify()`` is called on every change."""

    def __init__(self) -> None:
        self._pending: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def notify(self) -> None:
        pending, self._pending = self._pending, []
        for predicate, future in pending:
            if future.done():
                continue
            if predicate():
                future.set_result(None)
            else:
                self._pending.append((predicate, future))

    async def wait(self, predicate: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
        """Return once ``predicate()`` is true; raise SipTimeout(describe()) after ``timeout`` seconds."""
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((predicate, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise SipTimeout(describe()) from None


# --------------------------------------------------------------------------------------------------
# RTP
# --------------------------------------------------------------------------------------------------


def _linear_to_ulaw(sample: int) -> int:
    """G.711 µ-law encoding of one signed 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


# 400 Hz divides 8000 Hz into 20-sample periods: one 160-sample frame holds exactly 8 of them.
TONE_FRAME = bytes(
    _linear_to_ulaw(round(8000 * math.sin(2 * math.pi * 400 * n / SAMPLE_RATE)))
    for n in range(SAMPLES_PER_PACKET)
)
SILENCE_FRAME = bytes([_linear_to_ulaw(0)]) * SAMPLES_PER_PACKET


# What the RTP sender does on one 20 ms tick: send a (payload type, marker, payload, timestamp) packet,
# run a completion callback (then look at the next item), or send audio (None).
_ScriptItem = tuple[int, bool, bytes, int] | Callable[[], None] | None


class RtpSession:
    """One RTP/RTCP socket pair (even/odd ports) for one call: sends PCMU every 20 ms once started,
    counts what arrives, sends and decodes RFC 4733 DTMF events."""

    def __init__(self, local_host: str, on_change: Callable[[], None], *, tone: bool = True) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_change = on_change
        self._rtp, self._rtcp = self._bind_pair(local_host)
        self.port: int = self._rtp.getsockname()[1]
        self._loop.add_reader(self._rtp.fileno(), self._readable, self._rtp, True)
        self._loop.add_reader(self._rtcp.fileno(), self._readable, self._rtcp, False)
        self.remote: tuple[str, int] | None = None
        self.telephone_event_pt = TELEPHONE_EVENT
        self.send_enabled = True
        self.frame = TONE_FRAME if tone else SILENCE_FRAME
        self.received = 0
        # PCMU packets that carry sound (speech, a tone), not silence: what a listener would hear.
        self.voiced = 0
        self.sent = 0
        self.received_payload_types: set[int] = set()
        self.first_received_at: float | None = None
        self.dtmf_received = ""
        self._dtmf_seen: set[tuple[int, int]] = set()
        self._ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._marker = True
        self._script: deque[_ScriptItem] = deque()
        self._dtmf_queue: deque[tuple[str, int, int, asyncio.Future[None]]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self.closed = False

    @staticmethod
    def _bind_pair(host: str) -> tuple[socket.socket, socket.socket]:
        for _ in range(200):
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtp.bind((host, 0))
            port = rtp.getsockname()[1]
            if port % 2 == 0 and port < 65535:
                rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    rtcp.bind((host, port + 1))
                except OSError:
                    rtcp.close()
                else:
                    rtp.setblocking(False)
                    rtcp.setblocking(False)
                    return rtp, rtcp
            rtp.close()
        raise OSError(f"no free even/odd UDP port pair on {host}")

    # ---- receiving

    def _readable(self, sock: socket.socket, is_rtp: bool) -> None:
        changed = False
        while True:
            try:
                data, _addr = sock.recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # e.g. ICMP port unreachable reported on the socket
                break
            if is_rtp and self._count(data):
                changed = True
        if changed:
            self._on_change()

    def _count(self, data: bytes) -> bool:
        if len(data) < 12 or data[0] >> 6 != 2:
            return False
        payload_type = data[1] & 0x7F
        if 72 <= payload_type <= 76:  # RTCP multiplexed on the RTP port
            return False
        self.received += 1
        if self.first_received_at is None:
            self.first_received_at = time.monotonic()
        self.received_payload_types.add(payload_type)
        if payload_type == 0 and _voiced(data[12 + 4 * (data[0] & 0x0F) :]):
            self.voiced += 1
        if payload_type in (self.telephone_event_pt, TELEPHONE_EVENT):
            offset = 12 + 4 * (data[0] & 0x0F)
            if data[0] & 0x10 and len(data) >= offset + 4:  # header extension
                offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
            if len(data) >= offset + 4:
                timestamp, ssrc = struct.unpack_from("!II", data, 4)
                event = data[offset]
                if (ssrc, timestamp) not in self._dtmf_seen and event < len(DTMF_EVENTS):
                    self._dtmf_seen.add((ssrc, timestamp))
                    self.dtmf_received += DTMF_EVENTS[event]
        return True

    # ---- sending

    def start(self) -> None:
        """Start sending one packet every 20 ms to ``self.remote`` (idempotent)."""
        if self._sender is None and not self.closed:
            self._sender = self._loop.create_task(self._send_loop())

    async def _send_loop(self) -> None:
        next_at = self._loop.time()
        while True:
            self._tick()
            next_at += PTIME_MS / 1000
            delay = next_at - self._loop.time()
            if delay < -0.2:  # the loop was stalled: resynchronise instead of bursting
                next_at = self._loop.time()
                delay = 0
            await asyncio.sleep(max(0.0, delay))

    def _tick(self) -> None:
        timestamp = self._timestamp
        self._timestamp = (self._timestamp + SAMPLES_PER_PACKET) & 0xFFFFFFFF
        while self._script and callable(self._script[0]):
            done = self._script.popleft()
            assert callable(done)
            done()
        if not self._script and self._dtmf_queue:
            self._script.extend(self._dtmf_script(*self._dtmf_queue.popleft(), timestamp))
        item = self._script.popleft() if self._script else None
        if item is None:
            self._send(PCMU, self._marker, self.frame, timestamp)
            self._marker = False
        elif not callable(item):
            self._send(*item)
            self._marker = True  # audio after an event starts a new talkspurt

    def _dtmf_script(
        self, digit: str, duration_ms: int, gap_ms: int, done: asyncio.Future[None], timestamp: int
    ) -> list[_ScriptItem]:
        """The packets of one RFC 4733 event: growing durations, then the end packet three times,
        then ``gap_ms`` of audio; all event packets carry the event's start timestamp."""
        event = DTMF_EVENTS.index(digit)
        packets = max(1, duration_ms // PTIME_MS)
        pt = self.telephone_event_pt
        script: list[_ScriptItem] = []
        for k in range(1, packets):
            payload = struct.pack("!BBH", event, DTMF_VOLUME, k * SAMPLES_PER_PACKET)
            script.append((pt, k == 1, payload, timestamp))
        end = struct.pack("!BBH", event, 0x80 | DTMF_VOLUME, packets * SAMPLES_PER_PACKET)
        script += [(pt, packets == 1 and i == 0, end, timestamp) for i in range(3)]
        script += [None] * max(1, gap_ms // PTIME_MS)

        def finished() -> None:
            if not done.done():
                done.set_result(None)

        script.append(finished)
        return script

    def _send(self, payload_type: int, marker: bool, payload: bytes, timestamp: int) -> None:
        if self.remote is None or not self.send_enabled or self.closed:
            return
        header = struct.pack(
            "!BBHII", 0x80, (0x80 if marker else 0) | payload_type, self._seq, timestamp, self._ssrc
        )
        self._seq = (self._seq + 1) & 0xFFFF
        try:
            self._rtp.sendto(header + payload, self.remote)
            self.sent += 1
        except OSError as exc:
            log.debug("RTP send to %s failed: %s", self.remote, exc)

    async def send_dtmf(self, digits: str, duration_ms: int, gap_ms: int) -> None:
        futures = []
        for digit in digits.upper():
            if digit not in DTMF_EVENTS:
                raise ValueError(f"not a DTMF digit: {digit!r}")
            future: asyncio.Future[None] = self._loop.create_future()
            self._dtmf_queue.append((digit, duration_ms, gap_ms, future))
            futures.append(future)
        await asyncio.gather(*futures)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._sender is not None:
            self._sender.cancel()
        for _digit, _duration, _gap, future in self._dtmf_queue:
            if not future.done():
                future.set_exception(SipError("the call ended before the DTMF was sent"))
        for sock in (self._rtp, self._rtcp):
            with contextlib.suppress(Exception):
                self._loop.remove_reader(sock.fileno())
            sock.close()


# --------------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------------


class _ClientTransaction:
    """RFC 3261 17.1 over UDP: retransmits (timer A or E) until a response, times out with a
    synthetic 408 (timer B or F), ACKs non-2xx final responses to INVITE with the same branch."""

    def __init__(
        self, ua: SipUA, request: SipMessage, on_response: Callable[[SipMessage], None] | None
    ) -> None:
        self.ua = ua
        self.request = request
        self.data = request.encode()
        self.is_invite = request.method == "INVITE"
        self.key = (request.branch, request.cseq[1])
        self.final: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        self.provisional = False
        self._ack: bytes | None = None
        self._on_response = on_response
        ua._client_transactions[self.key] = self
        self._timer = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        interval = T1
        self.ua._send(self.data, self.ua.server, self.request)
        while True:
            remaining = started + TIMER_64T1 - loop.time()
            await asyncio.sleep(max(0.0, min(interval, remaining)))
            if self.final.done() or (self.is_invite and self.provisional):
                return  # INVITE: a provisional response stops timer A (and B)
            if loop.time() - started >= TIMER_64T1:
                self._timed_out()
                return
            self.ua._send(self.data, self.ua.server, self.request, retransmission=True)
            if self.is_invite:
                interval *= 2
            else:
                interval = T2 if self.provisional else min(interval * 2, T2)

    def _timed_out(self) -> None:
        response = SipMessage(status=408, reason="Request Timeout (no response, sipua timer B/F)")
        for name in ("Via", "From", "To", "Call-ID", "CSeq"):
            value = self.request.get(name)
            if value is not None:
                response.add(name, value)
        log.warning("%s: no response to %s", self.ua.username, self.request.summary())
        self._deliver_final(response)

    def _deliver_final(self, response: SipMessage) -> None:
        self.final.set_result(response)
        asyncio.get_running_loop().call_later(TIMER_64T1, self.ua._client_transactions.pop, self.key, None)
        if self._on_response is not None:
            self._on_response(response)

    def receive(self, response: SipMessage) -> None:
        if response.status < 200:
            self.provisional = True
            if not self.final.done() and self._on_response is not None:
                self._on_response(response)
            return
        if self.is_invite and response.status >= 300:
            if self._ack is None:
                self._ack = self._build_ack(response).encode()
            self.ua._send(self._ack, self.ua.server, None, note="ACK (non-2xx)")
        if not self.final.done():
            self._deliver_final(response)
        elif self.is_invite and response.status < 300 and self._on_response is not None:
            self._on_response(response)  # retransmitted 2xx: the call sends its ACK again

    def _build_ack(self, response: SipMessage) -> SipMessage:
        request = self.request
        ack = SipMessage(method="ACK", uri=request.uri)
        ack.add("Via", request.get("Via") or "")
        ack.add("Max-Forwards", "70")
        for route in request.get_all("Route"):
            ack.add("Route", route)
        ack.add("From", request.get("From") or "")
        ack.add("To", response.get("To") or "")
        ack.add("Call-ID", request.call_id)
        ack.add("CSeq", f"{request.cseq[0]} ACK")
        ack.add("User-Agent", self.ua.user_agent)
        return ack

    async def wait_final(self, timeout: float) -> SipMessage:
        try:
            return await asyncio.wait_for(asyncio.shield(self.final), timeout)
        except TimeoutError:
            raise SipTimeout(
                f"{self.ua.username}: no final response to {self.request.method} within {timeout}s"
            ) from None

    def cancel_timers(self) -> None:
        self._timer.cancel()


class _ServerTransaction:
    """RFC 3261 17.2: remembers the last response to answer retransmitted requests; a final response to
    an INVITE (2xx included, per 13.3.1.4) is retransmitted (T1 doubling up to T2) until its ACK."""

    def __init__(self, ua: SipUA, request: SipMessage, address: tuple[str, int]) -> None:
        self.ua = ua
        self.request = request
        self.address = address
        self.is_invite = request.method == "INVITE"
        self.key = (request.branch, request.method or "")
        self.last: bytes | None = None
        self.final_status: int | None = None
        self.acked = False
        self.call: Call | None = None
        self._retransmit: asyncio.Task[None] | None = None
        ua._server_transactions[self.key] = self

    def respond(self, response: SipMessage) -> None:
        if self.final_status is not None:
            log.warning("%s: second final response to %s dropped", self.ua.username, self.request.summary())
            return
        self.last = response.encode()
        self.ua._send(self.last, self.address, response)
        if response.status < 200:
            return
        self.final_status = response.status
        loop = asyncio.get_running_loop()
        loop.call_later(TIMER_64T1 + 1, self.ua._server_transactions.pop, self.key, None)
        if self.is_invite:
            self._retransmit = loop.create_task(self._retransmit_until_ack(self.last))

    async def _retransmit_until_ack(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMER_64T1
        interval = T1
        while True:
            await asyncio.sleep(interval)
            if self.acked:
                return
            if loop.time() >= deadline:
                log.warning("%s: no ACK for %s", self.ua.username, self.request.summary())
                if self.call is not None:
                    self.call._on_ack_timeout(self)
                return
            self.ua._send(data, self.address, None, note=f"{self.final_status} (retransmission)")
            interval = min(interval * 2, T2)

    def resend_last(self) -> None:
        if self.last is not None:
            self.ua._send(self.last, self.address, None, note="last response (request retransmitted)")

    def ack_received(self) -> None:
        self.acked = True
        if self._retransmit is not None:
            self._retransmit.cancel()
        if self.call is not None:
            self.call._notify()

    def cancel_timers(self) -> None:
        if self._retransmit is not None:
            self._retransmit.cancel()


# --------------------------------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------------------------------


class Direction(enum.Enum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


class CallState(enum.Enum):
    CALLING = "calling"  # outgoing: INVITE sent, at most 100 Trying received
    EARLY = "early"  # outgoing: 18x received
    RINGING = "ringing"  # incoming: INVITE received, not answered yet
    ANSWERING = "answering"  # incoming: 200 sent, waiting for the ACK
    CONFIRMED = "confirmed"  # established: 2xx and ACK
    TERMINATED = "terminated"


class StatusEvent(NamedTuple):
    """One response received to an outgoing INVITE (digest challenges included): its status code and
    the ``time.monotonic()`` it arrived; unpacks as ``code, at``."""

    code: int
    at: float


class Call:
    """One call (an INVITE dialog), outgoing or incoming. Obtain it from :meth:`SipUA.invite` or
    :meth:`SipUA.wait_incoming`; never construct it directly."""

    def __init__(
        self,
        ua: SipUA,
        direction: Direction,
        *,
        call_id: str,
        local_tag: str,
        local: NameAddr,
        remote: NameAddr,
        request_uri: str,
    ) -> None:
        self.ua = ua
        self.direction = direction
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag: str | None = None
        self.local = local
        self.remote = remote
        self.request_uri = request_uri
        self.remote_target = request_uri
        self.route_set: list[str] = []
        self.local_cseq = 0 if direction is Direction.OUTGOING else secrets.randbelow(10_000) + 1
        self.remote_cseq: int | None = None
        self.state = CallState.CALLING if direction is Direction.OUTGOING else CallState.RINGING
        self.statuses: list[StatusEvent] = []
        self.final_status: int | None = None
        self.last_reason = ""  # reason phrase of the latest response recorded in statuses
        self.created_at = time.monotonic()
        self.ringing_since: float | None = None  # incoming: when the INVITE arrived
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.ended_by: str | None = None  # "local" or "remote"
        self.end_reason: str | None = None  # "BYE", "CANCEL", "487 Request Terminated", ...
        self.cancelled = False  # incoming: the caller cancelled before answer
        self.reinvites_received = 0  # re-INVITEs and UPDATEs within the established dialog
        self.invite: SipMessage | None = None  # the initial INVITE (sent or received)
        self.asserted_identity: NameAddr | None = None  # latest P-Asserted-Identity seen
        self.remote_sdp: SdpInfo | None = None
        self.local_direction = "sendrecv"
        self._sdp_session = secrets.randbelow(2**31)
        self._sdp_version = 1
        self._waiters = _Waiters()
        self.rtp = RtpSession(ua.local_host, self._notify, tone=ua.send_tone)
        # outgoing
        self._invite_tx: _ClientTransaction | None = None
        self._extra_headers: list[tuple[str, str]] = []
        self._auth_attempts = 0
        self._responded = False
        self._ack: bytes | None = None
        self._cancel_requested = False
        # incoming
        self._uas_invites: dict[int, _ServerTransaction] = {}
        self._initial_tx: _ServerTransaction | None = None
        self._offer_in_200 = False

    def __repr__(self) -> str:
        return (
            f"<Call {self.direction.value} {self.ua.username}<->{self.remote_number} {self.state.value}"
            f" statuses={self.status_codes}>"
        )

    # ---- identity

    @property
    def caller_name(self) -> str:
        """Display name of the From header of the initial INVITE (for incoming calls: the caller)."""
        return self._from_of_invite().display

    @property
    def caller_number(self) -> str:
        """User part of the From URI of the initial INVITE (for incoming calls: the caller)."""
        return self._from_of_invite().user

    @property
    def called_number(self) -> str:
        """User part of the To URI of the initial INVITE."""
        return NameAddr.parse(self.invite.get("To") or "").user if self.invite else self.remote.user

    @property
    def remote_name(self) -> str:
        """The other party's display name: P-Asserted-Identity when seen, else From (incoming) or To."""
        return self.asserted_identity.display if self.asserted_identity else self.remote.display

    @property
    def remote_number(self) -> str:
        """The other party's number: P-Asserted-Identity when seen, else From (incoming) or To."""
        return self.asserted_identity.user if self.asserted_identity else self.remote.user

    def _from_of_invite(self) -> NameAddr:
        if self.invite is None:
            return self.local if self.direction is Direction.OUTGOING else self.remote
        return NameAddr.parse(self.invite.get("From") or "")

    # ---- simple state

    @property
    def status_codes(self) -> list[int]:
        return [status.code for status in self.statuses]

    @property
    def established(self) -> bool:
        return self.state is CallState.CONFIRMED

    @property
    def ended(self) -> bool:
        return self.state is CallState.TERMINATED

    @property
    def rtp_received(self) -> int:
        return self.rtp.received

    @property
    def rtp_sent(self) -> int:
        return self.rtp.sent

    @property
    def dtmf_received(self) -> str:
        """Digits of the RFC 4733 events received so far, in order."""
        return self.rtp.dtmf_received

    @property
    def on_hold(self) -> bool:
        """The remote side put us on hold (its SDP is sendonly/inactive or has a 0.0.0.0 address)."""
        sdp = self.remote_sdp
        return sdp is not None and (sdp.direction in ("sendonly", "inactive") or sdp.address == "0.0.0.0")

    def _notify(self) -> None:
        self._waiters.notify()

    def _describe(self) -> str:
        return (
            f"{self.ua.username}: {self.direction.value} call with {self.remote_number or self.remote.uri}"
            f" is {self.state.value}, statuses {self.status_codes}, RTP received {self.rtp.received}"
            f" sent {self.rtp.sent}"
            + (f", ended by {self.ended_by} ({self.end_reason})" if self.ended else "")
        )

    # ---- waiting

    async def wait_status(self, codes: int | Iterable[int], timeout: float = 5.0) -> StatusEvent:
        """Wait until a response with one of ``codes`` has been received for this outgoing call and
        return it. Fails at once (SipError) if the call gets another final status instead."""
        wanted = {codes} if isinstance(codes, int) else set(codes)
        label = " or ".join(map(str, sorted(wanted)))

        def found() -> StatusEvent | None:
            return next((s for s in self.statuses if s.code in wanted), None)

        await self._waiters.wait(
            lambda: found() is not None or self.final_status is not None,
            timeout,
            lambda: f"no {label} within {timeout}s; {self._describe()}",
        )
        status = found()
        if status is None:
            raise SipError(
                f"expected {label} but the final status is {self.final_status}; {self._describe()}"
            )
        return status

    async def wait_final(self, timeout: float = 5.0) -> int:
        """Outgoing call: wait for the INVITE's final status (after any digest challenge) and return it."""
        await self._waiters.wait(
            lambda: self.final_status is not None,
            timeout,
            lambda: f"no final response within {timeout}s; {self._describe()}",
        )
        assert self.final_status is not None
        return self.final_status

    async def wait_ended(self, timeout: float = 5.0) -> None:
        """Wait until the call is over (remote BYE or CANCEL, failure response, or our own hang-up)."""
        await self._waiters.wait(
            lambda: self.ended, timeout, lambda: f"call not ended within {timeout}s; {self._describe()}"
        )

    async def wait_established(self, timeout: float = 5.0) -> None:
        """Wait until 2xx and ACK have been exchanged; fails at once if the call ends first."""
        await self._waiters.wait(
            lambda: self.established or self.ended,
            timeout,
            lambda: f"call not established within {timeout}s; {self._describe()}",
        )
        if not self.established:
            raise SipError(f"call ended before it was established; {self._describe()}")

    async def wait_cancelled(self, timeout: float = 5.0) -> None:
        """Incoming call: wait until the caller's CANCEL has arrived."""
        await self._waiters.wait(
            lambda: self.cancelled, timeout, lambda: f"no CANCEL within {timeout}s; {self._describe()}"
        )

    async def wait_rtp(self, packets: int, timeout: float = 5.0) -> None:
        """Wait until at least ``packets`` RTP packets have been received on this call."""
        await self._waiters.wait(
            lambda: self.rtp.received >= packets,
            timeout,
            lambda: (
                f"fewer than {packets} RTP packets within {timeout}s (remote media "
                f"{self.rtp.remote}, local port {self.rtp.port}); {self._describe()}"
            ),
        )

    @property
    def voiced_received(self) -> int:
        """RTP packets received that carried sound rather than silence."""
        return self.rtp.voiced

    async def wait_voiced(self, packets: int, timeout: float = 5.0) -> None:
        """Wait until ``packets`` packets of sound (an announcement, a voice) have been heard."""
        await self._waiters.wait(
            lambda: self.rtp.voiced >= packets,
            timeout,
            lambda: f"fewer than {packets} voiced RTP packets within {timeout}s; {self._describe()}",
        )

    async def wait_dtmf(self, digits: str, timeout: float = 5.0) -> None:
        """Wait until ``digits`` appear in the RFC 4733 digits received (:attr:`dtmf_received`)."""
        await self._waiters.wait(
            lambda: digits.upper() in self.rtp.dtmf_received,
            timeout,
            lambda: (
                f"DTMF {digits!r} not received within {timeout}s, got {self.rtp.dtmf_received!r}; "
                f"{self._describe()}"
            ),
        )

    # ---- media

    def _local_sdp(self) -> bytes:
        host = self.ua.local_host
        te = self.rtp.telephone_event_pt
        lines = [
            "v=0",
            f"o=- {self._sdp_session} {self._sdp_version} IN IP4 {host}",
            "s=istra-sipua",
            f"c=IN IP4 {host}",
            "t=0 0",
            f"m=audio {self.rtp.port} RTP/AVP {PCMU} {te}",
            f"a=rtpmap:{PCMU} PCMU/{SAMPLE_RATE}",
            f"a=rtpmap:{te} telephone-event/{SAMPLE_RATE}",
            f"a=fmtp:{te} 0-16",
            f"a=ptime:{PTIME_MS}",
            f"a={self.local_direction}",
        ]
        return ("\r\n".join(lines) + "\r\n").encode()

    def _apply_remote_sdp(self, message: SipMessage) -> bool:
        """Take the remote media from an SDP body; False when the message carries none."""
        if not message.body or "sdp" not in (message.get("Content-Type") or "").lower():
            return False
        sdp = SdpInfo.parse(message.body)
        if sdp is None:
            return False
        self.remote_sdp = sdp
        direction = _MIRROR.get(sdp.direction, "sendrecv")
        if direction != self.local_direction:
            self.local_direction = direction
            self._sdp_version += 1
        if sdp.telephone_event_pt is not None:
            self.rtp.telephone_event_pt = sdp.telephone_event_pt
        hold_address = sdp.address in ("", "0.0.0.0")
        self.rtp.remote = None if sdp.port <= 0 or hold_address else (sdp.address, sdp.port)
        self.rtp.send_enabled = direction in ("sendrecv", "sendonly")
        return True

    async def send_dtmf(self, digits: str, *, duration_ms: int = 100, gap_ms: int = 100) -> None:
        """Send ``digits`` as RFC 4733 events in the RTP stream (each: growing durations, end packet
        sent three times, then ``gap_ms`` of audio) and return once they are all sent."""
        if not self.established:
            raise SipError(f"cannot send DTMF on a call that is not established; {self._describe()}")
        await self.rtp.send_dtmf(digits, duration_ms, gap_ms)

    # ---- requests inside the dialog

    def _dialog_request(
        self,
        method: str,
        *,
        cseq: int | None = None,
        body: bytes = b"",
        extra: Sequence[tuple[str, str]] = (),
    ) -> SipMessage:
        """A request inside the dialog: remote target, route set, both tags; a new CSeq unless given."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        return self.ua._request(
            method,
            self.remote_target,
            call_id=self.call_id,
            from_=self.local.render(tag=self.local_tag),
            to=self.remote.render(tag=self.remote_tag),
            cseq=cseq,
            route=self.route_set,
            contact=method in ("INVITE", "UPDATE", "REFER"),
            body=body,
            extra=extra,
        )

    # ---- outgoing call

    def _send_invite(self, authorization: tuple[str, str] | None = None) -> None:
        self.local_cseq += 1
        extra = list(self._extra_headers)
        if authorization is not None:
            extra.append(authorization)
        invite = self.ua._request(
            "INVITE",
            self.request_uri,
            call_id=self.call_id,
            from_=self.local.render(tag=self.local_tag),
            to=self.remote.render(),
            cseq=self.local_cseq,
            contact=True,
            body=self._local_sdp(),
            extra=extra,
        )
        self.invite = self.invite or invite
        self._invite_tx = _ClientTransaction(self.ua, invite, self._on_invite_response)

    def _record(self, response: SipMessage) -> None:
        self.statuses.append(StatusEvent(response.status, time.monotonic()))
        self.last_reason = response.reason

    def _take_identity(self, message: SipMessage) -> None:
        pai = message.get("P-Asserted-Identity")
        if pai:
            self.asserted_identity = NameAddr.parse(pai)

    def _on_invite_response(self, response: SipMessage) -> None:
        tx = self._invite_tx
        assert tx is not None
        if 200 <= response.status < 300 and response.cseq[0] != tx.request.cseq[0]:
            log.warning("%s: 2xx to an old INVITE ignored: %s", self.ua.username, response.summary())
            return
        code = response.status
        to_tag = response.to.tag
        if code < 200:
            last = self.statuses[-1] if self.statuses else None
            if last is not None and last.code == code and to_tag == self.remote_tag and self._responded:
                return  # the same provisional again (answer to our retransmitted INVITE)
            self._record(response)
            self._responded = True
            self._take_identity(response)
            if code > 100 and to_tag:
                self.remote_tag = to_tag
                self._take_target(response, uac=True)
                if self.state is CallState.CALLING:
                    self.state = CallState.EARLY
            self._apply_remote_sdp(response)
        elif code < 300:
            if self._ack is not None:  # retransmitted 2xx: our ACK was lost
                self.ua._send(self._ack, self.ua.server, None, note="ACK (2xx retransmitted)")
                return
            self._record(response)
            self._responded = True
            self.final_status = code
            self.remote_tag = to_tag
            self._take_identity(response)
            self._take_target(response, uac=True)
            self._apply_remote_sdp(response)
            ack = self._dialog_request("ACK", cseq=response.cseq[0])
            self._ack = ack.encode()
            self.ua._send(self._ack, self.ua.server, ack)
            if not self.ended:  # (a 2xx racing our CANCEL is ACKed above; cancel() then sends BYE)
                self.state = CallState.CONFIRMED
                self.answered_at = time.monotonic()
                self.rtp.start()
        elif code in (401, 407) and self._auth_attempts < 2 and not self._cancel_requested:
            authorization = self.ua._authorization(response, "INVITE", self.request_uri)
            stale = (self.ua._challenge(response) or {}).get("stale", "").lower() == "true"
            self._record(response)
            if authorization is not None and (self._auth_attempts == 0 or stale):
                self._auth_attempts += 1
                self._send_invite(authorization)
            else:
                self._fail(response)
        else:
            self._record(response)
            self._fail(response)
        self._notify()

    def _fail(self, response: SipMessage) -> None:
        self._responded = True
        self.final_status = response.status
        by = "local" if self._cancel_requested else "remote"
        self._terminate(by, f"{response.status} {response.reason}")

    def _take_target(self, message: SipMessage, *, uac: bool) -> None:
        """Remote target and route set from a dialog-creating message (RFC 3261 12.1): the caller
        reverses the Record-Route of the response, the callee keeps the INVITE's order."""
        contact = message.get("Contact")
        if contact:
            self.remote_target = NameAddr.parse(contact).uri
        routes = message.get_all("Record-Route")
        self.route_set = list(reversed(routes)) if uac else list(routes)

    async def _wait_first_response(self, timeout: float) -> None:
        await self._waiters.wait(
            lambda: self._responded,
            timeout,
            lambda: f"no response to INVITE within {timeout}s; {self._describe()}",
        )

    async def cancel(self, timeout: float = 5.0) -> int | None:
        """Outgoing call: CANCEL it (after the first provisional response, as RFC 3261 requires) and
        return the INVITE's final status (normally 487). If the call was answered meanwhile it is
        hung up with BYE and 200 is returned."""
        if self.direction is not Direction.OUTGOING:
            raise SipError("cancel() is for outgoing calls; use reject() or hangup() on incoming ones")
        first_tx = self._invite_tx
        assert first_tx is not None and self.invite is not None
        self._cancel_requested = True
        await self._waiters.wait(
            lambda: first_tx is not self._invite_tx or first_tx.provisional or self.final_status is not None,
            timeout,
            lambda: f"no provisional response (needed before CANCEL) within {timeout}s; {self._describe()}",
        )
        tx = self._invite_tx
        if self.final_status is None and tx is not None:
            request = tx.request
            cancel = SipMessage(method="CANCEL", uri=request.uri)
            cancel.add("Via", request.get("Via") or "")
            cancel.add("Max-Forwards", "70")
            for route in request.get_all("Route"):
                cancel.add("Route", route)
            for name in ("From", "To", "Call-ID"):
                cancel.add(name, request.get(name) or "")
            cancel.add("CSeq", f"{request.cseq[0]} CANCEL")
            cancel.add("User-Agent", self.ua.user_agent)
            cancel_tx = _ClientTransaction(self.ua, cancel, None)
            await self._waiters.wait(
                lambda: self.final_status is not None,
                timeout,
                lambda: f"no final response to the cancelled INVITE within {timeout}s; {self._describe()}",
            )
            with contextlib.suppress(SipTimeout):
                await cancel_tx.wait_final(timeout)
        if self.final_status is not None and 200 <= self.final_status < 300 and not self.ended:
            await self.hangup(timeout)
        return self.final_status

    # ---- incoming call

    def ring(self) -> None:
        """Incoming call: send 180 Ringing (done automatically unless the UA has auto_ring=False)."""
        tx = self._initial_tx
        assert tx is not None and self.invite is not None
        if tx.final_status is None:
            tx.respond(self.ua._response(self.invite, 180, to_tag=self.local_tag, contact=True))

    async def answer(self, timeout: float = 5.0) -> None:
        """Incoming call: send 200 OK with our SDP (retransmitted until the ACK) and wait for the ACK;
        RTP starts flowing once it arrives."""
        tx = self._initial_tx
        if tx is None or self.invite is None:
            raise SipError("answer() is for incoming calls")
        if self.ended or tx.final_status is not None:
            raise SipError(f"cannot answer; {self._describe()}")
        self._offer_in_200 = self.remote_sdp is None
        response = self.ua._response(
            self.invite, 200, to_tag=self.local_tag, contact=True, body=self._local_sdp()
        )
        self.state = CallState.ANSWERING
        self.answered_at = time.monotonic()
        tx.respond(response)
        await self._waiters.wait(
            lambda: tx.acked or self.ended,
            timeout,
            lambda: f"no ACK for our 200 OK within {timeout}s; {self._describe()}",
        )
        if not tx.acked:
            raise SipError(f"the call ended before our 200 OK was acknowledged; {self._describe()}")

    async def reject(self, code: int = 486, reason: str | None = None, timeout: float = 5.0) -> None:
        """Incoming call: answer the INVITE with a final error response and wait for its ACK."""
        tx = self._initial_tx
        if tx is None or self.invite is None:
            raise SipError("reject() is for incoming calls")
        if tx.final_status is not None:
            raise SipError(f"cannot reject; {self._describe()}")
        tx.respond(self.ua._response(self.invite, code, reason, to_tag=self.local_tag))
        self.final_status = code
        self._terminate("local", f"rejected with {code}")
        await self._waiters.wait(
            lambda: tx.acked, timeout, lambda: f"no ACK for our {code} within {timeout}s; {self._describe()}"
        )

    def _on_cancel(self) -> None:
        tx = self._initial_tx
        assert tx is not None and self.invite is not None
        if tx.final_status is not None:
            return  # too late: already answered or rejected
        tx.respond(self.ua._response(self.invite, 487, to_tag=self.local_tag))
        self.final_status = 487
        self.cancelled = True
        self._terminate("remote", "CANCEL")

    def _on_ack(self, ack: SipMessage) -> None:
        tx = self._uas_invites.get(ack.cseq[0])
        if tx is None or tx.acked:
            return
        tx.ack_received()
        if self._offer_in_200:
            self._apply_remote_sdp(ack)
            self._offer_in_200 = False
        if self.state is CallState.ANSWERING:
            self.state = CallState.CONFIRMED
        if self.established:
            self.rtp.start()
        self._notify()

    def _on_ack_timeout(self, tx: _ServerTransaction) -> None:
        if tx.final_status is not None and tx.final_status < 300 and not self.ended:
            # RFC 3261 13.3.1.4: a 2xx never acknowledged ends the dialog with BYE.
            self.ua._spawn(self._send_bye(timeout=TIMER_64T1, reason="no ACK for 200 OK"))

    # ---- requests received inside the dialog

    def _on_request(self, request: SipMessage, tx: _ServerTransaction) -> None:
        number, method = request.cseq
        if self.remote_cseq is not None and number < self.remote_cseq:
            tx.respond(self.ua._response(request, 500, "CSeq Out of Order"))
            return
        self.remote_cseq = number
        self._take_identity(request)
        if method == "BYE":
            tx.respond(self.ua._response(request, 200))
            if self._initial_tx is not None and self._initial_tx.final_status is None and self.invite:
                self._initial_tx.respond(self.ua._response(self.invite, 487, to_tag=self.local_tag))
            self._terminate("remote", "BYE")
        elif method in ("INVITE", "UPDATE"):  # re-INVITE or UPDATE: accept, answer with our SDP
            self.reinvites_received += 1
            tx.call = self
            had_offer = self._apply_remote_sdp(request)
            contact = request.get("Contact")
            if contact:
                self.remote_target = NameAddr.parse(contact).uri
            body = self._local_sdp() if had_offer or method == "INVITE" else b""
            if method == "INVITE":
                self._uas_invites[number] = tx
                self._offer_in_200 = not had_offer
            tx.respond(self.ua._response(request, 200, to_tag=self.local_tag, contact=True, body=body))
        elif method in ("OPTIONS", "INFO", "NOTIFY", "MESSAGE"):
            tx.respond(self.ua._response(request, 200, to_tag=self.local_tag))
        else:
            tx.respond(self.ua._response(request, 501, to_tag=self.local_tag))
        self._notify()

    # ---- ending

    def _terminate(self, by: str, reason: str) -> None:
        if self.ended:
            return
        self.state = CallState.TERMINATED
        self.ended_at = time.monotonic()
        self.ended_by = by
        self.end_reason = reason
        self.rtp.close()
        self.ua._dialogs.pop((self.call_id, self.local_tag), None)
        log.debug("%s: call %s ended by %s (%s)", self.ua.username, self.call_id, by, reason)
        self._notify()
        self.ua._waiters.notify()

    async def _send_bye(self, timeout: float, reason: str = "BYE") -> int:
        request = self._dialog_request("BYE")
        self._terminate("local", reason)
        response = await self.ua._send_with_auth(
            request, timeout, rebuild=lambda: self._dialog_request("BYE")
        )
        return response.status

    async def refer(self, target: str, timeout: float = 5.0) -> int:
        """Ask the other side to transfer the call to `target` (REFER, RFC 3515), as a phone's
        transfer key does; the REFER's final status (202 Accepted when it takes it on)."""
        host, port = self.ua.server
        extra = [("Refer-To", f"<sip:{target}@{host}:{port}>"), ("Referred-By", self.ua.contact)]
        response = await self.ua._send_with_auth(
            self._dialog_request("REFER", extra=extra),
            timeout,
            rebuild=lambda: self._dialog_request("REFER", extra=extra),
        )
        return response.status

    async def hangup(self, timeout: float = 5.0) -> int | None:
        """End the call whatever its state: BYE when established (returns the BYE's final status),
        CANCEL when outgoing and not answered yet (returns the INVITE's final status), 603 Decline
        when incoming and not answered (returns 603). Returns None when it had already ended."""
        if self.ended:
            return None
        if self.direction is Direction.OUTGOING and self.final_status is None:
            return await self.cancel(timeout)
        if self.state is CallState.RINGING:
            await self.reject(603, timeout=timeout)
            return 603
        if self.state is CallState.ANSWERING:  # RFC 3261 15: BYE only after the ACK (or its timeout)
            with contextlib.suppress(SipTimeout):
                await self._waiters.wait(lambda: self.established or self.ended, timeout, self._describe)
            if self.ended:
                return None
        return await self._send_bye(timeout)


# --------------------------------------------------------------------------------------------------
# The user agent
# --------------------------------------------------------------------------------------------------


class _SipProtocol(asyncio.DatagramProtocol):
    def __init__(self, ua: SipUA) -> None:
        self.ua = ua

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.ua._datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: socket error %s", self.ua.username, exc)


def _random_token(nbytes: int = 8) -> str:
    return secrets.token_hex(nbytes)


class SipUA:
    """A SIP phone on one UDP port. Create it with :meth:`create`, end it with :meth:`close`."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        server: tuple[str, int],
        local_host: str,
        realm: str,
        display_name: str | None,
        auto_ring: bool,
        send_tone: bool,
        user_agent: str,
    ) -> None:
        self.username = username
        self.password = password
        self.server = server
        self.local_host = local_host
        self.local_port = 0
        self.realm = realm
        self.display_name = display_name
        self.auto_ring = auto_ring
        self.send_tone = send_tone
        self.user_agent = user_agent
        self.domain = server[0]
        self.registered = False
        self.calls: list[Call] = []  # every call, both directions
        self.invites_received: list[Call] = []  # incoming calls (initial INVITEs), in order
        self.notifies: list[SipMessage] = []  # NOTIFY requests received outside dialogs
        self.trace: deque[str] = deque(maxlen=1000)  # one line per datagram sent or received
        self._transport: asyncio.DatagramTransport | None = None
        self._client_transactions: dict[tuple[str, str], _ClientTransaction] = {}
        self._server_transactions: dict[tuple[str, str], _ServerTransaction] = {}
        self._dialogs: dict[tuple[str, str], Call] = {}
        self._incoming: asyncio.Queue[Call] = asyncio.Queue()
        self._waiters = _Waiters()
        self._tasks: set[asyncio.Task[object]] = set()
        self._register_call_id = f"{_random_token()}@{local_host}"
        self._register_tag = _random_token(4)
        self._register_cseq = 0
        self._refresh: asyncio.TimerHandle | None = None
        self._nonce_counts: dict[str, int] = {}
        self.closed = False

    @classmethod
    async def create(
        cls,
        username: str,
        password: str,
        server: tuple[str, int] = ("127.0.0.1", 5060),
        local_host: str = "127.0.0.1",
        realm: str = "istra",
        *,
        display_name: str | None = None,
        auto_ring: bool = True,
        send_tone: bool = True,
        user_agent: str = USER_AGENT,
        local_port: int = 0,
    ) -> SipUA:
        """Bind a UDP socket on ``local_port`` (an ephemeral one by default) of ``local_host``. Each
        call gets its own RTP/RTCP port pair. ``realm`` is the expected digest realm (the challenge's
        own realm is used)."""
        ua = cls(
            username,
            password,
            server=server,
            local_host=local_host,
            realm=realm,
            display_name=display_name,
            auto_ring=auto_ring,
            send_tone=send_tone,
            user_agent=user_agent,
        )
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _SipProtocol(ua), local_addr=(local_host, local_port)
        )
        ua._transport = transport
        ua.local_port = transport.get_extra_info("sockname")[1]
        return ua

    def __repr__(self) -> str:
        return f"<SipUA {self.username} {self.local_host}:{self.local_port}>"

    # ---- addresses

    @property
    def contact(self) -> str:
        return f"<sip:{self.username}@{self.local_host}:{self.local_port}>"

    @property
    def aor(self) -> NameAddr:
        return NameAddr(display=self.display_name or "", uri=f"sip:{self.username}@{self.domain}")

    def _server_uri(self) -> str:
        host, port = self.server
        return f"sip:{host}" if port == 5060 else f"sip:{host}:{port}"

    @property
    def incoming_count(self) -> int:
        """How many calls (initial INVITEs) this phone received."""
        return len(self.invites_received)

    # ---- sending

    def _send(
        self,
        data: bytes,
        addr: tuple[str, int],
        message: SipMessage | None,
        *,
        retransmission: bool = False,
        note: str = "",
    ) -> None:
        if self._transport is None or self.closed:
            return
        what = note or (message.summary() if message else "?")
        self.trace.append(
            f"{time.monotonic():.3f} → {addr[0]}:{addr[1]} {what}{' (again)' if retransmission else ''}"
        )
        log.debug("%s → %s %s", self.username, addr, data.decode(errors="replace"))
        self._transport.sendto(data, addr)

    def _request(
        self,
        method: str,
        uri: str,
        *,
        call_id: str,
        from_: str,
        to: str,
        cseq: int,
        route: Sequence[str] = (),
        contact: bool = True,
        body: bytes = b"",
        extra: Sequence[tuple[str, str]] = (),
    ) -> SipMessage:
        message = SipMessage(method=method, uri=uri)
        branch = "z9hG4bK" + _random_token()
        message.add("Via", f"SIP/2.0/UDP {self.local_host}:{self.local_port};rport;branch={branch}")
        message.add("Max-Forwards", "70")
        for value in route:
            message.add("Route", value)
        message.add("From", from_)
        message.add("To", to)
        message.add("Call-ID", call_id)
        message.add("CSeq", f"{cseq} {method}")
        if contact:
            message.add("Contact", self.contact)
        message.add("User-Agent", self.user_agent)
        if method in ("INVITE", "UPDATE", "REGISTER", "OPTIONS"):
            message.add("Allow", ALLOW)
        for name, value in extra:
            message.add(name, value)
        if body:
            message.add("Content-Type", "application/sdp")
        message.body = body
        return message

    def _response(
        self,
        request: SipMessage,
        status: int,
        reason: str | None = None,
        *,
        to_tag: str | None = None,
        contact: bool = False,
        body: bytes = b"",
    ) -> SipMessage:
        response = SipMessage(status=status, reason=reason or REASONS.get(status, "Unknown"))
        for name, value in request.headers:
            if name == "Via" or (name == "Record-Route" and contact):
                response.add(name, value)
        response.add("From", request.get("From") or "")
        to = NameAddr.parse(request.get("To") or "")
        tag = to.tag or (to_tag if status > 100 else None)
        response.add("To", to.render(tag=tag))
        response.add("Call-ID", request.call_id)
        response.add("CSeq", request.get("CSeq") or "")
        if contact:
            response.add("Contact", self.contact)
        response.add("Server", self.user_agent)
        if status == 405 or request.method in ("INVITE", "OPTIONS", "UPDATE"):
            response.add("Allow", ALLOW)
        if body:
            response.add("Content-Type", "application/sdp")
        response.body = body
        return response

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- authentication

    def _challenge(self, response: SipMessage) -> dict[str, str] | None:
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        for value in response.get_all(header):
            challenge = parse_challenge(value)
            if challenge is not None and challenge.get("algorithm", "MD5").upper() == "MD5":
                return challenge
        return None

    def _authorization(self, response: SipMessage, method: str, uri: str) -> tuple[str, str] | None:
        """The Authorization (401) or Proxy-Authorization (407) header answering the challenge."""
        challenge = self._challenge(response)
        if challenge is None or "nonce" not in challenge:
            return None
        realm = challenge.get("realm", self.realm)
        if realm != self.realm:
            log.info("%s: challenged for realm %r (expected %r)", self.username, realm, self.realm)
        nonce = challenge["nonce"]
        qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
        qop = "auth" if "auth" in qops else None
        fields = [
            f'username="{self.username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
        ]
        if qop:
            count = self._nonce_counts.get(nonce, 0) + 1
            self._nonce_counts[nonce] = count
            nc = f"{count:08x}"
            cnonce = _random_token()
            digest = digest_response(
                username=self.username,
                password=self.password,
                realm=realm,
                nonce=nonce,
                method=method,
                uri=uri,
                qop=qop,
                nc=nc,
                cnonce=cnonce,
            )
            fields += [
                f'response="{digest}"',
                "algorithm=MD5",
                f'cnonce="{cnonce}"',
                f"qop={qop}",
                f"nc={nc}",
            ]
        else:
            digest = digest_response(
                username=self.username,
                password=self.password,
                realm=realm,
                nonce=nonce,
                method=method,
                uri=uri,
            )
            fields += [f'response="{digest}"', "algorithm=MD5"]
        if "opaque" in challenge:
            fields.append(f'opaque="{challenge["opaque"]}"')
        name = "Authorization" if response.status == 401 else "Proxy-Authorization"
        return name, "Digest " + ", ".join(fields)

    async def _send_with_auth(
        self, request: SipMessage, timeout: float, rebuild: Callable[[], SipMessage]
    ) -> SipMessage:
        """Send a non-INVITE request; answer one 401/407 challenge (or a stale one) with a rebuilt
        request (new CSeq and branch). Returns the final response, whatever it is."""
        attempts = 0
        while True:
            response = await _ClientTransaction(self, request, None).wait_final(timeout)
            if response.status not in (401, 407) or attempts >= 2:
                return response
            stale = (self._challenge(response) or {}).get("stale", "").lower() == "true"
            if attempts == 1 and not stale:
                return response
            request = rebuild()
            authorization = self._authorization(response, request.method or "", request.uri)
            if authorization is None:
                return response
            request.add(*authorization)
            attempts += 1

    # ---- message-waiting subscription

    async def subscribe_mwi(self, expires: int = 300, timeout: float = 5.0) -> int:
        """SUBSCRIBE to our own mailbox's message-summary (RFC 3842), as desk phones do; returns the final
        status. Asterisk then sends NOTIFYs in that dialog (collected in ``notifies``)."""
        call_id = _random_token() + "@" + self.local_host
        tag = _random_token()
        cseq = 0

        def build() -> SipMessage:
            nonlocal cseq
            cseq += 1
            return self._request(
                "SUBSCRIBE",
                self._server_uri().replace("sip:", f"sip:{self.username}@", 1),
                call_id=call_id,
                from_=self.aor.render(tag=tag),
                to=self.aor.render(),
                cseq=cseq,
                extra=[
                    ("Event", "message-summary"),
                    ("Accept", "application/simple-message-summary"),
                    ("Expires", str(expires)),
                ],
            )

        response = await self._send_with_auth(build(), timeout, rebuild=build)
        return response.status

    # ---- registration

    def _register_request(self, expires: int) -> SipMessage:
        self._register_cseq += 1
        return self._request(
            "REGISTER",
            self._server_uri(),
            call_id=self._register_call_id,
            from_=self.aor.render(tag=self._register_tag),
            to=self.aor.render(),
            cseq=self._register_cseq,
            extra=[("Expires", str(expires))],
        )

    async def register(self, expires: int = 300, timeout: float = 5.0) -> int:
        """REGISTER our contact (answering the digest challenge) and return the final status: 200 when
        accepted, 401/403 for a wrong password. The registration is refreshed before it expires."""
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None
        response = await self._send_with_auth(
            self._register_request(expires), timeout, rebuild=lambda: self._register_request(expires)
        )
        if response.status == 423 and response.get("Min-Expires"):
            expires = int(response.get("Min-Expires") or expires)
            response = await self._send_with_auth(
                self._register_request(expires), timeout, rebuild=lambda: self._register_request(expires)
            )
        if 200 <= response.status < 300:
            self.registered = expires > 0
            granted = expires
            for contact in response.get_all("Contact"):
                value = NameAddr.parse(contact)
                if value.params.get("expires", "").isdigit() and value.uri.endswith(
                    f"@{self.local_host}:{self.local_port}"
                ):
                    granted = int(value.params["expires"])
            if self.registered and granted > 0:
                self._refresh = asyncio.get_running_loop().call_later(
                    max(1.0, granted * 0.8), lambda: self._spawn(self._refresh_registration(expires))
                )
        return response.status

    async def _refresh_registration(self, expires: int) -> None:
        try:
            status = await self.register(expires)
        except SipError as exc:
            log.warning("%s: registration refresh failed: %s", self.username, exc)
        else:
            if status != 200:
                log.warning("%s: registration refresh got %s", self.username, status)

    async def unregister(self, timeout: float = 5.0) -> int:
        """Remove our registration (REGISTER with Expires: 0); returns the final status."""
        status = await self.register(expires=0, timeout=timeout)
        if 200 <= status < 300:
            self.registered = False
        return status

    # ---- calls

    async def invite(
        self, target: str, timeout: float = 5.0, *, headers: Sequence[tuple[str, str]] = ()
    ) -> Call:
        """Call ``target`` (a user/extension, dialled at the server, or a full ``sip:`` URI) and return
        the Call once the server responded (100 Trying or later; a digest challenge is answered on the
        way). Then use ``call.wait_status(180)`` etc. ``headers`` are added to the INVITE."""
        uri = (
            target
            if target.startswith(("sip:", "sips:", "tel:"))
            else f"sip:{target}@{self._server_uri()[4:]}"
        )
        call = Call(
            self,
            Direction.OUTGOING,
            call_id=f"{_random_token()}@{self.local_host}",
            local_tag=_random_token(4),
            local=self.aor,
            remote=NameAddr(display="", uri=uri),
            request_uri=uri,
        )
        self.calls.append(call)
        self._dialogs[(call.call_id, call.local_tag)] = call
        call._extra_headers = list(headers)
        call._send_invite()
        await call._wait_first_response(timeout)
        return call

    async def wait_incoming(self, timeout: float = 5.0) -> Call:
        """The next incoming call not yet returned (100 Trying and, with auto_ring, 180 already sent)."""
        try:
            return await asyncio.wait_for(self._incoming.get(), timeout)
        except TimeoutError:
            raise SipTimeout(
                f"{self.username}: no incoming INVITE within {timeout}s "
                f"(registered={self.registered}, {self.incoming_count} received before)"
            ) from None

    async def assert_not_rung(self, within: float = 0.0) -> None:
        """Fail if this phone received any INVITE so far, or receives one within ``within`` seconds
        (a negative check needs a window to watch)."""
        with contextlib.suppress(SipTimeout):
            await self._waiters.wait(lambda: bool(self.invites_received), within, lambda: "")
        if self.invites_received:
            callers = [call.caller_number for call in self.invites_received]
            raise SipError(f"{self.username} was rung {len(callers)} time(s), by {callers}")

    async def wait_notify(
        self, predicate: Callable[[SipMessage], bool] | None = None, timeout: float = 5.0
    ) -> SipMessage:
        """The first NOTIFY received (outside a call) that matches ``predicate``."""

        def found() -> SipMessage | None:
            return next((n for n in self.notifies if predicate is None or predicate(n)), None)

        await self._waiters.wait(
            lambda: found() is not None,
            timeout,
            lambda: f"{self.username}: no matching NOTIFY within {timeout}s ({len(self.notifies)} received)",
        )
        result = found()
        assert result is not None
        return result

    # ---- receiving

    def _datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():
            return  # keep-alive
        try:
            message = SipMessage.parse(data)
        except (ValueError, IndexError) as exc:
            log.warning("%s: unparsable datagram from %s: %s", self.username, addr, exc)
            return
        self.trace.append(f"{time.monotonic():.3f} ← {addr[0]}:{addr[1]} {message.summary()}")
        log.debug("%s ← %s %s", self.username, addr, data.decode(errors="replace"))
        if message.is_request:
            self._on_request(message, addr)
        else:
            transaction = self._client_transactions.get((message.branch, message.cseq[1]))
            if transaction is None:
                log.debug("%s: response to no transaction: %s", self.username, message.summary())
            else:
                transaction.receive(message)

    def _on_request(self, request: SipMessage, addr: tuple[str, int]) -> None:
        method = request.method or ""
        if method == "ACK":
            invite_tx = self._server_transactions.get((request.branch, "INVITE"))
            if invite_tx is not None and (invite_tx.final_status or 0) >= 300:
                invite_tx.ack_received()  # ACK of a non-2xx final response
                return
            to_tag = request.to.tag
            call = self._dialogs.get((request.call_id, to_tag or ""))
            if call is None:  # e.g. a call we already ended: still stop retransmitting the 2xx
                call = next((c for c in self.calls if c.call_id == request.call_id), None)
            if call is not None:
                call._on_ack(request)
            return
        existing = self._server_transactions.get((request.branch, method))
        if existing is not None:
            existing.resend_last()
            return
        tx = _ServerTransaction(self, request, addr)
        if method == "CANCEL":
            invite_tx = self._server_transactions.get((request.branch, "INVITE"))
            if invite_tx is None or invite_tx.call is None:
                tx.respond(self._response(request, 481))
                return
            tx.respond(self._response(request, 200, to_tag=invite_tx.call.local_tag))
            invite_tx.call._on_cancel()
            return
        to_tag = request.to.tag
        if to_tag:
            call = self._dialogs.get((request.call_id, to_tag))
            if call is not None:
                call._on_request(request, tx)
            elif method == "OPTIONS":
                tx.respond(self._response(request, 200))
            else:
                tx.respond(self._response(request, 481))
            return
        if method == "INVITE":
            self._on_new_invite(request, tx)
        elif method == "NOTIFY":
            tx.respond(self._response(request, 200, to_tag=_random_token(4)))
            self.notifies.append(request)
            self._waiters.notify()
        elif method in ("OPTIONS", "INFO", "MESSAGE"):
            tx.respond(self._response(request, 200, to_tag=_random_token(4)))
        elif method == "BYE":
            tx.respond(self._response(request, 481))
        else:
            tx.respond(self._response(request, 405, to_tag=_random_token(4)))

    def _on_new_invite(self, request: SipMessage, tx: _ServerTransaction) -> None:
        remote = request.from_
        call = Call(
            self,
            Direction.INCOMING,
            call_id=request.call_id,
            local_tag=_random_token(4),
            local=request.to,
            remote=remote,
            request_uri=request.uri,
        )
        call.remote_tag = remote.tag
        call.invite = request
        call.ringing_since = time.monotonic()
        call.remote_cseq = request.cseq[0]
        call._take_identity(request)
        call._take_target(request, uac=False)
        call._apply_remote_sdp(request)
        call._initial_tx = tx
        call._uas_invites[request.cseq[0]] = tx
        tx.call = call
        self.calls.append(call)
        self.invites_received.append(call)
        self._dialogs[(call.call_id, call.local_tag)] = call
        tx.respond(self._response(request, 100))
        if self.auto_ring:
            call.ring()
        self._incoming.put_nowait(call)
        self._waiters.notify()

    # ---- closing

    async def close(self, timeout: float = 1.0) -> None:
        """Hang up live calls (waiting at most ``timeout`` for each), unregister, close every socket."""
        if self.closed:
            return
        live = [call for call in self.calls if not call.ended]
        results = await asyncio.gather(*(call.hangup(timeout) for call in live), return_exceptions=True)
        for call, result in zip(live, results, strict=True):
            if isinstance(result, BaseException):
                log.info("%s: hanging up %r on close: %s", self.username, call, result)
        if self.registered:
            with contextlib.suppress(SipError):
                await self.unregister(timeout)
        if self._refresh is not None:
            self._refresh.cancel()
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        for client_tx in self._client_transactions.values():
            client_tx.cancel_timers()
        for server_tx in self._server_transactions.values():
            server_tx.cancel_timers()
        for call in self.calls:
            call.rtp.close()
        if self._transport is not None:
            self._transport.close()

    async def __aenter__(self) -> SipUA:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
