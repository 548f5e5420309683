"""Message-waiting indication: tell Asterisk how many messages a mailbox holds, so phones light their lamp.

Asterisk's own voicemail is not used; the dialplan's [istra-mwi] context publishes the counts with
MinivmMWI, and res_pjsip_mwi NOTIFYs the phones whose endpoint lists the mailbox.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from base64 import b64encode

from django.conf import settings

logger = logging.getLogger(__name__)


def mailbox_id(extension: str, company_slug: str) -> str:
    """The id phones subscribe to: <extension>@<company>, as PJSIP endpoints list it in `mailboxes`."""
    return f"{extension}@{company_slug}"


def publish(mailbox: str, *, new: int, old: int) -> bool:
    url = (
        f"{settings.ARI_URL}/ari/channels?endpoint=Local/update@istra-mwi"
        "&context=istra-mwi-sink&extension=s&priority=1&timeout=5"
    )
    body = {"variables": {"MWI_MAILBOX": mailbox, "MWI_NEW": str(new), "MWI_OLD": str(old)}}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    token = b64encode(f"{settings.ARI_USERNAME}:{settings.ARI_PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return bool(response.status < 300)
    except (urllib.error.URLError, OSError) as exc:
        logger.warning("could not update MWI of %s: %s", mailbox, exc)
        return False
