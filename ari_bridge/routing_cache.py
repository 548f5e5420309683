"""The bridge's cache of what routing reads: callers by endpoint, company policies, callees by
extension and public numbers, so that a call costs one tiny query instead of a dozen.

Every change to those tables bumps one version row (a PostgreSQL trigger, migration
telephony/0004), whatever made it: the portals, the API, a bulk update, psql, and announces the new
version on the `istra_routing` notification channel (migration telephony/0005) when it commits. The
bridge listens on a connection of its own: a different version empties the cache at once, and a
call needs no query to know its cache is current. Notifications reach the bridge a fraction of a
millisecond after the commit, long before a phone's next INVITE could. Whenever the listening
connection is down (and until it has read the version after a reconnect), each new call reads the
version row instead, as it always did.

What the cache holds never includes live state: calls in progress are counted by the bridge itself
(`CallRegistry.device_call_counts`), registrations are asked of Asterisk per call. A deployment where
several Asterisk servers share users' phones must not use it (`BRIDGE_ROUTING_CACHE=no`): the other
servers' calls are read from the call records on each lookup then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from django.conf import settings
from django.utils import timezone

from telephony import fraud, queries, routing
from telephony.routing import Callee, Plan, Policy

from .orm import db

logger = logging.getLogger(__name__)

_MISSING = object()


def _conninfo() -> dict[str, Any]:
    database = settings.DATABASES["default"]
    info: dict[str, Any] = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
    }
    return {key: value for key, value in info.items() if value is not None}


class RoutingCache:
    def __init__(self, *, server_id: str, enabled: bool = True) -> None:
        self.server_id = server_id
        self.enabled = enabled
        self.version: int | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._inflight: asyncio.Future[int | None] | None = None
        self.callers: dict[str, queries.CallerDevice | None] = {}
        self.policies: dict[int, Policy] = {}
        self.callees: dict[tuple[int, str], Callee | None] = {}
        self.dids: dict[str, queries.DidTarget | None] = {}
        self.hits = 0
        self.misses = 0
        # While True, `version` follows every committed change through notifications.
        self.listening = False
        self._listener: asyncio.Task[None] | None = None

    def clear(self) -> None:
        self.callers.clear()
        self.policies.clear()
        self.callees.clear()
        self.dids.clear()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        self.listening = False
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    def start_listening(self) -> None:
        if self.enabled and self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever(), name="routing-version-listener")

    def _seen(self, version: int) -> None:
        if version != self.version:
            self.clear()
            self.version = version

    async def _listen_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**_conninfo(), autocommit=True)
                async with conn:
                    await conn.execute("LISTEN istra_routing")
                    # Listening first, then the row: no change can fall between the two.
                    cursor = await conn.execute("SELECT version FROM istra_routing_version WHERE id = 1")
                    row = await cursor.fetchone()
                    if row is None:
                        raise RuntimeError("istra_routing_version is empty")
                    self._seen(int(row[0]))
                    self.listening = True
                    delay = 0.5
                    async for notify in conn.notifies():
                        self._seen(int(notify.payload))
            except asyncio.CancelledError:
                self.listening = False
                raise
            except Exception as exc:
                self.listening = False
                logger.warning("routing cache notifications lost (%s): reading the version per call", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _read_version(self) -> int | None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(**_conninfo(), autocommit=True)
            cursor = await self._conn.execute("SELECT version FROM istra_routing_version WHERE id = 1")
            row = await cursor.fetchone()
            return int(row[0]) if row else None
        except psycopg.Error as exc:
            logger.warning("routing cache off for this call, version unreadable: %s", exc)
            if self._conn is not None:
                await self._conn.close()
            self._conn = None
            return None

    async def refresh(self) -> bool:
        """Check the version (one query, shared by the calls arriving meanwhile); False: do not use
        the cache for this call."""
        if not self.enabled:
            return False
        if self.listening:
            return True
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._read_version())
            inflight = self._inflight
            try:
                version = await inflight
            finally:
                self._inflight = None
        else:
            version = await self._inflight
        if version is None:
            self.clear()
            self.version = None
            return False
        if version != self.version:
            self.clear()
            self.version = version
        return True

    async def routing_inputs(self, endpoint: str, dialled: str) -> queries.RoutingInputs:
        """What a new call from a phone needs (see queries.routing_inputs), from the cache if it can."""
        if not await self.refresh():
            inputs: queries.RoutingInputs = await db(
                queries.routing_inputs, endpoint, dialled, live_server=self.server_id
            )
            return inputs
        version = self.version
        caller = self.callers.get(endpoint, _MISSING)
        if caller is _MISSING:
            self.misses += 1
            inputs = await db(queries.routing_inputs, endpoint, dialled, live_server=self.server_id)
            if self.version == version:
                self.callers[endpoint] = inputs.caller
                if inputs.caller is not None and inputs.policy is not None:
                    company_id = inputs.caller.party.company_id
                    self.policies[company_id] = inputs.policy
                    number = routing.callee_number(dialled, inputs.policy)
                    if number:
                        self.callees[(company_id, number)] = inputs.callee
            return inputs
        if caller is None:
            return queries.RoutingInputs(None, None, None)
        assert isinstance(caller, queries.CallerDevice)
        policy = await self.policy(caller.party.company_id, checked=True)
        number = routing.callee_number(dialled, policy)
        callee = await self.callee(caller.party.company_id, number, policy, checked=True)
        self.hits += 1
        return queries.RoutingInputs(caller, policy, callee)

    async def policy(self, company_id: int, *, checked: bool = False) -> Policy:
        usable = checked or await self.refresh()
        version = self.version
        if usable and company_id in self.policies:
            return self.policies[company_id]
        policy: Policy = await db(queries.policy_for, company_id)
        if usable and self.version == version:
            self.policies[company_id] = policy
        return policy

    async def callee(
        self, company_id: int, number: str, policy: Policy | None = None, *, checked: bool = False
    ) -> Callee | None:
        """The user `number` names in the company (see queries.callee_by_extension)."""
        if not number:
            return None
        usable = checked or await self.refresh()
        version = self.version
        key = (company_id, number)
        if usable and key in self.callees:
            return self.callees[key]
        callee: Callee | None = await db(
            queries.callee_by_extension, company_id, number, live_server=self.server_id, policy=policy
        )
        if usable and self.version == version:
            self.callees[key] = callee
        return callee

    async def did_target(self, number: str) -> queries.DidTarget | None:
        usable = await self.refresh()
        version = self.version
        if usable and number in self.dids:
            return self.dids[number]
        target: queries.DidTarget | None = await db(queries.did_target, number)
        if usable and self.version == version:
            self.dids[number] = target
        return target

    async def within_fraud_limits(self, plan: Plan, *, company_id: int, policy: Policy) -> Plan:
        """`plan` within the company's toll-fraud limits (telephony.fraud): its usage is read afresh for
        every call that rings an outside number, never cached."""
        admitted: Plan = await db(
            fraud.admit_outside_call,
            plan,
            company_id=company_id,
            country_code=policy.country_code,
            now=timezone.now(),
        )
        return admitted
