"""A call's states and the moves between them: the one table the call actor checks (call.py `_enter`).

A call starts ROUTING (deciding its plan), RINGING while a ringing attempt runs, CONNECTED once a
device answered and a mixer joins the parties, DIALOG while a dialog (leaving a message, the voicemail
menu, a dial code) owns the caller's channel, ENDED at the end. A forward goes back to ROUTING from
RINGING. The next features are further states of the same table (holding, consulting, conferencing,
parked, queued), with the participants' roles saying who is where, not new branches in the run loop.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    ROUTING = "routing"
    RINGING = "ringing"
    CONNECTED = "connected"
    DIALOG = "dialog"  # a dialog (message deposit, voicemail menu, dial code) owns the caller's channel
    ENDED = "ended"


# Every move a call may make; anything else is a bug, refused loudly by `_enter`.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.ROUTING: frozenset({State.RINGING, State.DIALOG, State.ENDED}),
    State.RINGING: frozenset({State.CONNECTED, State.ROUTING, State.DIALOG, State.ENDED}),
    State.CONNECTED: frozenset({State.ENDED}),
    State.DIALOG: frozenset({State.ENDED}),
    State.ENDED: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


def check_transition(current: State, new: State) -> None:
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a call cannot go from {current} to {new}")


class LegStatus(StrEnum):
    DIALING = "dialing"
    RINGING = "ringing"
    # A remote terminal answered and must press a key before it is connected (A7).
    CONFIRMING = "confirming"
    ANSWERED = "answered"
    FAILED = "failed"


# Why a call ended, when Asterisk says more than "hung up": it is shutting down (a restart) and cuts
# every call. Its ChannelHangupRequest then carries, as `cause`, the soft hang-up flag
# AST_SOFTHANGUP_SHUTDOWN rather than a Q.850 cause.
ASTERISK_RESTART = "asterisk_restart"
SOFTHANGUP_SHUTDOWN = 4


def end_reason(event: dict[str, object]) -> str:
    """The reason to record for a call ended by this hang-up event ("" for an ordinary hang-up)."""
    if "_reason" in event:  # reconciliation found the channel gone
        return str(event["_reason"])
    if (
        event.get("type") == "ChannelHangupRequest"
        and event.get("soft")
        and event.get("cause") == SOFTHANGUP_SHUTDOWN
    ):
        return ASTERISK_RESTART
    return ""


def hangup_cause(event: dict[str, object]) -> int | None:
    """The Q.850 cause of a hang-up event, if it has one (a soft hang-up request's is a flag)."""
    cause = event.get("cause")
    if event.get("type") == "StasisEnd" or event.get("soft") or not isinstance(cause, int):
        return None
    return cause
