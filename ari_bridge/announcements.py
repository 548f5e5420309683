"""How a call ends for its caller with an announcement: the dialplan plays it and sends the status."""

from __future__ import annotations

from telephony.choices import CallOutcome
from telephony.routing import RejectReason

from .client import AriClient

# Where the dialplan plays each rejection's announcement (templates/asterisk/extensions.conf).
ANNOUNCEMENT = {
    RejectReason.UNKNOWN_NUMBER: "unknown",
    RejectReason.BUSY: "busy",
    RejectReason.NO_DEVICE: "noanswer",
    RejectReason.NO_ANSWER: "noanswer",
    RejectReason.BARRED: "barred",
    RejectReason.REFUSED: "refused",
    RejectReason.FRAUD_LIMIT: "limit",
}
OUTCOME = {
    RejectReason.UNKNOWN_NUMBER: CallOutcome.FAILED,
    RejectReason.BUSY: CallOutcome.BUSY,
    RejectReason.NO_DEVICE: CallOutcome.NO_ANSWER,
    RejectReason.NO_ANSWER: CallOutcome.NO_ANSWER,
    RejectReason.BARRED: CallOutcome.FAILED,
    RejectReason.REFUSED: CallOutcome.FAILED,
    RejectReason.FRAUD_LIMIT: CallOutcome.FAILED,
}


async def announce(client: AriClient, channel_id: str, announcement: str) -> None:
    """Hand the caller's channel back to the dialplan (context istra-announce) to hear `announcement`."""
    await client.continue_in_dialplan(channel_id, context="istra-announce", extension=announcement)
