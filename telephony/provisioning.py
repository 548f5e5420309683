"""Django is the single source of truth for PJSIP: devices are pushed to Asterisk through ARI.

Asterisk keeps endpoints, auths and AORs in its sorcery memory wizard (see templates/asterisk/
sorcery.conf). A device is pushed when it is saved and removed when it is disabled or deleted; the
ARI bridge pushes them all again whenever it (re)connects, since an Asterisk restart forgets them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Iterable

from django.conf import settings

from .ari_http import ari_get_json, ari_request
from .choices import DeviceKind
from .models import Device

logger = logging.getLogger(__name__)

Fields = list[tuple[str, str]]


def sip_ha1(username: str, password: str, realm: str | None = None) -> str:
    """The digest hash Asterisk checks registrations against: MD5(username:realm:password)."""
    realm = realm or settings.SIP_REALM
    return hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def device_objects(
    device: Device, *, language: str, caller_id: str, mailbox: str = ""
) -> list[tuple[str, str, Fields]]:
    """The (type, id, fields) PJSIP objects that make one device registrable and callable."""
    sid = device.sip_username
    auth: Fields = [
        ("auth_type", "digest"),
        ("username", sid),
        ("realm", settings.SIP_REALM),
        ("password_digest", f"MD5:{device.sip_ha1}"),
    ]
    aor: Fields = [("max_contacts", "1"), ("remove_existing", "yes"), ("qualify_frequency", "0")]
    # No transport named: Asterisk reaches each phone over the one it registered on (UDP, or TLS).
    endpoint: Fields = [
        ("context", "from-device"),
        ("disallow", "all"),
        ("allow", "ulaw,alaw"),
        ("auth", sid),
        ("aors", sid),
        # Simple SIP clients fail on the re-INVITEs direct media would send after answer.
        ("direct_media", "no"),
        ("rtp_symmetric", "yes"),
        ("force_rport", "yes"),
        ("rewrite_contact", "yes"),
        ("dtmf_mode", "rfc4733"),
        # SRTP (SDES keys) when the phone offers or accepts it, plain RTP otherwise: phones on the TLS
        # transport get encrypted media, the others keep working as before.
        ("media_encryption", "sdes"),
        ("media_encryption_optimistic", "yes"),
        ("language", language),
        ("callerid", caller_id),
        ("send_pai", "yes"),
        # A phone's REFER (its transfer key) is declined: Asterisk would take it on itself, outside
        # the bridge, past barring and into the dialplan. Transfers come with in-call control (D3).
        ("allow_transfer", "no"),
    ]
    # The phone's message lamp follows this voicemail box: unsolicited NOTIFYs (endpoint), and
    # SUBSCRIBEs to message-summary of the AOR, as most desk phones do. Without a box the fields are
    # still sent, empty: a push onto an object Asterisk already has keeps every field it does not name.
    endpoint.append(("mailboxes", mailbox))
    endpoint.append(("mwi_subscribe_replaces_unsolicited", "yes" if mailbox else "no"))
    aor.append(("mailboxes", mailbox))
    return [("auth", sid, auth), ("aor", sid, aor), ("endpoint", sid, endpoint)]


def _ari(method: str, path: str, body: dict[str, object] | None = None) -> int:
    return ari_request(method, path, body=body)


def _describe(device: Device) -> tuple[str, str, str]:
    user = device.user
    language = user.effective_language
    has_extension = hasattr(user, "extension")
    number = user.extension.number if has_extension else device.sip_username
    name = user.display_name.replace('"', "")
    mailbox = f"{number}@{user.company.slug}" if has_extension and user.company else ""
    return language, f'"{name}" <{number}>', mailbox


def push_device(device: Device) -> bool:
    """Create or update the device on Asterisk; a disabled device is removed. True when Asterisk agreed."""
    if device.is_remote:
        return True  # an outside number: nothing to register on Asterisk
    if not device.enabled:
        return remove_endpoint(device.sip_username)
    language, caller_id, mailbox = _describe(device)
    try:
        for kind, object_id, fields in device_objects(
            device, language=language, caller_id=caller_id, mailbox=mailbox
        ):
            status = _ari(
                "PUT",
                f"/asterisk/config/dynamic/res_pjsip/{kind}/{object_id}",
                {"fields": [{"attribute": k, "value": v} for k, v in fields]},
            )
            if status >= 300:
                logger.error("Asterisk refused %s %s: HTTP %s", kind, object_id, status)
                return False
    except OSError as exc:
        logger.warning("Asterisk unreachable, %s will be pushed when the bridge reconnects: %s", device, exc)
        return False
    return True


def remove_endpoint(sip_username: str) -> bool:
    try:
        for kind in ("endpoint", "aor", "auth"):
            status = _ari("DELETE", f"/asterisk/config/dynamic/res_pjsip/{kind}/{sip_username}")
            if status >= 300 and status != 404:
                return False
    except OSError as exc:
        logger.warning("Asterisk unreachable while removing %s: %s", sip_username, exc)
        return False
    return True


CARRIER_ENDPOINT = "carrier"


def push_carrier() -> bool:
    """The carrier trunk: an endpoint without auth, recognised by its address, whose calls go to DIDs.

    Pushed again by every bridge that starts, onto an Asterisk that may have it already. Asterisk
    updates an existing dynamic object by writing it out as text, reading that back into a new one and
    then applying the fields sent (ast_sorcery_copy), and that round trip is lossy: an endpoint
    without a caller id comes back with the number "unknown", which then replaces the number of every
    call from the carrier; an identify gets its address once more in `match` on every push.
    """
    if not settings.CARRIER_ADDRESS:
        return False
    objects: list[tuple[str, str, Fields]] = [
        ("aor", CARRIER_ENDPOINT, [("contact", f"sip:{settings.CARRIER_ADDRESS}:{settings.CARRIER_PORT}")]),
        (
            "endpoint",
            CARRIER_ENDPOINT,
            [
                ("transport", "transport-udp"),
                ("context", "from-carrier"),
                ("disallow", "all"),
                ("allow", "ulaw,alaw"),
                ("aors", CARRIER_ENDPOINT),
                ("direct_media", "no"),
                ("dtmf_mode", "rfc4733"),
                ("allow_transfer", "no"),
                # No caller id of its own, said explicitly: a caller id on this endpoint would replace
                # the one the carrier presents. Sent empty, it also undoes the "unknown" the update
                # round trip leaves (see above).
                ("callerid", ""),
            ],
        ),
    ]
    try:
        for kind, object_id, fields in objects:
            body: dict[str, object] = {"fields": [{"attribute": k, "value": v} for k, v in fields]}
            if _ari("PUT", f"/asterisk/config/dynamic/res_pjsip/{kind}/{object_id}", body) >= 300:
                logger.error("Asterisk refused the carrier's %s", kind)
                return False
        return _push_carrier_identify()
    except OSError as exc:
        logger.warning("Asterisk unreachable, carrier not pushed: %s", exc)
        return False


def _push_carrier_identify() -> bool:
    """Recognise the carrier by its address: left alone when Asterisk has it so already, since an
    update would only add the address again; replaced when it matches something else."""
    path = f"/asterisk/config/dynamic/res_pjsip/identify/{CARRIER_ENDPOINT}"
    current = ari_get_json(path)
    if isinstance(current, list):
        fields = [(str(f.get("attribute")), str(f.get("value", ""))) for f in current if isinstance(f, dict)]
        endpoints = [value for attribute, value in fields if attribute == "endpoint"]
        matches = [value for attribute, value in fields if attribute == "match"]
        if endpoints == [CARRIER_ENDPOINT] and _matches_only(matches, settings.CARRIER_ADDRESS):
            return True
        if _ari("DELETE", path) >= 300:
            logger.error("Asterisk refused to replace the carrier's identify")
            return False
    body: dict[str, object] = {
        "fields": [
            {"attribute": "endpoint", "value": CARRIER_ENDPOINT},
            {"attribute": "match", "value": settings.CARRIER_ADDRESS},
        ]
    }
    if _ari("PUT", path, body) >= 300:
        logger.error("Asterisk refused the carrier's identify")
        return False
    return True


def _matches_only(matches: list[str], address: str) -> bool:
    """Whether an identify's `match` entries as Asterisk reports them (one field per entry, each
    "192.0.2.1/255.255.255.255") are exactly the one address."""
    try:
        wanted = ipaddress.ip_network(address)
        entries = [entry for value in matches for entry in value.split(",")]
        return [ipaddress.ip_network(entry.strip()) for entry in entries] == [wanted]
    except ValueError:  # a host name, or something we did not write: push it again
        return False


def push_all(devices: Iterable[Device] | None = None) -> int:
    """Push every enabled device (after an Asterisk restart, or when the bridge starts). Returns the count."""
    if devices is None:
        devices = (
            Device.objects.enabled()
            .filter(kind=DeviceKind.SIP)
            .select_related("user__company", "user__extension")
        )
    push_carrier()
    count = 0
    for device in devices:
        if push_device(device):
            count += 1
    return count
