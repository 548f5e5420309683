"""Who takes part in a call: its legs (one channel each, with a role) and its mixers (ARI bridges).

A two-party call has a caller leg, an answered callee leg and one mixer; the legs of a ringing
attempt are legs too, until one answers. A conference is more legs in one mixer, a consultation a
second mixer: the call actor holds any number of both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telephony.choices import LegRole
from telephony.routing import Party

from .client import Json
from .state import LegStatus


@dataclass
class Leg:
    channel_id: str
    role: LegRole
    endpoint: str
    device_id: int | None = None
    status: LegStatus = LegStatus.DIALING
    dialstatus: str = ""
    # A created channel can be dialled only once it is in Stasis (its StasisStart), which may come
    # before or after the HTTP reply to the create request.
    created: bool = False
    in_stasis: bool = False
    dial_sent: bool = False
    generation: int = 0
    confirm: bool = False
    # Rung through the carrier trunk (an outside number).
    outside: bool = False


@dataclass
class Mixer:
    """An ARI bridge of the call, and the channels the call put in it."""

    bridge_id: str
    channel_ids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class CallerIdentity:
    """Who is calling, as dialogs and call-backs need it (known once the call is routed)."""

    company_id: int = 0
    timezone: str = "UTC"
    number: str = ""
    name: str = ""
    user_id: int | None = None
    language: str = "en"
    endpoint: str = ""

    @classmethod
    def of(cls, party: Party, timezone: str, endpoint: str, language: str = "en") -> CallerIdentity:
        return cls(
            company_id=party.company_id,
            timezone=timezone,
            number=party.number,
            name=party.name,
            user_id=party.user_id,
            language=language,
            endpoint=endpoint,
        )


def endpoint_of(channel: Json) -> str:
    """PJSIP/acme-101-00000002 -> acme-101."""
    name = str(channel.get("name", ""))
    tech, _, rest = name.partition("/")
    return rest.rsplit("-", 1)[0] if tech == "PJSIP" else rest
