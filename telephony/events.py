"""Live events: the typed messages that reach the browsers of the users a call involves.

Every event is sent only after the database transaction that recorded the change commits, so a browser
never hears of a call state the database does not hold yet.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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


def send_now(user_id: int, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:  # a browser update must never break a call
        logger.exception("could not publish a live event to user %s", user_id)


def publish_on_commit(user_id: int, event: CallEvent) -> None:
    message = event.as_message()
    transaction.on_commit(lambda: send_now(user_id, message))
