"""In Chromium: bob's company directory (myCompany) shows his colleagues live. Alice dials *8 on her
desk phone and her line shows do not disturb; she changes her presence through the API and it shows;
a real call to carol shows her line ringing, in a call, then available again, without a reload. A
colleague whose desk phone is not registered shows unavailable, and available once it registers. Then
bob presses Call on carol's line: his own desk phone rings first, and once he answers, carol's."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection
from playwright.async_api import expect
from rest_framework.test import APIClient

from tests.personas import Person

from .browser import chromium, log_in, wait_until_true
from .codes import dial_code
from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("bridge")]


def _presence_through_the_api(person: Person, presence: str) -> None:
    """In a thread, committed as a request would be, so the live event goes out through Redis."""
    try:
        client = APIClient()
        client.force_authenticate(person.user)
        assert client.patch("/api/me/settings/", {"presence": presence}, format="json").status_code == 200
    finally:
        connection.close()


async def scenario(base_url: str, alice: Person, bob: Person, carol: Person, dave: Person) -> None:
    async with chromium() as browser:
        context = await browser.new_context()
        first = await context.new_page()
        await log_in(first, base_url, "bob", lands="/me/")
        await first.click("#directory-nav")
        await first.wait_for_url(f"{base_url}/directory/")
        await first.close()
        # the directory, in a page of its own from the start: every socket it opens is counted
        page = await context.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        await page.goto(f"{base_url}/directory/")
        alice_row = page.locator('#directory tr[data-extension="100"]')
        carol_row = page.locator('#directory tr[data-extension="102"]')
        await expect(carol_row).to_contain_text("Carol")
        await expect(page.locator('#directory tr[data-extension="101"] .call-button')).to_have_count(0)
        await expect(alice_row).to_have_attribute("data-dnd", "0")
        await expect(alice_row.locator(".dnd-marker")).to_be_hidden()
        # The page listens before anything happens.
        await wait_until_true(page, "() => window.istraLive && window.istraLive.connected === true")
        # on one socket only, which carries the colleagues' events as well as bob's own
        assert [url.split("/ws/", 1)[1] for url in sockets] == ["live/?directory=1"]

        # when alice turns do not disturb on from her desk phone, then her presence through the API
        async with phone(alice) as alice_phone:
            await dial_code(alice_phone, "*8")
        await expect(alice_row).to_have_attribute("data-dnd", "1", timeout=5_000)
        await expect(alice_row.locator(".dnd-marker")).to_be_visible()
        await expect(alice_row.locator(".dnd-marker")).to_have_text("Do not disturb")
        await asyncio.to_thread(_presence_through_the_api, alice, "meeting")
        await expect(alice_row).to_have_attribute("data-presence", "meeting", timeout=5_000)
        await expect(alice_row.locator(".presence")).to_have_text("in a meeting")
        # Her desk phone left with her code call: nothing can ring her now.
        await expect(alice_row).to_have_attribute("data-phone-state", "unavailable", timeout=5_000)
        await expect(alice_row.locator(".phone-state")).to_have_text("unavailable")

        # carol's desk phone is not registered: unavailable; once it registers, available
        await expect(carol_row).to_have_attribute("data-phone-state", "unavailable")
        async with phone(dave) as dave_phone, phone(carol) as carol_phone:
            await expect(carol_row).to_have_attribute("data-phone-state", "idle", timeout=5_000)
            await expect(carol_row.locator(".phone-state")).to_have_text("available")
            # when dave calls carol from his desk phone
            call = await dave_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await expect(carol_row).to_have_attribute("data-phone-state", "ringing", timeout=5_000)
            await expect(carol_row.locator(".phone-state")).to_have_text("ringing")
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await expect(carol_row).to_have_attribute("data-phone-state", "in_call", timeout=5_000)
            await expect(carol_row.locator(".phone-state")).to_have_text("in a call")
            await expect(page.locator('#directory tr[data-extension="103"]')).to_have_attribute(
                "data-phone-state", "in_call"
            )
            await call.hangup()
            await incoming.wait_ended(timeout=5)
            await expect(carol_row).to_have_attribute("data-phone-state", "idle", timeout=5_000)
            await expect(carol_row.locator(".phone-state")).to_have_text("available")
        # her phone gone again
        await expect(carol_row).to_have_attribute("data-phone-state", "unavailable", timeout=5_000)

        # when bob presses Call on carol's line
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            await carol_row.locator(".call-button").click()
            # then his own phone rings first, showing whom it will call; carol's does not yet
            mine = await bob_phone.wait_incoming(timeout=5)
            assert mine.caller_number == "102"
            await expect(page.locator("#directory-feedback")).to_contain_text("Your phone is ringing")
            assert page.url == f"{base_url}/directory/"
            assert len(carol_phone.invites_received) == 0
            # and once he answers, carol's phone rings with his identity
            await mine.answer()
            theirs = await carol_phone.wait_incoming(timeout=5)
            assert (theirs.caller_name, theirs.caller_number) == ("Bob", "101")
            await expect(carol_row).to_have_attribute("data-phone-state", "ringing", timeout=5_000)
            await theirs.answer()
            await expect(carol_row).to_have_attribute("data-phone-state", "in_call", timeout=5_000)
            await mine.hangup()
            await theirs.wait_ended(timeout=5)
            await expect(carol_row).to_have_attribute("data-phone-state", "idle", timeout=5_000)
        await expect(carol_row).to_have_attribute("data-phone-state", "unavailable", timeout=5_000)
        assert len(sockets) == 1


def test_bobs_directory_shows_his_colleagues_live_and_calls_them(
    web_server: str, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    asyncio.run(scenario(web_server, alice, bob, carol, dave))
