"""A SIP scanner, as the internet sends them to every SIP port (sipvicious and the like): raw
OPTIONS sweeps and REGISTER storms from a loopback address of its own, counting what answers."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from .phones import server


@dataclass
class ScanResult:
    sent: int = 0
    answered: int = 0
    # Seconds from the first request to the last answer received.
    last_answer_after: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, result: ScanResult, started: float) -> None:
        self.result, self.started = result, started

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        first = data.split(b"\r\n", 1)[0].split(b" ")
        if len(first) >= 2 and first[0] == b"SIP/2.0" and first[1].isdigit():
            status = int(first[1])
            self.result.answered += 1
            self.result.statuses[status] = self.result.statuses.get(status, 0) + 1
            self.result.last_answer_after = time.monotonic() - self.started


def _request(method: str, user: str, host: str, port: int) -> bytes:
    target_host, target_port = server()
    call_id = uuid.uuid4().hex
    return (
        f"{method} sip:{user}@{target_host}:{target_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{call_id[:12]};rport\r\n"
        "Max-Forwards: 70\r\n"
        f'From: "sipvicious" <sip:{user}@{target_host}>;tag={call_id[:8]}\r\n'
        f"To: <sip:{user}@{target_host}>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 {method}\r\n"
        f"Contact: <sip:{user}@{host}:{port}>\r\n"
        "User-Agent: friendly-scanner\r\n"
        "Expires: 60\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


async def scan(host: str, method: str, users: list[str], *, rate: float, linger: float = 1.0) -> ScanResult:
    """Send one `method` request per user, `rate` a second, from `host`; count the answers that come
    back until `linger` seconds after the last one was sent."""
    result = ScanResult()
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Collector(result, started), local_addr=(host, 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        for index, user in enumerate(users):
            transport.sendto(_request(method, user, host, port), server())
            result.sent += 1
            delay = started + (index + 1) / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.sleep(linger)
    finally:
        transport.close()
    return result
