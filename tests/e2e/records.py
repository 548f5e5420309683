"""Reading call records once the bridge has written them (it writes off the call's critical path)."""

from __future__ import annotations

from telephony.choices import CallState
from telephony.models import Call

from .processes import wait_until


def ended_call(timeout: float = 5.0, **filters: object) -> Call:
    """The one call matching `filters` once it is recorded as ended."""
    call = wait_until(
        lambda: Call.objects.filter(state=CallState.ENDED, **filters).prefetch_related("legs").first(),
        timeout,
        f"an ended call record matching {filters}",
    )
    assert isinstance(call, Call)
    return call


def answered_call(timeout: float = 5.0, **filters: object) -> Call:
    """The one call matching `filters` once it is recorded as answered (and not ended)."""
    call = wait_until(
        lambda: Call.objects.filter(state=CallState.ANSWERED, **filters).first(),
        timeout,
        f"an answered call record matching {filters}",
    )
    assert isinstance(call, Call)
    return call
