"""Dialling a code (*8, *2 103, ...) from a real phone, and what the user hears and the records keep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db import connections

from telephony.choices import CallOutcome
from telephony.models import Call
from tests.personas import Person
from tests.sipua import SipTimeout, SipUA

from .phones import FINAL
from .records import ended_call

T = TypeVar("T")

# How long each prompt plays (templates/asterisk/prompts.tsv, spoken by espeak-ng at 150 words a
# minute): a confirmation ("Do not disturb is on.") under 2 s, "You are not allowed to change this
# setting." 2.7 s, "This code cannot be used with that number. Nothing was changed." 4.7 s.
CONFIRMATION_MAX = 2.4
NOT_ALLOWED = (2.5, 3.6)
REFUSAL_MIN = 4.2


@dataclass(frozen=True)
class Heard:
    """What the user heard on a code call: seconds from the answer to the platform's BYE, and how
    many packets of it carried sound."""

    seconds: float
    voiced: int

    @property
    def confirmation(self) -> bool:
        return self.seconds < CONFIRMATION_MAX

    @property
    def not_allowed(self) -> bool:
        return NOT_ALLOWED[0] <= self.seconds < NOT_ALLOWED[1]

    @property
    def refusal(self) -> bool:
        return self.seconds >= REFUSAL_MIN


async def dial_code(ua: SipUA, code: str) -> Heard:
    """Dial `code`: the platform answers, a prompt is heard, then the platform hangs up (BYE)."""
    call = await ua.invite(code)
    await call.wait_status(200, timeout=10)
    await call.wait_voiced(25, timeout=5)  # half a second of speech at least
    await call.wait_ended(timeout=10)
    assert (call.ended_by, call.end_reason) == ("remote", "BYE"), call
    assert call.answered_at is not None and call.ended_at is not None
    return Heard(seconds=call.ended_at - call.answered_at, voiced=call.voiced_received)


async def dial_unknown(ua: SipUA, number: str) -> int:
    """Dial something that is not a code (nor a number): the final status it gets."""
    call = await ua.invite(number)
    return (await call.wait_status(FINAL, timeout=15)).code


async def rung_within(ua: SipUA, seconds: float) -> bool:
    """Whether a new call rings `ua` within `seconds` (a window to watch for what must not happen)."""
    try:
        await ua.wait_incoming(timeout=seconds)
    except SipTimeout:
        return False
    return True


def code_call(person: Person, code: str, feature: str) -> Call:
    """The record of `person`'s call to `code`: answered, its reason naming the feature applied."""
    record = ended_call(caller_user=person.user, dialled_number=code)
    assert (record.outcome, record.reason) == (CallOutcome.ANSWERED, f"dial_code:{feature}")
    return record


async def in_db(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a database read or write from a scenario (the ORM may not run on the event loop), in a
    worker thread whose connection is closed afterwards so that none outlives the test database."""

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(run)
