"""The bridge's routing cache: hits while nothing changes, and every change, however it is made,
applies to the very next call."""

from __future__ import annotations

import asyncio

import pytest

from ari_bridge.routing_cache import RoutingCache
from telephony.models import CallSettings, Extension
from tests.personas import Person

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_call_is_routed_from_the_cache(bob: Person, carol: Person) -> None:
    async def scenario() -> tuple[int, int, int]:
        directory = RoutingCache(server_id="ast-test")
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
        directory = RoutingCache(server_id="ast-test")
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
        directory = RoutingCache(server_id="ast-test")
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
        directory = RoutingCache(server_id="ast-test", enabled=False)
        await directory.routing_inputs(bob.sip_username, carol.extension)
        await directory.routing_inputs(bob.sip_username, carol.extension)
        return directory.hits, len(directory.callees)

    assert asyncio.run(scenario()) == (0, 0)


def test_with_notifications_a_change_empties_the_cache_without_a_query_per_call(
    bob: Person, carol: Person
) -> None:
    async def until(condition: object, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while not condition():  # type: ignore[operator]
            assert loop.time() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.005)

    async def scenario() -> tuple[bool, bool, int, int]:
        directory = RoutingCache(server_id="ast-test")
        directory.start_listening()
        try:
            await until(lambda: directory.listening, "the bridge to listen")
            before = await directory.routing_inputs(bob.sip_username, carol.extension)
            version = directory.version
            # nothing changed: the cache is trusted with no query at all
            directory._read_version = None  # type: ignore[assignment,method-assign]
            again = await directory.routing_inputs(bob.sip_username, carol.extension)
            assert again == before
            # a change made elsewhere is announced when it commits, and empties the cache
            await asyncio.to_thread(CallSettings.objects.create, user=carol.user, dnd=True)
            await until(lambda: directory.version != version, "the change to be announced")
            after = await directory.routing_inputs(bob.sip_username, carol.extension)
            assert before.callee is not None and after.callee is not None
            return before.callee.dnd, after.callee.dnd, directory.misses, directory.hits
        finally:
            await directory.close()

    assert asyncio.run(scenario()) == (False, True, 2, 1)
