"""In Chromium: bob's MyIstra shows his call live (ringing, in a call, gone) and then in his history."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from tests.personas import Person

from .browser import chromium, log_in, wait_until_true
from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("bridge")]


async def scenario(base_url: str, bob: Person, carol: Person) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        await log_in(page, base_url, "bob", lands="/me/")
        banner = page.locator("#call-banner")
        text = page.locator("#call-banner-text")
        history_rows = page.locator("#history tr.call-row")
        await expect(page.locator("#my-extension")).to_contain_text("101")
        await expect(banner).to_be_hidden()
        await expect(history_rows).to_have_count(0)
        # The page listens before the call starts.
        await wait_until_true(page, "() => window.istraLive && window.istraLive.connected === true")

        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            # when bob calls carol from his desk phone
            call = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            # then his page shows the call ringing
            await expect(banner).to_be_visible(timeout=5_000)
            await expect(text).to_contain_text("Ringing")
            # and once carol answers, who he is talking to and a running duration
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await expect(text).to_contain_text("In a call with Carol (102)", timeout=5_000)
            duration = page.locator("#call-duration")
            await expect(duration).to_be_visible()
            await expect(duration).to_have_text(re.compile(r"^00:0[1-9]$"), timeout=5_000)
            await call.hangup()
            await incoming.wait_ended(timeout=5)

        # then the banner goes and the call is in his history as placed
        await expect(banner).to_be_hidden(timeout=5_000)
        await expect(history_rows).to_have_count(1, timeout=5_000)
        row = history_rows.first
        await expect(row).to_have_attribute("data-direction", "placed")
        await expect(row).to_contain_text("102")


def test_bobs_page_shows_his_call_live_and_then_in_his_history(
    web_server: str, bob: Person, carol: Person
) -> None:
    asyncio.run(scenario(web_server, bob, carol))


async def hang_up_from_the_page(base_url: str, bob: Person, carol: Person) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        await log_in(page, base_url, "bob", lands="/me/")
        banner = page.locator("#call-banner")
        await wait_until_true(page, "() => window.istraLive && window.istraLive.connected === true")
        async with phone(bob) as bob_phone, phone(carol) as carol_phone:
            # given bob in a call with carol, audio both ways
            call = await bob_phone.invite(carol.extension)
            incoming = await carol_phone.wait_incoming(timeout=5)
            await incoming.answer()
            await call.wait_status(200, timeout=5)
            await call.wait_rtp(25, timeout=5)
            await incoming.wait_rtp(25, timeout=5)
            await expect(page.locator("#call-banner-text")).to_contain_text("In a call with", timeout=5_000)
            # when he presses the banner's "Hang up"
            await page.locator("#hang-up").click()
            # then both phones are hung up by the platform, and the banner goes
            await incoming.wait_ended(timeout=5)
            await call.wait_ended(timeout=5)
        await expect(banner).to_be_hidden(timeout=5_000)
        await expect(page.locator("#hang-up-error")).to_have_count(0)
        await expect(page.locator("#history tr.call-row")).to_have_count(1, timeout=5_000)


def test_bob_hangs_up_his_call_from_the_banner(web_server: str, bob: Person, carol: Person) -> None:
    asyncio.run(hang_up_from_the_page(web_server, bob, carol))
