"""Whether a user can be reached on a phone now: the "unavailable" phone state of the directory (G6).

A user is reachable when one of their enabled phones can ring: a remote terminal (an outside number,
always), or a SIP phone registered on Asterisk (its endpoint "online"). A user with no such phone is
unavailable: a call to them goes straight to what their rules say when no phone answers.

Asterisk is the only one to know which phones are registered. The directory page asks it once per
load (`GET /ari/endpoints/PJSIP`, every endpoint at once); the ARI bridge asks the same every few
seconds and tells open directories of what changed (`ari_bridge.availability.watch_availability`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from .ari_http import ari_get_json
from .choices import DeviceKind
from .models import Device

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phone:
    kind: str
    enabled: bool
    sip_username: str


def reachable(phones: Iterable[Phone], online: set[str]) -> bool:
    """Whether one of these phones can ring now, `online` being the registered SIP endpoints."""
    for phone in phones:
        if not phone.enabled:
            continue
        if phone.kind == DeviceKind.REMOTE or phone.sip_username in online:
            return True
    return False


def online_endpoints(endpoints: list[dict[str, object]]) -> set[str]:
    """The endpoints that can ring, from `GET /ari/endpoints/PJSIP`: all but those Asterisk reports
    "offline" (no contact registered). A registered phone that is not qualified is "unknown"."""
    return {str(e.get("resource")) for e in endpoints if e.get("state") != "offline"}


def registered_endpoints() -> set[str] | None:
    """The SIP endpoints registered now, asked of Asterisk; None when it cannot say (unreachable)."""

    try:
        endpoints = ari_get_json("/endpoints/PJSIP", timeout=2)
    except OSError as exc:
        logger.warning("could not ask Asterisk which phones are registered: %s", exc)
        return None
    return online_endpoints(endpoints) if isinstance(endpoints, list) else None


def phones_of(user_ids: Iterable[int]) -> dict[int, list[Phone]]:
    """Each user's phones (a user without any is absent)."""
    phones: dict[int, list[Phone]] = {}
    rows = Device.objects.filter(user_id__in=list(user_ids)).values_list(
        "user_id", "kind", "enabled", "sip_username"
    )
    for user_id, kind, enabled, sip_username in rows:
        phones.setdefault(user_id, []).append(Phone(kind, enabled, sip_username))
    return phones


def unavailable_users(user_ids: Iterable[int], online: set[str] | None = None) -> set[int]:
    """Which of these users no phone can reach now. Empty when Asterisk cannot say: nobody is shown
    unavailable on a guess."""
    user_ids = list(user_ids)
    if online is None:
        online = registered_endpoints()
        if online is None:
            return set()
    phones = phones_of(user_ids)
    return {user_id for user_id in user_ids if not reachable(phones.get(user_id, ()), online)}


def users_of_endpoints(names: Iterable[str]) -> set[int]:
    """The users whose SIP phones these endpoints are."""
    return set(
        Device.objects.filter(sip_username__in=list(names), user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
