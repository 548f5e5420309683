"""Live events: the typed messages that reach the browsers of the users a call involves, and of the
colleagues whose company directory shows them.

Every event is sent only after the database transaction that recorded the change commits, so a browser
never hears of a call state the database does not hold yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from .choices import CallState
from .models import Extension

if TYPE_CHECKING:
    from .models import Call

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    """The Channels group of one user's browsers (names allow only letters, digits, '-', '_', '.')."""
    return f"user.{user_id}"


def company_group(company_id: int) -> str:
    """The Channels group of the browsers showing a company's directory."""
    return f"company.{company_id}"


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
    _send(user_group(user_id), message)


def send_to_company(company_id: int, message: dict[str, Any]) -> None:
    _send(company_group(company_id), message)


def _send(group: str, message: dict[str, Any]) -> None:
    if _publisher is not None:
        _publisher(group, message)
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a browser update must never break a call
        logger.exception("could not publish a live event to %s", group)


def publish_on_commit(user_id: int, event: CallEvent) -> None:
    """Tell the user of their call, and, when it changes their phone state, their company's directory."""
    message = event.as_message()

    def send() -> None:
        send_now(user_id, message)
        try:
            for changed_user_id, state in phone_states.apply(user_id, event):
                line = directory_lines.of(changed_user_id)
                if line is not None:
                    company_id, extension = line
                    status = DirectoryStatusEvent(extension=extension, phone_state=state.value)
                    send_to_company(company_id, status.as_message())
        except Exception:  # a browser update must never break a call (nor fail the bridge's batch)
            logger.exception("could not tell the directory of user %s's phone state", user_id)

    transaction.on_commit(send)


# --- The company directory: each colleague's presence, DND and phone state, live ----------------------


class PhoneState(models.TextChoices):
    """What a user's phones are doing, as their colleagues see it in the directory (G6)."""

    IDLE = "idle", _("available")
    RINGING = "ringing", _("ringing")
    IN_CALL = "in_call", _("in a call")
    # No phone of the user can ring: none registered, no remote terminal (telephony/availability.py).
    UNAVAILABLE = "unavailable", _("unavailable")


@dataclass(frozen=True)
class DirectoryStatusEvent:
    """A colleague's line of the company directory changed. A field left None did not change: a phone
    state change says nothing of presence or DND (the bridge knows them not without a query)."""

    extension: str
    presence: str | None = None
    dnd: bool | None = None
    phone_state: str | None = None
    type: str = "directory.status"

    def as_message(self) -> dict[str, Any]:
        return {"type": "live.event", "event": asdict(self)}


def publish_directory_status_on_commit(
    *, company_id: int, extension: str, presence: str | None = None, dnd: bool | None = None
) -> None:
    """Tell every directory of the company that a colleague's presence or DND changed."""
    message = DirectoryStatusEvent(extension=extension, presence=presence, dnd=dnd).as_message()
    transaction.on_commit(lambda: send_to_company(company_id, message))


def line_state(call_state: str, *, incoming: bool) -> PhoneState:
    """What one call makes of a user's phone state. The callee's phones ring until the call is answered;
    the caller is on the phone from the moment the callee's phones ring (dialling is not shown: a call
    still routing has told nobody yet, and the directory must say what its events will say)."""
    if call_state == CallState.ANSWERED:
        return PhoneState.IN_CALL
    if call_state == CallState.RINGING:
        return PhoneState.RINGING if incoming else PhoneState.IN_CALL
    return PhoneState.IDLE


def phone_state_of(line_states: Iterable[PhoneState], *, reachable: bool = True) -> PhoneState:
    """A user's phone state from those of their calls: in a call wins over ringing (call waiting), and
    either over unavailable (a call on a remote terminal while the desk phone is off)."""
    states = set(line_states)
    if PhoneState.IN_CALL in states:
        return PhoneState.IN_CALL
    if PhoneState.RINGING in states:
        return PhoneState.RINGING
    return PhoneState.IDLE if reachable else PhoneState.UNAVAILABLE


class PhoneStates:
    """Each user's phone state, followed from the call events this process sends once committed.

    Every call event of a platform leaves from the ARI bridge, so the bridge alone knows every phone
    state, and without a query: a change of phone state costs nothing but the event that tells it.
    The page a browser loads starts from the same rule applied to the calls in the database
    (`line_state`), so the two agree. What a restarted process has not seen it does not know: a call
    in progress across a restart ends without a directory event.
    """

    def __init__(self) -> None:
        # Events are committed from several database threads of the bridge.
        self._lock = threading.Lock()
        self._calls: dict[str, dict[int, tuple[bool, PhoneState]]] = {}  # call id -> user -> (incoming, line)
        self._calls_of: dict[int, set[str]] = {}  # user -> ids of their calls in progress
        self._states: dict[int, PhoneState] = {}  # users not idle
        self._unreachable: set[int] = set()  # users no phone can reach (availability.py)

    def apply(self, user_id: int, event: CallEvent) -> list[tuple[int, PhoneState]]:
        """Take in one committed call event of `user_id`; the users whose phone state it changed."""
        with self._lock:
            touched = {user_id}
            if event.state == CallState.ENDED:
                # Both users of the call hear it ended: the first event ends it for both.
                for other in self._calls.pop(event.call_id, {}):
                    self._forget(other, event.call_id)
                    touched.add(other)
            else:
                incoming = event.direction == "incoming"
                users = self._calls.setdefault(event.call_id, {})
                # A call forwarded on has a new callee; the one it left hears no more of it.
                for other, (other_incoming, _line) in list(users.items()):
                    if other != user_id and other_incoming == incoming:
                        del users[other]
                        self._forget(other, event.call_id)
                        touched.add(other)
                users[user_id] = (incoming, line_state(event.state, incoming=incoming))
                self._calls_of.setdefault(user_id, set()).add(event.call_id)
            return [(touched_id, state) for touched_id in touched if (state := self._update(touched_id))]

    def _forget(self, user_id: int, call_id: str) -> None:
        calls = self._calls_of.get(user_id)
        if calls is not None:
            calls.discard(call_id)
            if not calls:
                del self._calls_of[user_id]

    def set_reachable(self, reachable: dict[int, bool]) -> list[tuple[int, PhoneState]]:
        """Take in whether each of these users' phones can ring; each one's phone state now.

        All of them, changed or not: this process assumes a user it never heard of reachable, while
        a page loaded meanwhile asked Asterisk (a user created after this process started, whose
        phone registers now, was shown unavailable there and must be told available)."""
        with self._lock:
            for user_id, can_ring in reachable.items():
                if can_ring:
                    self._unreachable.discard(user_id)
                else:
                    self._unreachable.add(user_id)
            return [
                (user_id, self._update(user_id) or self._states.get(user_id, PhoneState.IDLE))
                for user_id in reachable
            ]

    def _update(self, user_id: int) -> PhoneState | None:
        """The user's new phone state if it changed, else None."""
        state = phone_state_of(
            (self._calls[call_id][user_id][1] for call_id in self._calls_of.get(user_id, ())),
            reachable=user_id not in self._unreachable,
        )
        if state == self._states.get(user_id, PhoneState.IDLE):
            return None
        if state == PhoneState.IDLE:
            del self._states[user_id]
        else:
            self._states[user_id] = state
        return state

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._calls_of.clear()
            self._unreachable.clear()
            self._states.clear()


phone_states = PhoneStates()


class DirectoryLines:
    """Which company and extension a user's directory line has, for the bridge's phone state events.

    Read for a whole company at once and kept a minute (an extension renumbered shows within it), so a
    busy company costs one query a minute, not one per call."""

    TTL = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: dict[int, tuple[float, tuple[int, str] | None]] = {}

    def of(self, user_id: int) -> tuple[int, str] | None:
        """(company id, extension) of the user, or None for a user without an extension."""
        now = time.monotonic()
        with self._lock:
            cached = self._lines.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        company = Extension.objects.filter(user_id=user_id).values("company_id")[:1]
        rows = Extension.objects.filter(company_id=models.Subquery(company), user_id__isnull=False)
        lines = {
            row_user: (company_id, number)
            for row_user, company_id, number in rows.values_list("user_id", "company_id", "number")
        }
        expires = now + self.TTL
        with self._lock:
            for line_user, line in lines.items():
                self._lines[line_user] = (expires, line)
            if user_id not in lines:
                self._lines[user_id] = (expires, None)
        return lines.get(user_id)

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()


directory_lines = DirectoryLines()


def publish_reachability(reachable: dict[int, bool]) -> None:
    """Tell the directories of these users' companies whose phones became unavailable, or available
    again (the bridge's availability watch). Not in a transaction: nothing is written."""
    for user_id, state in phone_states.set_reachable(reachable):
        line = directory_lines.of(user_id)
        if line is not None:
            company_id, extension = line
            send_to_company(
                company_id, DirectoryStatusEvent(extension=extension, phone_state=state.value).as_message()
            )
