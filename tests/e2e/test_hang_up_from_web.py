"""Hanging up a call of mine from the web (the API): the bridge ends it on both phones."""

from __future__ import annotations

import asyncio

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from telephony.choices import CallOutcome
from tests.personas import Person

from .phones import connected, phone
from .records import answered_call, ended_call

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


def test_the_caller_hangs_up_a_connected_call_from_the_api_and_both_phones_hang_up(
    bob: Person, carol: Person
) -> None:
    api = APIClient()
    api.force_authenticate(bob.user)

    async def scenario() -> int:
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            outgoing, incoming = await connected(bob_phone, carol_phone, carol.extension)
            call = await asyncio.to_thread(answered_call, caller_user=bob.user)
            # when bob hangs it up from the web
            response = await asyncio.to_thread(api.post, reverse("api:call-hangup", args=[call.pk]))
            # then both phones are hung up
            await outgoing.wait_ended(timeout=5)
            await incoming.wait_ended(timeout=5)
            return int(response.status_code)

    assert asyncio.run(scenario()) == 202
    record = ended_call(caller_user=bob.user)
    assert record.outcome == CallOutcome.ANSWERED and record.reason == "hung_up_from_web"
