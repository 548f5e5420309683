"""Hanging up a call of mine from the web (the API): the bridge ends it on both phones."""

from __future__ import annotations

import asyncio

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from telephony.choices import CallOutcome, CallState
from telephony.models import Call
from tests.personas import Person

from .phones import phone
from .processes import wait_until
from .records import ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


def test_the_caller_hangs_up_a_connected_call_from_the_api_and_both_phones_hang_up(
    bob: Person, carol: Person
) -> None:
    api = APIClient()
    api.force_authenticate(bob.user)

    async def scenario() -> int:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            outgoing = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await outgoing.wait_status(200, timeout=5)
            call = await asyncio.to_thread(
                wait_until,
                lambda: Call.objects.filter(state=CallState.ANSWERED, caller_user=bob.user).first(),
                5,
                "the answered record",
            )
            assert isinstance(call, Call)
            # when bob hangs it up from the web
            response = await asyncio.to_thread(api.post, reverse("api:call-hangup", args=[call.pk]))
            # then both phones are hung up
            await outgoing.wait_ended(timeout=5)
            await incoming.wait_ended(timeout=5)
            return int(response.status_code)

    assert asyncio.run(scenario()) == 202
    record = ended_call(caller_user=bob.user)
    assert record.outcome == CallOutcome.ANSWERED and record.reason == "hung_up_from_web"
