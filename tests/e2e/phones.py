"""Real SIP phones for the end-to-end tests: the suite's own user agent registered on the test Asterisk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from django.conf import settings

from tests.personas import Person
from tests.sipua import Call, SipUA

# Any final failure status, for waiting on the end of a call that does not connect.
FINAL = [code for code in range(300, 700) if code not in (401, 407)]  # not digest challenges


def server() -> tuple[str, int]:
    return (settings.ASTERISK_SIP_HOST, settings.ASTERISK_SIP_PORT)


@asynccontextmanager
async def phone(
    person: Person | None = None, *, username: str = "", password: str = "", local_host: str = "127.0.0.1"
) -> AsyncIterator[SipUA]:
    """A SIP phone registered as `person`'s device (or as username/password), unregistered afterwards;
    `local_host` is the (loopback) address it sends from."""
    if person is not None:
        username, password = username or person.sip_username, password or person.sip_password
    ua = await SipUA.create(username, password, server=server(), local_host=local_host)
    try:
        status = await ua.register()
        assert status == 200, f"{ua.username} could not register: {status}"
        yield ua
    finally:
        try:
            await ua.unregister()
        finally:
            await ua.close()


async def connected(caller: SipUA, callee: SipUA, number: str) -> tuple[Call, Call]:
    """`caller` dials `number`, `callee`'s phone rings and answers: the call is up on both phones.
    Returns the caller's call and the callee's."""
    outgoing = await caller.invite(number)
    incoming = await callee.wait_incoming(timeout=5)
    await incoming.answer()
    await outgoing.wait_status(200, timeout=5)
    return outgoing, incoming
