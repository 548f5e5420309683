from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from directory.choices import Role
from directory.models import Company

from .personas import Person, make_company, make_person


@pytest.fixture(autouse=True)
def _no_sign_in_failures() -> None:
    """Sign-in failures are counted in Redis, which outlives a test: each test starts with none."""
    from directory.login_guard import guard

    guard.reset_all()


@pytest.fixture
def acme(db: None) -> Company:
    return make_company("acme", "Acme")


@pytest.fixture
def globex(db: None) -> Company:
    return make_company("globex", "Globex")


@pytest.fixture
def alice(acme: Company) -> Person:
    return make_person(acme, "alice", "100", role=Role.ADMIN)


@pytest.fixture
def bob(acme: Company) -> Person:
    return make_person(acme, "bob", "101")


@pytest.fixture
def carol(acme: Company) -> Person:
    return make_person(acme, "carol", "102")


@pytest.fixture
def dave(acme: Company) -> Person:
    return make_person(acme, "dave", "103")


@pytest.fixture
def gina(globex: Company) -> Person:
    """Globex's admin."""
    return make_person(globex, "gina", "100", role=Role.ADMIN)


@pytest.fixture
def gus(globex: Company) -> Person:
    """Globex's 101: same extension as bob, a different person."""
    return make_person(globex, "gus", "101")


@pytest.fixture
def gail(globex: Company) -> Person:
    """Globex's 102: same extension as carol."""
    return make_person(globex, "gail", "102")


@dataclass
class PublishedEvents:
    """Live events as they leave for the browsers, once their transaction has committed."""

    sent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def to(self, person: Person) -> list[dict[str, Any]]:
        return [event for user_id, event in self.sent if user_id == person.user.pk]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> PublishedEvents:
    """Records what telephony.events.send_now would hand to the channel layer. Writes must run inside
    django_capture_on_commit_callbacks(execute=True) for their after-commit events to go."""
    events = PublishedEvents()
    monkeypatch.setattr(
        "telephony.events.send_now", lambda user_id, message: events.sent.append((user_id, message["event"]))
    )
    return events
