"""What the dialplan, the web and the bridge pass each other: the typed Stasis entries.

A channel enters the Stasis application with arguments (`Stasis(istra,inbound,${EXTEN})` in
templates/asterisk/extensions.conf, `appArgs` of a channel the platform creates). They are written
and read here only, so that the three places that build them and the one that parses them cannot
drift apart. Pure: no Django, no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Inbound:
    """A phone of ours dialled `dialled` (templates/asterisk/extensions.conf, context from-device)."""

    dialled: str

    def args(self) -> str:
        return f"inbound,{self.dialled}"


@dataclass(frozen=True, slots=True)
class FromCarrier:
    """The carrier trunk brings a call to `number`, one of our public numbers (context from-carrier)."""

    number: str

    def args(self) -> str:
        return f"carrier,{self.number}"


@dataclass(frozen=True, slots=True)
class ClickToCall:
    """The user answered their own phone, rung from the web (telephony/clicktocall.py): call `dialled`."""

    dialled: str

    def args(self) -> str:
        return f"clicktocall,{self.dialled}"


@dataclass(frozen=True, slots=True)
class Dialled:
    """A channel the bridge created to ring a device for call `call_id`."""

    call_id: uuid.UUID

    def args(self) -> str:
        return f"dialled,{self.call_id}"


Entry = Inbound | FromCarrier | ClickToCall | Dialled


def parse_entry(args: list[str], *, exten: str = "") -> Entry | None:
    """The entry a StasisStart's `args` describe; None for arguments that are none of ours.

    `exten` is the channel's dialplan extension: an `inbound` entry without its argument (an older
    dialplan) dialled that."""
    if not args:
        return None
    kind, rest = args[0], args[1:]
    if kind == "inbound":
        return Inbound(rest[0] if rest else exten)
    if not rest or not rest[0]:
        return None
    if kind == "carrier":
        return FromCarrier(rest[0])
    if kind == "clicktocall":
        return ClickToCall(rest[0])
    if kind == "dialled":
        try:
            return Dialled(uuid.UUID(rest[0]))
        except ValueError:
            return None
    return None


# --- commands: from the web to the bridge -----------------------------------------------------------
#
# A command travels over Redis: the web pushes it onto the bridge's command list (`command_queue`)
# with a key to answer on, and waits a few seconds for the `CommandResult`. The bridge drops a
# command that waited longer than that (it was down): nobody is waiting for it any more.


@dataclass(frozen=True, slots=True)
class HangUpCall:
    """Hang up call `call_id` on every side, asked by user `user_id`, who takes part in it."""

    call_id: uuid.UUID
    user_id: int

    def as_message(self) -> dict[str, object]:
        return {"command": "hang_up_call", "call_id": str(self.call_id), "user_id": self.user_id}


Command = HangUpCall


def parse_command(message: dict[str, object]) -> Command | None:
    """The command `message` carries; None for one the bridge does not know (a newer web)."""
    try:
        if message.get("command") == "hang_up_call":
            return HangUpCall(uuid.UUID(str(message["call_id"])), int(str(message["user_id"])))
    except (KeyError, ValueError):
        return None
    return None


# Why a command failed, as the bridge answers it; the web turns each into a message for the user.
NOT_FOUND = "not_found"  # no such live call on the bridge (it has just ended)
UNAVAILABLE = "unavailable"  # the bridge did not answer in time
UNKNOWN_COMMAND = "unknown_command"


@dataclass(frozen=True, slots=True)
class CommandResult:
    ok: bool
    error: str = ""

    def as_message(self) -> dict[str, object]:
        return {"ok": self.ok, "error": self.error}

    @classmethod
    def from_message(cls, message: dict[str, object]) -> CommandResult:
        return cls(ok=bool(message.get("ok")), error=str(message.get("error") or ""))


def command_queue(app: str) -> str:
    """The Redis list the bridge serving ARI application `app` reads its commands from."""
    return f"istra:bridge:{app}:commands"
