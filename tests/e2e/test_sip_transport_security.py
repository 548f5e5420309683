"""SIP transport protections through the real Asterisk: phones over TLS with the certificate the
setup generated (and SRTP offered to them), and the carrier recognised by a shared secret header as
well as by its address."""

from __future__ import annotations

import asyncio
import re
import ssl
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings

from ari_bridge.asterisk import AsteriskInstance
from directory.models import Company
from telephony.models import PhoneNumber
from tests.personas import Person
from tests.sipua import digest_response, parse_challenge

from .carrier import outside_caller
from .phones import FINAL, phone

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


class TlsPhone:
    """A bare SIP phone over TLS: enough to register and to see the INVITE of a call to it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.local_host, self.local_port = writer.get_extra_info("sockname")[:2]
        self.call_id = f"{uuid.uuid4().hex}@{self.local_host}"
        self.cseq = 0

    @classmethod
    async def connect(cls, asterisk: AsteriskInstance) -> TlsPhone:
        context = ssl.create_default_context(cafile=str(asterisk.outer_dir / "keys" / "sip.crt"))
        reader, writer = await asyncio.open_connection(
            settings.ASTERISK_SIP_HOST, settings.ASTERISK_SIP_TLS_PORT, ssl=context
        )
        return cls(reader, writer)

    async def read_message(self, timeout: float = 5) -> str:
        head = (await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)).decode()
        length = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        body = await self.reader.readexactly(int(length.group(1))) if length else b""
        return head + body.decode()

    def _register(self, username: str, authorization: str = "") -> None:
        self.cseq += 1
        host, port = settings.ASTERISK_SIP_HOST, settings.ASTERISK_SIP_TLS_PORT
        branch = f"z9hG4bK{uuid.uuid4().hex[:16]}"
        lines = [
            f"REGISTER sip:{host}:{port};transport=tls SIP/2.0",
            f"Via: SIP/2.0/TLS {self.local_host}:{self.local_port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{username}@{host}>;tag=tls1",
            f"To: <sip:{username}@{host}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{username}@{self.local_host}:{self.local_port};transport=tls>",
            "Expires: 60",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        self.writer.write(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())

    async def register(self, username: str, password: str) -> int:
        self._register(username)
        challenge = await self.read_message()
        found = re.search(r"(?im)^WWW-Authenticate:\s*(.+)$", challenge)
        assert found, challenge
        params = parse_challenge(found.group(1).strip()) or {}
        uri = f"sip:{settings.ASTERISK_SIP_HOST}:{settings.ASTERISK_SIP_TLS_PORT};transport=tls"
        qop = "auth" if "auth" in params.get("qop", "") else None
        response = digest_response(
            username=username,
            password=password,
            realm=params["realm"],
            nonce=params["nonce"],
            method="REGISTER",
            uri=uri,
            qop=qop,
            cnonce="c0ffee",
        )
        authorization = (
            f'Digest username="{username}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
            f'uri="{uri}", response="{response}", algorithm=MD5'
        )
        if qop:
            authorization += ', qop=auth, nc=00000001, cnonce="c0ffee"'
        if "opaque" in params:
            authorization += f', opaque="{params["opaque"]}"'
        self._register(username, authorization)
        return int((await self.read_message()).split(" ", 2)[1])

    async def next_request(self, method: str, timeout: float = 5) -> str:
        """The next request of `method` Asterisk sends (a message-waiting NOTIFY may come first)."""
        while True:
            message = await self.read_message(timeout)
            if message.startswith(f"{method} "):
                return message

    async def close(self) -> None:
        self.writer.close()


def test_a_phone_registers_over_tls_and_is_rung_over_it_with_srtp_offered(
    asterisk: AsteriskInstance, bob: Person, carol: Person
) -> None:
    async def scenario() -> tuple[int, int, str]:
        tls = await TlsPhone.connect(asterisk)
        try:
            wrong = await tls.register(carol.sip_username, "not-her-password")
            status = await tls.register(carol.sip_username, carol.sip_password)
            async with phone(bob) as bob_phone:
                call = await bob_phone.invite(carol.extension)
                invite = await tls.next_request("INVITE")
                await call.cancel()
            return wrong, status, invite
        finally:
            await tls.close()

    wrong, status, invite = asyncio.run(scenario())

    assert (wrong, status) == (401, 200)
    assert invite.startswith("INVITE sip:") and "SIP/2.0/TLS" in invite
    # encrypted media is offered (SDES keys, safe over TLS); a phone that declines it keeps plain RTP
    assert "a=crypto:" in invite


@pytest.fixture
def carrier_secret(asterisk: AsteriskInstance, settings: object) -> Iterator[str]:
    """The test Asterisk's dialplan rendered with a carrier secret, then put back as it was."""
    secret = "trunk-" + uuid.uuid4().hex[:8]
    settings.CARRIER_SECRET = secret  # type: ignore[attr-defined]
    asterisk.render()
    asterisk.cli("dialplan reload")
    yield secret
    settings.CARRIER_SECRET = ""  # type: ignore[attr-defined]
    asterisk.render()
    asterisk.cli("dialplan reload")


def test_a_call_from_the_carriers_address_without_its_shared_secret_is_refused(
    acme: Company, bob: Person, carrier_secret: str
) -> None:
    PhoneNumber.objects.create(
        company=acme, number="+33140000101", destination=PhoneNumber.Destination.USER, user=bob.user
    )

    async def scenario() -> tuple[int, list[int], str]:
        async with outside_caller("+33612345678") as spoofer, phone(bob) as bob_phone:
            # someone sending from the carrier's address, without the secret, is refused
            forged = await spoofer.invite("+33140000101")
            await forged.wait_status(FINAL, timeout=15)
            await bob_phone.assert_not_rung()
            # the carrier itself, with it, reaches bob
            call = await spoofer.invite(
                "+33140000101", headers=[(settings.CARRIER_SECRET_HEADER, carrier_secret)]
            )
            incoming = await bob_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.hangup()
            return forged.final_status or 0, forged.status_codes, incoming.caller_number

    status, codes, shown = asyncio.run(scenario())

    assert status == 403 and 183 in codes
    assert shown == "+33612345678"


def test_audio_injected_into_a_call_from_another_address_never_reaches_the_other_party(
    bob: Person, carol: Person
) -> None:
    """strictrtp: once Asterisk has learnt where a call's audio comes from, RTP sent to that leg's
    port from anywhere else is dropped, not played to the other party."""
    import socket
    import struct

    from tests.sipua import TONE_FRAME, SipUA

    from .phones import server

    async def scenario() -> tuple[int, int]:
        silent_bob = await SipUA.create(bob.sip_username, bob.sip_password, server=server(), send_tone=False)
        try:
            assert await silent_bob.register() == 200
            async with phone(carol) as carol_phone:
                outgoing = await silent_bob.invite(carol.extension)
                incoming = await carol_phone.wait_incoming(timeout=5)
                await incoming.answer()
                await outgoing.wait_status(200, timeout=5)
                await incoming.wait_rtp(25, timeout=5)  # bob's silence: Asterisk has learnt his address
                target = outgoing.rtp.remote
                assert target is not None
                # when someone else sends a tone to the port Asterisk uses for bob's audio
                injector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                injector.bind(("127.0.0.58", 0))
                ssrc, received_before = 0x1234ABCD, incoming.rtp_received
                for seq in range(50):
                    header = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc)
                    injector.sendto(header + TONE_FRAME, target)
                    await asyncio.sleep(0.02)
                injector.close()
                # then carol heard bob's silence all along (her phone kept receiving it), no tone
                await incoming.wait_rtp(received_before + 25, timeout=3)
                voiced = incoming.voiced_received
                await outgoing.hangup()
                return voiced, incoming.rtp_received - received_before
        finally:
            await silent_bob.unregister()
            await silent_bob.close()

    voiced, received = asyncio.run(scenario())

    assert received >= 25
    assert voiced == 0
