"""Calls as one user sees them in MyIstra: history rows, and the live snapshot the call banner starts from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import User
from telephony.choices import CallState
from telephony.events import CallEvent, call_event_for, peer_of
from telephony.models import Call
from voicemail.models import Message

HISTORY_LIMIT = 50
HISTORY_PAGE = 25
# The history's filters, as the page names them (?kind=missed).
HISTORY_KINDS = {
    "all": _("All"),
    "missed": _("Missed"),
    "received": _("Received"),
    "placed": _("Placed"),
}

# One msgid per banner sentence: the banner is rendered on the server, on page load and on each live event.
BANNER_TEXTS = {
    "ringing_incoming": _("Ringing: call from {peer}"),
    "ringing_outgoing": _("Ringing: calling {peer}"),
    "answered": _("In a call with {peer}"),
}


@dataclass(frozen=True)
class HistoryRow:
    call: Call
    direction: str  # placed, received or missed
    peer_name: str
    peer_number: str
    message_id: str = ""  # the voicemail message the caller left the user in this call, if any


def peer_label(name: str, number: str) -> str:
    return f"{name} ({number})" if name and number else name or number


def history_rows(user: User, *, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    assert user.company_id is not None  # the portals serve only users of a company
    calls = Call.objects.for_company(user.company_id).history_for(user.id)[:limit]
    rows = []
    for call in calls:
        name, number = peer_of(call, user.id)
        rows.append(
            HistoryRow(call=call, direction=call.direction_for(user.id), peer_name=name, peer_number=number)
        )
    return rows


@dataclass(frozen=True)
class HistoryQuery:
    """Which calls of the history a page shows: a filter, words to search, a page number."""

    kind: str = "all"
    search: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> HistoryQuery:
        kind = params.get("kind", "all")
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        return cls(
            kind=kind if kind in HISTORY_KINDS else "all", search=params.get("q", "").strip()[:64], page=page
        )

    def params(self, **changes: Any) -> str:
        """The query string of this query with `changes` (page=2), without its defaults."""
        query = replace(self, **changes)
        values = {"kind": query.kind if query.kind != "all" else "", "q": query.search}
        values["page"] = str(query.page) if query.page > 1 else ""
        return urlencode({key: value for key, value in values.items() if value})


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    query: HistoryQuery
    has_previous: bool
    has_next: bool

    @property
    def previous_params(self) -> str:
        return self.query.params(page=self.query.page - 1)

    @property
    def next_params(self) -> str:
        return self.query.params(page=self.query.page + 1)


def history_page(user: User, query: HistoryQuery, *, per_page: int = HISTORY_PAGE) -> HistoryPage:
    """One page of the user's history, newest first, filtered and searched: one query whatever the
    page (one row more than shown tells whether a next page exists)."""
    assert user.company_id is not None
    calls = Call.objects.for_company(user.company_id).history_for(user.id)
    mine = Q(caller_user_id=user.id)
    if query.kind == "placed":
        calls = calls.filter(mine)
    elif query.kind == "received":
        calls = calls.exclude(mine).filter(answered_at__isnull=False)
    elif query.kind == "missed":
        calls = calls.exclude(mine).filter(answered_at__isnull=True)
    for word in query.search.split():
        calls = calls.filter(
            Q(caller_number__contains=word)
            | Q(callee_number__contains=word)
            | Q(dialled_number__contains=word)
            | Q(caller_name__icontains=word)
            | Q(callee_name__icontains=word)
            | Q(caller_user__first_name__icontains=word)
            | Q(callee_user__first_name__icontains=word)
        )
    start = (query.page - 1) * per_page
    found = list(calls[start : start + per_page + 1])
    # The messages these calls left the user, in one query for the page.
    messages = dict(
        Message.objects.stored()
        .of_user(user.pk)
        .filter(call_id__in=[call.id for call in found[:per_page]])
        .values_list("call_id", "id")
    )
    rows = []
    for call in found[:per_page]:
        name, number = peer_of(call, user.id)
        message = messages.get(call.id)
        rows.append(
            HistoryRow(
                call=call,
                direction=call.direction_for(user.id),
                peer_name=name,
                peer_number=number,
                message_id=str(message) if message else "",
            )
        )
    return HistoryPage(rows=rows, query=query, has_previous=query.page > 1, has_next=len(found) > per_page)


def missed_count(user: User, *, since: Any) -> int:
    """How many calls to the user nobody answered since `since`: MyIstra's home says it first."""
    assert user.company_id is not None
    calls = Call.objects.for_company(user.company_id).history_for(user.id)
    return (
        calls.exclude(caller_user_id=user.id).filter(answered_at__isnull=True, started_at__gte=since).count()
    )


def active_call_event(user: User) -> CallEvent | None:
    """The user's most recent call still in progress, if any: what the banner shows on page load."""
    assert user.company_id is not None
    call = (
        Call.objects.for_company(user.company_id)
        .active()
        .involving(user.id)
        .select_related("caller_user", "callee_user")
        .order_by("-started_at")
        .first()
    )
    return call_event_for(call, user.id) if call else None


def banner_text(event: CallEvent | None) -> str:
    if event is None or event.state == CallState.ENDED:
        return ""
    key = f"ringing_{event.direction}" if event.state == CallState.RINGING else "answered"
    return str(BANNER_TEXTS[key]).format(peer=peer_label(event.peer_name, event.peer_number))


def snapshot_from(event: CallEvent | None) -> dict[str, Any]:
    return {"call": asdict(event) if event else None}


def snapshot(user: User) -> dict[str, Any]:
    """What GET /me/live/ answers: the active call (or null) as the next live event would describe it."""
    return snapshot_from(active_call_event(user))
