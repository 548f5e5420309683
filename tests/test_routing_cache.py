"""The bridge's routing cache: hits while nothing changes, and every change, however it is made,
applies to the very next call."""

from __future__ import annotations

import asyncio

import pytest

from ari_bridge.directory import Directory
from telephony.models import CallSettings, Extension
from tests.personas import Person

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_call_is_routed_from_the_cache(bob: Person, carol: Person) -> None:
    async def scenario() -> tuple[int, int, int]:
        directory = Directory(server_id="ast-test")
        try:
            first = await directory.routing_inputs(bob.sip_username, carol.extension)
            second = await directory.routing_inputs(bob.sip_username, carol.extension)
            assert first == second
            assert second.callee is not None and second.callee.user_id == carol.user.pk
            return directory.misses, directory.hits, len(directory.callees)
        finally:
            await directory.close()

    assert asyncio.run(scenario()) == (1, 1, 1)


def test_a_bulk_update_reaches_the_next_call(bob: Person, carol: Person) -> None:
    async def scenario() -> tuple[int, int]:
        directory = Directory(server_id="ast-test")
        try:
            before = await directory.routing_inputs(bob.sip_username, carol.extension)
            # a queryset update sends no Django signal: the database trigger still sees it
            await asyncio.to_thread(Extension.objects.filter(user=carol.user).update, ring_timeout=7)
            after = await directory.routing_inputs(bob.sip_username, carol.extension)
            assert before.callee is not None and after.callee is not None
            return before.callee.ring_timeout, after.callee.ring_timeout
        finally:
            await directory.close()

    assert asyncio.run(scenario()) == (20, 7)


def test_do_not_disturb_switched_on_applies_to_the_next_call(bob: Person, carol: Person) -> None:
    async def scenario() -> tuple[bool, bool]:
        directory = Directory(server_id="ast-test")
        try:
            before = await directory.routing_inputs(bob.sip_username, carol.extension)
            await asyncio.to_thread(CallSettings.objects.create, user=carol.user, dnd=True)
            after = await directory.routing_inputs(bob.sip_username, carol.extension)
            assert before.callee is not None and after.callee is not None
            return before.callee.dnd, after.callee.dnd
        finally:
            await directory.close()

    assert asyncio.run(scenario()) == (False, True)


def test_without_the_cache_every_call_reads_the_database(bob: Person, carol: Person) -> None:
    async def scenario() -> tuple[int, int]:
        directory = Directory(server_id="ast-test", enabled=False)
        await directory.routing_inputs(bob.sip_username, carol.extension)
        await directory.routing_inputs(bob.sip_username, carol.extension)
        return directory.hits, len(directory.callees)

    assert asyncio.run(scenario()) == (0, 0)
