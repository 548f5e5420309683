"""The whole API fuzzed from its own OpenAPI schema (schemathesis), signed in as a demo admin: no
input, however odd, makes the server fail (no 5xx). Bounded: a few examples per operation."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from directory.models import User
from directory.tokens import issue_token

EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def kept_connection() -> Iterator[None]:
    """Requests go through the real WSGI application, which closes database connections when a
    request ends: the test's transaction would go with them (Django's test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_admin_token(db: None) -> str:
    call_command("seed_demo", stdout=io.StringIO())
    return issue_token(User.objects.get(username="alice"))[0]


@pytest.mark.timeout(400)
@pytest.mark.usefixtures("kept_connection")
def test_no_api_operation_answers_a_server_error(demo_admin_token: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    headers = {"Authorization": f"Token {demo_admin_token}"}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 40

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as error:  # collect every failing operation, then report them all
            failures.append(f"{operation.label}: {error}"[:2000])

    assert not failures, "\n\n".join(failures)
    # signed in indeed: most operations answered the admin, not 401/403
    assert sum(n for status, n in statuses.items() if status < 300) > 100, statuses
