"""In Chromium, with the real Asterisk: bob's call history shows only his missed calls when he asks,
finds a caller by name, and calls carol back from her missed call: his own desk phone rings first, and
once he answers, hers, with his identity. All on the page as loaded."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.async_api import expect

from tests.personas import Person, record_call

from .browser import chromium, log_in
from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("bridge")]


async def scenario(base_url: str, bob: Person, carol: Person) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        await log_in(page, base_url, "bob", lands="/me/")
        rows = page.locator("#history tr.call-row")
        await expect(rows).to_have_count(3)
        await page.evaluate("window.notReloaded = true")

        # when he shows only his missed calls
        await page.check("#history-filters input[value=missed]")

        # then
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-direction", "missed")

        # when he searches a name among all his calls
        await page.check("#history-filters input[value=all]")
        await page.fill("#history-search", "dave")
        await page.press("#history-search", "Enter")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Dave")

        # when he calls carol back from her missed call
        await page.check("#history-filters input[value=missed]")
        await page.fill("#history-search", "")
        await page.press("#history-search", "Enter")
        await expect(rows).to_have_count(1)
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            await rows.first.locator(".call-back-button").click()
            # then his own phone rings first, and carol's once he answers
            mine = await bob_phone.wait_incoming(timeout=5)
            await expect(page.locator("#messages")).to_contain_text("Your phone is ringing")
            assert len(carol_phone.invites_received) == 0
            await mine.answer()
            theirs = await carol_phone.wait_incoming(timeout=5)
            assert (theirs.caller_name, theirs.caller_number) == ("Bob", "101")
            await theirs.answer()
            await mine.hangup()
            await theirs.wait_ended(timeout=5)
        assert await page.evaluate("window.notReloaded") is True


def test_bob_filters_his_history_and_calls_carol_back_from_it(
    web_server: str, bob: Person, carol: Person, dave: Person
) -> None:
    now = timezone.now()
    record_call(bob, carol, at=now - timedelta(hours=3), answered=True)
    record_call(dave, bob, at=now - timedelta(hours=2), answered=True)
    record_call(carol, bob, at=now - timedelta(hours=1), answered=False)
    asyncio.run(scenario(web_server, bob, carol))
