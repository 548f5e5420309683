"""The company directory as a colleague reads it (myCompany, G1/G6): each user of the company with their
extension, public numbers, presence, do not disturb and phone state now. The portal page and the API
show these lines; `telephony.events` keeps them current in browsers with `directory.status` events."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from directory.models import User

from .availability import unavailable_users
from .choices import CallState, Presence
from .events import PhoneState, line_state, phone_state_of
from .models import Call, PhoneNumber


@dataclass(frozen=True)
class Colleague:
    """One line of the directory."""

    user_id: int
    name: str
    extension: str  # empty for a user without one (nobody can call them)
    public_numbers: tuple[str, ...]
    presence: str
    dnd: bool
    phone_state: str
    site: str = ""  # the site's name, empty for a company of one site

    @property
    def presence_label(self) -> str:
        return str(Presence(self.presence).label)

    @property
    def phone_state_label(self) -> str:
        return str(PhoneState(self.phone_state).label)


def _matching(users: QuerySet[User], search: str) -> QuerySet[User]:
    """Every word of `search` must be in the user's first or last name, login, or extension."""
    for word in search.split():
        users = users.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(extension__number__contains=word)
        )
    return users


def phone_states(company_id: int) -> dict[int, PhoneState]:
    """The phone state of each user of the company who is not idle, from the calls in progress: the same
    rule `telephony.events.PhoneStates` applies to the events that follow (`line_state`)."""
    lines: dict[int, list[PhoneState]] = {}
    calls = (
        Call.objects.for_company(company_id)
        .filter(state__in=[CallState.RINGING, CallState.ANSWERED])
        .values_list("state", "caller_user_id", "callee_user_id")
    )
    for state, caller_id, callee_id in calls:
        if caller_id is not None:
            lines.setdefault(caller_id, []).append(line_state(state, incoming=False))
        if callee_id is not None and callee_id != caller_id:
            lines.setdefault(callee_id, []).append(line_state(state, incoming=True))
    return {user_id: phone_state_of(states) for user_id, states in lines.items()}


def colleagues(company_id: int, *, search: str = "") -> list[Colleague]:
    """The company's active users, by name, that `search` matches (all when empty): four queries
    whatever their number (users, their public numbers, the calls in progress, their phones) and one
    request to Asterisk (which phones are registered)."""
    matching = _matching(
        User.objects.filter(company_id=company_id, is_active=True)
        .select_related("extension", "call_settings", "site")
        .prefetch_related(
            Prefetch(
                "phone_numbers",
                queryset=PhoneNumber.objects.filter(destination=PhoneNumber.Destination.USER),
                to_attr="public_numbers",
            )
        )
        .order_by(Lower("last_name"), Lower("first_name"), "username"),
        search,
    )
    users = list(matching)
    states = phone_states(company_id)
    unavailable = unavailable_users(user.pk for user in users)
    lines = []
    for user in users:
        extension = getattr(user, "extension", None)
        call_settings = getattr(user, "call_settings", None)
        lines.append(
            Colleague(
                user_id=user.pk,
                name=user.display_name,
                extension=extension.number if extension else "",
                public_numbers=tuple(number.number for number in user.public_numbers),  # type: ignore[attr-defined]
                presence=call_settings.presence if call_settings else Presence.AVAILABLE,
                dnd=call_settings.dnd if call_settings else False,
                phone_state=states.get(
                    user.pk, PhoneState.UNAVAILABLE if user.pk in unavailable else PhoneState.IDLE
                ),
                site=user.site.name if user.site else "",
            )
        )
    return lines
