"""Short synchronous ARI requests from Django (provisioning, message lamps, click-to-call).

The bridge has its own asyncio client; Django code talks to Asterisk only for these one-off requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from typing import Any

from django.conf import settings


def ari_request(
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    timeout: float = 3,
) -> int:
    """Send one request; the HTTP status (an error status is returned, not raised). OSError when
    Asterisk cannot be reached."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    request = urllib.request.Request(
        f"{settings.ARI_URL}/ari{path}{query}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
    )
    token = b64encode(f"{settings.ARI_USERNAME}:{settings.ARI_PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def ari_get_json(path: str, *, timeout: float = 3) -> Any | None:
    """GET one resource: its JSON body, or None when Asterisk answers with an error status (404: no
    such resource). OSError when Asterisk cannot be reached."""
    request = urllib.request.Request(f"{settings.ARI_URL}/ari{path}", method="GET")
    token = b64encode(f"{settings.ARI_USERNAME}:{settings.ARI_PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError:
        return None
