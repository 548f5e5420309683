"""Whether a SIP phone is registered on Asterisk now, from where and with which software (myTelephony's
user page). Asterisk alone knows. ARI has no contact resource, but its dynamic configuration API reads
sorcery objects: the phone's AOR lists its contacts' URIs, and a registered contact is the sorcery
object `<aor>;@<md5 of its URI>` (res_pjsip's location.c names them so), which holds the Via address
and the User-Agent of the REGISTER. Two short requests per phone."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .ari_http import ari_get_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """A phone's registration as Asterisk holds it; `address` and `user_agent` of its newest contact."""

    registered: bool
    address: str = ""
    user_agent: str = ""


def _fields(path: str) -> dict[str, str]:
    answer: Any = ari_get_json(f"/asterisk/config/dynamic/res_pjsip/{path}", timeout=1)
    if not isinstance(answer, list):
        return {}  # 404: no such object
    return {str(field.get("attribute")): str(field.get("value") or "") for field in answer}


def registration_of(sip_username: str) -> Registration | None:
    """The registration of the phone whose endpoint (and AOR) is `sip_username`; None when Asterisk
    cannot be asked (down, or too slow: the page must not wait for it)."""
    try:
        uris = [
            uri for uri in _fields(f"aor/{quote(sip_username, safe='')}").get("contact", "").split(",") if uri
        ]
        for uri in reversed(uris):
            contact_id = f"{sip_username};@{hashlib.md5(uri.encode()).hexdigest()}"  # a name, not a secret
            contact = _fields(f"contact/{quote(contact_id, safe='')}")
            if not contact:
                continue  # a permanent contact of the configuration, not a registration
            host, port = contact.get("via_addr", ""), contact.get("via_port", "")
            address = f"{host}:{port}" if host and port not in ("", "0") else uri.removeprefix("sip:")
            return Registration(registered=True, address=address, user_agent=contact.get("user_agent", ""))
        return Registration(registered=False)
    except OSError as exc:
        logger.warning("could not ask Asterisk about %s's registration: %s", sip_username, exc)
        return None
