"""A missing page, a forbidden one and a crash are shown in the portal's own page with a way back, with
DEBUG on (`make run`) as well as off, where Django would otherwise list every URL or a traceback."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from tests.personas import Person

pytestmark = pytest.mark.django_db


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("crash/", _crash)]


@pytest.mark.parametrize("debug", [True, False])
def test_a_missing_page_is_branded_with_a_way_back(client: Client, bob: Person, debug: bool) -> None:
    client.force_login(bob.user)
    with override_settings(DEBUG=debug):
        response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in html and 'id="error-home"' in html
    assert "URLconf" not in html  # not Django's debug page, listing every URL


@pytest.mark.parametrize("debug", [True, False])
def test_a_user_in_the_admin_console_gets_a_branded_403(client: Client, bob: Person, debug: bool) -> None:
    client.force_login(bob.user)
    with override_settings(DEBUG=debug):
        response = client.get("/admin-console/")
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__, DEBUG=True)
def test_a_crash_with_debug_on_shows_the_branded_page_and_logs_the_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = Client(raise_request_exception=False).get("/crash/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert any("boom" in str(record.exc_info) for record in caplog.records)
