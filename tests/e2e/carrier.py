"""The carrier (PSTN trunk) in the end-to-end tests: a SIP peer recognised by its address.

Outside callers place calls from it; outside numbers (dialled, forwarded to, remote terminals) ring
on it, at the address and port the platform's trunk points to (settings.CARRIER_ADDRESS/PORT)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from django.conf import settings

from tests.sipua import SipUA

from .phones import server


@asynccontextmanager
async def outside_caller(number: str, *, name: str = "Outside Caller") -> AsyncIterator[SipUA]:
    """Someone outside calling in through the carrier, presenting `number` ("anonymous" to withhold it)."""
    ua = await SipUA.create(
        number.lstrip("+") or "anonymous",
        "",
        server=server(),
        local_host=settings.CARRIER_ADDRESS,
        display_name=name,
    )
    try:
        yield ua
    finally:
        await ua.close()


@asynccontextmanager
async def outside_world() -> AsyncIterator[SipUA]:
    """The carrier's side of outgoing calls: every call the platform sends out rings here; the
    number called is the request URI's user (`incoming.called_number`)."""
    ua = await SipUA.create(
        "carrier",
        "",
        server=server(),
        local_host=settings.CARRIER_ADDRESS,
        local_port=settings.CARRIER_PORT,
    )
    try:
        yield ua
    finally:
        await ua.close()
