"""Calls as one user sees them in MyIstra: history rows, and the live snapshot the call banner starts from."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from directory.models import User
from telephony.choices import CallState
from telephony.events import CallEvent, call_event_for, peer_of
from telephony.models import Call

HISTORY_LIMIT = 50

# One msgid per banner sentence, shared by the server-rendered snapshot and live.js (via data attributes),
# so the banner reads the same before and after the first live event.
BANNER_TEXTS = {
    "ringing_incoming": _("Ringing: call from {peer}"),
    "ringing_outgoing": _("Ringing: calling {peer}"),
    "answered": _("In a call with {peer}"),
}


@dataclass(frozen=True)
class HistoryRow:
    call: Call
    direction: str  # placed, received or missed
    peer_name: str
    peer_number: str


def peer_label(name: str, number: str) -> str:
    return f"{name} ({number})" if name and number else name or number


def history_rows(user: User, *, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    assert user.company_id is not None  # the portals serve only users of a company
    calls = Call.objects.for_company(user.company_id).history_for(user.id)[:limit]
    rows = []
    for call in calls:
        name, number = peer_of(call, user.id)
        rows.append(
            HistoryRow(call=call, direction=call.direction_for(user.id), peer_name=name, peer_number=number)
        )
    return rows


def active_call_event(user: User) -> CallEvent | None:
    """The user's most recent call still in progress, if any: what the banner shows on page load."""
    assert user.company_id is not None
    call = (
        Call.objects.for_company(user.company_id)
        .active()
        .involving(user.id)
        .select_related("caller_user", "callee_user")
        .order_by("-started_at")
        .first()
    )
    return call_event_for(call, user.id) if call else None


def banner_text(event: CallEvent | None) -> str:
    if event is None or event.state == CallState.ENDED:
        return ""
    key = f"ringing_{event.direction}" if event.state == CallState.RINGING else "answered"
    return str(BANNER_TEXTS[key]).format(peer=peer_label(event.peer_name, event.peer_number))


def snapshot_from(event: CallEvent | None) -> dict[str, Any]:
    return {"call": asdict(event) if event else None}


def snapshot(user: User) -> dict[str, Any]:
    """What GET /me/live/ answers: the active call (or null) as the next live event would describe it."""
    return snapshot_from(active_call_event(user))
