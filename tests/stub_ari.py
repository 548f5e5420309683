"""A stand-in for Asterisk and the database around the call actor: unit tests of ari_bridge.call.

`Stage` is the real StasisApp (its event routing, its registry, its calls) with a stub ARI client
that notes every request and answers as told, a routing cache that answers from the personas below,
and a record batcher that keeps the writes instead of making them. Events go in through the
application's own `dispatch`, as they come from the WebSocket.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from ari_bridge.app import StasisApp
from ari_bridge.call import Call
from ari_bridge.client import AriConfig, AriError
from telephony import fraud
from telephony.queries import CallerDevice, DidTarget, RoutingInputs
from telephony.routing import (
    Callee,
    DeviceKind,
    DeviceState,
    Party,
    Plan,
    Policy,
    Reject,
    RejectReason,
    Rule,
    callee_number,
)

APP = "istra-unit"
ACME = Policy(company_id=1, timezone="Europe/Paris", voicemail_number="555", country_code="33")
BOB = Party(company_id=1, user_id=11, number="101", name="Bob", outside_number="+33140000101")
BOB_PHONE = CallerDevice(
    device_id=1, party=BOB, language="en", voicemail_number="555", timezone="Europe/Paris"
)
CALLER_CHANNEL = "caller-1"


def phone(device_id: int, endpoint: str, *, ring_delay: int = 0, **changes: Any) -> DeviceState:
    return DeviceState(device_id=device_id, endpoint=endpoint, ring_delay=ring_delay, enabled=True, **changes)


def remote(device_id: int, number: str, **changes: Any) -> DeviceState:
    return DeviceState(
        device_id=device_id,
        endpoint="",
        ring_delay=0,
        enabled=True,
        kind=DeviceKind.REMOTE,
        number=number,
        **changes,
    )


def carol(**changes: Any) -> Callee:
    callee = Callee(
        company_id=1,
        user_id=12,
        extension="102",
        name="Carol",
        ring_timeout=20,
        devices=(phone(2, "acme-102"),),
        outside_number="+33140000102",
    )
    return dataclasses.replace(callee, **changes)


def dana(**changes: Any) -> Callee:
    callee = Callee(
        company_id=1,
        user_id=13,
        extension="103",
        name="Dana",
        ring_timeout=20,
        devices=(phone(3, "acme-103"),),
    )
    return dataclasses.replace(callee, **changes)


def rule(condition: str, number: str, **changes: Any) -> Rule:
    return Rule(rule_id=1, condition=condition, destination="number", destination_number=number, **changes)


class StubAri:
    """Notes each request as (name, args, kwargs) and answers it; `fail` makes one raise."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        # name -> a function of the request's (args, kwargs) returning the error to raise, or None.
        self.failures: dict[str, Callable[[tuple[Any, ...], dict[str, Any]], AriError | None]] = {}
        self.endpoint_states: dict[str, str] = {}
        self.channels: list[dict[str, Any]] = []
        self.bridges: list[dict[str, Any]] = []
        self.delays: dict[str, float] = {}

    def fail(self, name: str, status: int = 404, when: Callable[..., bool] = lambda *a, **k: True) -> None:
        def failure(args: tuple[Any, ...], kwargs: dict[str, Any]) -> AriError | None:
            return (
                AriError(status, "POST", f"/{name}", "Channel not found") if when(*args, **kwargs) else None
            )

        self.failures[name] = failure

    async def _note(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.requests.append((name, args, kwargs))
        if name in self.delays:
            await asyncio.sleep(self.delays[name])
        failure = self.failures.get(name)
        error = failure(args, kwargs) if failure is not None else None
        if error is not None:
            raise error

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        async def request(*args: Any, **kwargs: Any) -> Any:
            await self._note(name, args, kwargs)
            return ANSWERS.get(name, lambda stub, *a, **k: None)(self, *args, **kwargs)

        return request

    def made(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for made, args, kwargs in self.requests if made == name]

    def names(self) -> list[str]:
        return [name for name, _, _ in self.requests]

    def hung_up(self) -> list[str]:
        return [args[0] for args, _ in self.made("hangup")]

    def created(self) -> list[dict[str, Any]]:
        return [kwargs for _, kwargs in self.made("create_channel")]

    def sent_to_dialplan(self) -> list[str]:
        return [kwargs["extension"] for _, kwargs in self.made("continue_in_dialplan")]


ANSWERS: dict[str, Callable[..., Any]] = {
    "endpoint_state": lambda stub, resource, *a, **k: stub.endpoint_states.get(resource, "online"),
    "hangup": lambda stub, *a, **k: True,
    "continue_in_dialplan": lambda stub, *a, **k: True,
    "list_channels": lambda stub, *a, **k: list(stub.channels),
    "list_bridges": lambda stub, *a, **k: list(stub.bridges),
    "create_channel": lambda stub, *a, **k: {"id": k.get("channel_id")},
    "create_bridge": lambda stub, *a, **k: {},
}


class StubCache:
    """The routing cache, answering from `callees` (by extension) and `dids` (by public number)."""

    def __init__(self) -> None:
        self.caller: CallerDevice | None = BOB_PHONE
        self.policy = ACME
        self.callees: dict[str, Callee] = {"102": carol(), "103": dana()}
        self.dids: dict[str, DidTarget] = {}
        self.over_fraud_limit = False

    async def routing_inputs(self, endpoint: str, dialled: str) -> RoutingInputs:
        if self.caller is None:
            return RoutingInputs(None, None, None)
        return RoutingInputs(self.caller, self.policy, self.callees.get(callee_number(dialled, self.policy)))

    async def callee(
        self, company_id: int, number: str, policy: Policy | None = None, *, checked: bool = False
    ) -> Callee | None:
        return self.callees.get(number)

    async def did_target(self, number: str) -> DidTarget | None:
        return self.dids.get(number)

    async def within_fraud_limits(self, plan: Plan, *, company_id: int, policy: Policy) -> Plan:
        """The company is under its toll-fraud limits, unless a test set `over_fraud_limit`."""
        return (
            Reject(RejectReason.FRAUD_LIMIT) if self.over_fraud_limit and fraud.rings_outside(plan) else plan
        )


class StubBatcher:
    def __init__(self) -> None:
        self.writes: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        self.writes.append((fn, args, kwargs))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class Stage:
    """The application with its stubs, inside a running event loop."""

    def __init__(self) -> None:
        self.app = StasisApp(
            AriConfig(base_url="http://127.0.0.1:1", username="u", password="p", app=APP),
            server_id="ast-unit",
        )
        self.ari = StubAri()
        self.cache = StubCache()
        self.batcher = StubBatcher()
        self.app.client = self.ari  # type: ignore[assignment]
        # Every call started, ended or not, in order.
        self.started: list[Call] = []
        start_call = self.app.start_call

        def started(call: Call) -> None:
            self.started.append(call)
            start_call(call)

        self.app.start_call = started  # type: ignore[method-assign]
        self.app.services = dataclasses.replace(
            self.app.services,
            spawn=started,
            client=self.ari,  # type: ignore[arg-type]
            cache=self.cache,  # type: ignore[arg-type]
            batcher=self.batcher,  # type: ignore[arg-type]
        )
        self.registry = self.app.registry

    # --- events from Asterisk ------------------------------------------------------------------------

    async def event(self, kind: str, channel_id: str, **fields: Any) -> None:
        """One event from Asterisk about `channel_id`, then everything it sets off."""
        self.app.dispatch(
            {"type": kind, "channel": {"id": channel_id, **fields.pop("channel", {})}, **fields}
        )
        await self.settle()

    async def dial_status(self, channel_id: str, status: str, **fields: Any) -> None:
        self.app.dispatch({"type": "Dial", "peer": {"id": channel_id}, "dialstatus": status, **fields})
        await self.settle()

    async def settle(self) -> None:
        """Let every call act on what it was told until none has anything left to do."""
        for _ in range(50):
            await asyncio.sleep(0)

    async def place(
        self, dialled: str, *, kind: str = "inbound", caller: dict[str, Any] | None = None, **fields: Any
    ) -> Call:
        """A phone's channel enters Stasis, dialling `dialled`; its call once routed."""
        channel = {"id": CALLER_CHANNEL, "name": "PJSIP/acme-101-00000001", **(caller or {})}
        before = len(self.started)
        self.app.dispatch({"type": "StasisStart", "channel": channel, "args": [kind, dialled], **fields})
        await self.settle()
        return self.started[before]

    async def ready(self, channel_id: str) -> None:
        """A channel the call created enters Stasis (and so can be dialled)."""
        await self.event("StasisStart", channel_id, args=["dialled", "x"])

    async def answer(self, channel_id: str) -> None:
        await self.ready(channel_id)
        await self.dial_status(channel_id, "ANSWER")

    async def timer(self, call: Call, kind: str, **fields: Any) -> None:
        """A timer of the call's current ringing attempt fires now."""
        assert call.ringing is not None
        call.deliver({"type": kind, "generation": call.ringing.generation, **fields})
        await self.settle()

    async def close(self) -> None:
        for task in list(self.app.tasks):
            task.cancel()
        await asyncio.gather(*self.app.tasks, return_exceptions=True)

    # --- what the records say -------------------------------------------------------------------------

    def writes(self, fn: Any) -> list[dict[str, Any]]:
        return [kwargs for made, _, kwargs in self.batcher.writes if made is fn]

    def written(self, fn: Any) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for made, args, kwargs in self.batcher.writes if made is fn]


def leg_id(call: Call, index: int = 0, generation: int = 1) -> str:
    suffix = str(index) if generation == 1 else f"{generation}.{index}"
    return f"{APP}-{call.call_id}-{suffix}"


def run(scenario: Callable[[Stage], Any]) -> Any:
    """Run `scenario(stage)` in a fresh event loop."""

    async def main() -> Any:
        stage = Stage()
        try:
            return await scenario(stage)
        finally:
            await stage.close()

    return asyncio.run(main())


def new_id() -> uuid.UUID:
    return uuid.uuid4()
