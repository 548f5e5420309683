"""The time routing decisions are made at. In production, now. A test run (FAKE_CLOCK_FILE set in
config/test_settings.py only) can freeze it by writing an ISO datetime into that file, so a time
window rule is tested on a real call at a chosen instant (a daylight-saving change, a weekend)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    path = getattr(settings, "FAKE_CLOCK_FILE", "")
    if path:
        try:
            frozen = Path(path).read_text().strip()
        except FileNotFoundError:
            frozen = ""
        if frozen:
            return datetime.fromisoformat(frozen)
    return timezone.now()
