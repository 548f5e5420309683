"""The real web server (config/serve.py, uvicorn) against an attacker on the same machine (J2):
X-Forwarded-For is not believed from loopback, so rotating it does not escape the sign-in lock."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.personas import PORTAL_PASSWORD, Person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def token_request(base: str, username: str, password: str, forwarded_for: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/auth/token/",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_rotating_x_forwarded_for_from_loopback_does_not_bypass_the_sign_in_lock(
    web_server: str, bob: Person
) -> None:
    # when: five wrong passwords, each claiming to come from another address
    statuses = [token_request(web_server, "bob", "wrong", f"203.0.113.{n}") for n in range(5)]

    # then: the right password from yet another claimed address is still refused
    assert statuses == [400] * 5
    assert token_request(web_server, "bob", PORTAL_PASSWORD, "198.51.100.77") == 429


def test_a_body_past_the_cap_is_refused_before_it_is_sent(web_server: str, bob: Person) -> None:
    import http.client
    import time
    from urllib.parse import urlsplit

    from django.conf import settings

    # when: a client announces a body past the cap and sends none of it
    address = urlsplit(web_server)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
    started = time.monotonic()
    connection.putrequest("POST", "/api/voicemail/mailbox/")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(settings.MAX_REQUEST_BYTES + 1))
    connection.endheaders()
    response = connection.getresponse()

    # then: refused at once, without waiting for the body
    assert response.status == 413
    assert time.monotonic() - started < 2
    connection.close()


PAGES = ["/me/", "/me/forwarding/", "/me/settings/", "/me/voicemail/", "/directory/"]
ADMIN_PAGES = ["/admin-console/", "/admin-console/routing/"]


def test_the_portals_work_under_their_content_security_policy(
    web_server: str, alice: Person, bob: Person
) -> None:
    """Every page runs its scripts, styles and live WebSocket with nothing refused by the policy."""
    import asyncio

    from playwright.async_api import async_playwright

    from .browser import wait_until_true
    from .conftest import CHROMIUM_ARGS

    async def violations(username: str, paths: list[str]) -> list[str]:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page()
                refused: list[str] = []
                page.on(
                    "console",
                    lambda message: (
                        refused.append(message.text) if "Content Security Policy" in message.text else None
                    ),
                )
                await page.goto(f"{web_server}/login/")
                await page.fill("#login-form input[name=username]", username)
                await page.fill("#login-form input[name=password]", PORTAL_PASSWORD)
                await page.click("#login-form button[type=submit]")
                await page.wait_for_url(lambda url: "/login/" not in url)
                for path in paths:
                    response = await page.goto(f"{web_server}{path}")
                    assert response is not None and response.ok, path
                    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
                await page.goto(f"{web_server}/me/")
                await wait_until_true(page, "() => window.istraLive && window.istraLive.connected === true")
                return refused
            finally:
                await browser.close()

    assert asyncio.run(violations("bob", PAGES)) == []
    assert asyncio.run(violations("alice", ADMIN_PAGES)) == []
