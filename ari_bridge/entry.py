"""Who calls, and from where: what a new call learns before it routes, per kind of entry.

A phone of ours (`Inbound`, `ClickToCall`) is known by its endpoint; an outside caller from the
carrier (`FromCarrier`) by the public number it called and the identity the carrier presented
(normalised by telephony.routing.outside_party). Either gives an `Origin` for the call, or the
announcement that ends it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from telephony.routing import Callee, Origin, Party, Policy, outside_party

from .client import Json
from .participants import CallerIdentity
from .routing_cache import RoutingCache


@dataclass(frozen=True)
class CallerOrigin:
    policy: Policy
    party: Party
    identity: CallerIdentity
    origin: Origin
    # What to route to: the number dialled, or where the public number called leads.
    dial: str
    device_id: int | None = None
    # The callee, when the lookup of the caller found them too (one query for both).
    callee: Callee | None = None
    # A caller ID to set on the caller's channel before anything rings: (variable, value).
    caller_id: tuple[str, str] | None = None


async def from_phone(
    cache: RoutingCache, *, endpoint: str, dialled: str, answered: bool
) -> CallerOrigin | str:
    """A call from one of our phones; the announcement "unavailable" if the device is unknown."""
    inputs = await cache.routing_inputs(endpoint, dialled)
    caller = inputs.caller
    if caller is None or inputs.policy is None:
        # Asterisk let it in, but Django no longer knows this device (deleted a moment ago).
        return "unavailable"
    caller_id = None
    if answered:
        # Click-to-call: the channel showed the user whom they would call; from now on it carries
        # the user's own identity, which the callee's phone will display.
        name = caller.party.name.replace('"', "")
        caller_id = ("CALLERID(all)", f'"{name}" <{caller.party.number}>')
    return CallerOrigin(
        policy=inputs.policy,
        party=caller.party,
        identity=CallerIdentity.of(caller.party, caller.timezone, endpoint, caller.language),
        origin=Origin.INTERNAL,
        dial=dialled,
        device_id=caller.device_id,
        callee=inputs.callee,
        caller_id=caller_id,
    )


async def from_carrier(
    cache: RoutingCache, *, number: str, presented: Json, endpoint: str
) -> CallerOrigin | str:
    """An outside call to `number`, one of our public numbers; "unknown" if it is nobody's."""
    target = await cache.did_target(number)
    if target is None:
        return "unknown"
    shown = str(presented.get("number") or "")
    party = outside_party(company_id=target.company_id, number=shown, name=str(presented.get("name") or ""))
    caller_id = None
    if party.number != shown or party.anonymous:
        # What the company's phones will show (Dial copies it from this channel).
        caller_id = ("CALLERID(num)", party.number or "anonymous")
    return CallerOrigin(
        policy=target.policy,
        party=party,
        identity=CallerIdentity.of(party, target.timezone, endpoint),
        origin=Origin.EXTERNAL,
        dial=target.dial,
        caller_id=caller_id,
    )
