"""Live events: the typed messages that reach the browsers of the users a call involves.

Every event is sent only after the database transaction that recorded the change commits, so a browser
never hears of a call state the database does not hold yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .choices import CallState

if TYPE_CHECKING:
    from .models import Call

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    """The Channels group of one user's browsers (names allow only letters, digits, '-', '_', '.')."""
    return f"user.{user_id}"


@dataclass(frozen=True)
class CallEvent:
    """A call changed state, as one participant sees it."""

    call_id: str
    state: str  # ringing, answered, ended
    direction: str  # outgoing or incoming, from this user's side
    peer_name: str
    peer_number: str
    started_at: str
    answered_at: str | None
    ended_at: str | None
    outcome: str

    type: str = "call.state"

    def as_message(self) -> dict[str, Any]:
        return {"type": "live.event", "event": asdict(self)}


@dataclass(frozen=True)
class VoicemailEvent:
    """How many unread voicemail messages the user has now (the MyIstra badge, live)."""

    unread: int
    type: str = "voicemail.count"

    def as_message(self) -> dict[str, Any]:
        return {"type": "live.event", "event": asdict(self)}


def publish_event_on_commit(user_id: int, event: CallEvent | VoicemailEvent) -> None:
    message = event.as_message()
    transaction.on_commit(lambda: send_now(user_id, message))


def peer_of(call: Call, user_id: int) -> tuple[str, str]:
    """Name and number of the other party; the bridge's caller ID first, the directory as a fallback."""
    if call.caller_user_id == user_id:
        name = call.callee_name or (call.callee_user.display_name if call.callee_user else "")
        return name, call.callee_number or call.dialled_number
    name = call.caller_name or (call.caller_user.display_name if call.caller_user else "")
    return name, call.caller_number


def call_event_for(call: Call, user_id: int) -> CallEvent:
    """The call as `user_id` sees it now, in the shape of the live events that will follow."""
    name, number = peer_of(call, user_id)
    # The banner knows no "routing": the callee's phones are about to ring, so it already says so.
    state = CallState.RINGING if call.state == CallState.ROUTING else call.state
    return CallEvent(
        call_id=str(call.id),
        state=state,
        direction="outgoing" if call.caller_user_id == user_id else "incoming",
        peer_name=name,
        peer_number=number,
        started_at=call.started_at.isoformat(),
        answered_at=call.answered_at.isoformat() if call.answered_at else None,
        ended_at=call.ended_at.isoformat() if call.ended_at else None,
        outcome=call.outcome,
    )


# A long-running async process (the ARI bridge) installs a publisher that hands events to its own event
# loop without blocking the database thread that committed them.
_publisher: Callable[[str, dict[str, Any]], None] | None = None


def set_publisher(publisher: Callable[[str, dict[str, Any]], None] | None) -> None:
    global _publisher
    _publisher = publisher


def send_now(user_id: int, message: dict[str, Any]) -> None:
    if _publisher is not None:
        _publisher(user_group(user_id), message)
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:  # a browser update must never break a call
        logger.exception("could not publish a live event to user %s", user_id)


def publish_on_commit(user_id: int, event: CallEvent) -> None:
    publish_event_on_commit(user_id, event)
