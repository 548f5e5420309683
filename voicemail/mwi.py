"""Message-waiting indication: tell Asterisk how many messages a mailbox holds, so phones light their lamp.

Asterisk's own voicemail is not used; the dialplan's [istra-mwi] context publishes the counts with
MinivmMWI, and res_pjsip_mwi NOTIFYs the phones whose endpoint lists the mailbox.
"""

from __future__ import annotations

import logging

from telephony.ari_http import ari_request

logger = logging.getLogger(__name__)


def mailbox_id(extension: str, company_slug: str) -> str:
    """The id phones subscribe to: <extension>@<company>, as PJSIP endpoints list it in `mailboxes`."""
    return f"{extension}@{company_slug}"


def publish(mailbox: str, *, new: int, old: int) -> bool:
    params = {
        "endpoint": "Local/update@istra-mwi",
        "context": "istra-mwi-sink",
        "extension": "s",
        "priority": "1",
        "timeout": "5",
    }
    body = {"variables": {"MWI_MAILBOX": mailbox, "MWI_NEW": str(new), "MWI_OLD": str(old)}}
    try:
        return ari_request("POST", "/channels", params=params, body=body) < 300
    except OSError as exc:
        logger.warning("could not update MWI of %s: %s", mailbox, exc)
        return False
