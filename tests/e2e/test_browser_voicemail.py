"""In Chromium: a message left for carol appears live in her MyIstra voicemail, with the nav badge; she
listens to it in the page's player, which reads it (and the list refreshing does not stop it), then
deletes it, once she has confirmed. No Asterisk: the message is stored as the bridge would."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from django.db import connection
from playwright.async_api import expect

from tests.personas import Person
from tests.voicemails import Recorder, leave_message
from voicemail.models import Message

from .browser import chromium, log_in, wait_until_true

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def no_side_effects_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's own process stores the message: no phone lamp on the shared test Asterisk, no job in
    the shared Celery queue. The live event does go, through Redis, to the web server and the browser."""
    monkeypatch.setattr("voicemail.mwi.publish", Recorder())
    monkeypatch.setattr("voicemail.tasks.notify_new_message", Recorder())


def _leave_carol_a_message(carol: Person) -> uuid.UUID:
    """Runs in a thread, outside the browser's event loop, and commits like the bridge does."""
    try:
        return leave_message(carol, seconds=3, caller_name="Dan Durand", caller_number="0612345678").id
    finally:
        connection.close()


def _message_exists(message_id: uuid.UUID) -> bool:
    try:
        return Message.objects.filter(pk=message_id).exists()
    finally:
        connection.close()


async def scenario(base_url: str, carol: Person) -> None:
    async with chromium("--mute-audio") as browser:
        page = await browser.new_page()
        await log_in(page, base_url, "carol", lands="/me/")
        badge = page.locator("#voicemail-badge")
        # given her voicemail page, empty
        await page.click("#voicemail-nav")
        await page.wait_for_url(f"{base_url}/me/voicemail/")
        rows = page.locator("#voicemail-list tr.voicemail-row")
        await expect(rows).to_have_count(0)
        await expect(page.locator("#voicemail-list tr.empty")).to_be_visible()
        await expect(badge).to_have_text("0")
        await expect(badge).to_be_hidden()
        await wait_until_true(page, "() => window.istraLive && window.istraLive.connected === true")
        await page.evaluate("window.notReloaded = true")

        # when a caller leaves her a 3 s message
        message_id = await asyncio.to_thread(_leave_carol_a_message, carol)

        # then, without a reload, the badge says 1 and the message is listed, unread
        await expect(badge).to_have_text("1", timeout=5_000)
        await expect(badge).to_be_visible()
        await expect(rows).to_have_count(1, timeout=5_000)
        row = page.locator(f'#voicemail-list tr.voicemail-row[data-message-id="{message_id}"]')
        await expect(row).to_have_class(re.compile(r"\bunread\b"))
        await expect(row).to_contain_text("Dan Durand")
        await expect(row).to_contain_text("00:03")

        # when she presses Listen on the message
        await row.locator("a.listen").click()
        audio = page.locator("#voicemail-player")

        # then it plays, from the server, and is read: the row loses its mark, the badge goes
        await wait_until_true(
            page, "(audio) => audio.currentTime > 0.2 || audio.ended", await audio.element_handle()
        )
        await expect(row).not_to_have_class(re.compile(r"\bunread\b"), timeout=5_000)
        await expect(row.locator("button.mark-read")).to_have_count(0)
        await expect(badge).to_have_text("0", timeout=5_000)
        await expect(badge).to_be_hidden()
        # and the list refreshed meanwhile: the message goes on playing
        played = await audio.evaluate("(audio) => audio.currentTime")
        await wait_until_true(
            page,
            "([audio, t]) => audio.currentTime > t || audio.ended",
            [await audio.element_handle(), played],
            5,
        )

        # when she deletes it, and says yes when asked
        await row.locator(".delete").click()
        dialog = page.locator("#confirm-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text("Delete this message?")
        await dialog.locator(".confirm-yes").click()

        # then it is gone, from the page and from the platform
        await expect(rows).to_have_count(0, timeout=5_000)
        await expect(page.locator("#voicemail-list tr.empty")).to_be_visible()
        assert not await asyncio.to_thread(_message_exists, message_id)
        # and all of it happened on the page as first loaded
        assert await page.evaluate("window.notReloaded") is True


def test_a_message_appears_live_is_read_by_playing_it_and_deleted(web_server: str, carol: Person) -> None:
    asyncio.run(scenario(web_server, carol))
