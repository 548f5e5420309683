"""In Chromium: bob adds a forwarding rule in MyIstra (a wrong extension is refused first) and sees it
listed; he turns do not disturb on and off from the page; then what his desk phone's dial codes do
(*8, *2 103) shows on his open page at once, without a reload; last, he gives his "in a meeting"
presence its own forwarding (a status profile), a wrong number refused in place first. No Asterisk:
the test runs the settings writes a dial code runs, in its own process, and the live events travel
through Redis and the real web server to the browser."""

from __future__ import annotations

import asyncio
import re

import pytest
from django.db import connection
from playwright.async_api import expect

from telephony.actions import call_settings as call_settings_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.choices import Presence, RuleCondition
from telephony.models import CallSettings
from tests.personas import Person

from .browser import chromium, log_in, wait_until_true

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def _from_the_desk_phone(person: Person, code: str) -> None:
    """What the bridge runs for *8 and *2 103; in a thread, outside the browser's event loop, and
    committed like the bridge does, so the live event goes out."""
    try:
        if code == "*8":
            call_settings_actions.set_dnd(user=person.user, on=True)
        elif code == "*2103":
            forwarding_actions.set_dial_code_forward(
                user=person.user, condition=RuleCondition.ALWAYS, number="103"
            )
        else:
            raise AssertionError(code)
    finally:
        connection.close()


def _set_presence(person: Person, presence: str) -> None:
    try:
        call_settings_actions.set_presence(user=person.user, presence=presence)
    finally:
        connection.close()


def _dnd_of(person: Person) -> bool:
    try:
        return CallSettings.objects.get(user=person.user).dnd
    finally:
        connection.close()


async def scenario(base_url: str, bob: Person) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        await log_in(page, base_url, "bob", lands="/me/")
        dnd_state = page.locator("#dnd-state")
        dnd_toggle = page.locator("#dnd-toggle")
        await expect(dnd_state).to_have_attribute("data-dnd", "off")
        await expect(dnd_state).to_have_text("Available for calls")

        # given his forwarding rules, none yet
        await page.click("#forwarding-nav")
        await page.wait_for_url(f"{base_url}/me/forwarding/")
        rows = page.locator("#forwarding-rules tr.rule-row")
        await expect(rows).to_have_count(0)

        # when he forwards calls when busy to an extension nobody has
        form = page.locator("#add-rule-form")
        await form.locator("input[name=label]").fill("Busy: to Carol")
        # (the form shows only the fields his choices need)
        await form.locator("select[name=condition]").select_option("no_answer")
        await expect(form.locator("input[name=no_answer_after]")).to_be_visible()
        await form.locator("select[name=condition]").select_option("busy")
        await expect(form.locator("input[name=no_answer_after]")).to_be_hidden()
        await form.locator("select[name=destination]").select_option("voicemail")
        await expect(form.locator("input[name=destination_number]")).to_be_hidden()
        await expect(form.locator("input[name=time_from]")).to_be_hidden()  # behind "only at some times"
        await form.locator("select[name=destination]").select_option("number")
        await form.locator("input[name=destination_number]").fill("199")
        await form.locator("button[type=submit]").click()

        # then he is told why, with what he typed kept
        form = page.locator("#add-rule-form")
        await expect(form.locator(".errorlist")).to_contain_text(
            "Extension 199 does not exist in your company."
        )
        await expect(form.locator("input[name=label]")).to_have_value("Busy: to Carol")

        # when he corrects it to carol's 102
        await form.locator("input[name=destination_number]").fill("102")
        await form.locator("button[type=submit]").click()

        # then the rule is listed, in words
        await page.wait_for_url(f"{base_url}/me/forwarding/")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Busy: to Carol")
        await expect(rows.first).to_contain_text("when I am busy")
        await expect(rows.first).to_contain_text("another number (102)")

        # when he turns do not disturb on from the page, then off again
        await dnd_toggle.click()
        await expect(dnd_state).to_have_attribute("data-dnd", "on")
        await expect(dnd_state).to_have_text("Do not disturb")
        await expect(dnd_toggle).to_have_text("Turn do not disturb off")
        assert await asyncio.to_thread(_dnd_of, bob) is True
        await dnd_toggle.click()
        await expect(dnd_state).to_have_attribute("data-dnd", "off")
        assert await asyncio.to_thread(_dnd_of, bob) is False

        # given the page listening, as first loaded
        await wait_until_true(page, "() => window.istraLive && window.istraLive.connected === true")
        await page.evaluate("window.notReloaded = true")

        # when he dials *8 on his desk phone
        await asyncio.to_thread(_from_the_desk_phone, bob, "*8")

        # then the page shows do not disturb at once
        await expect(dnd_state).to_have_attribute("data-dnd", "on", timeout=5_000)
        await expect(dnd_state).to_have_text("Do not disturb")
        await expect(dnd_toggle).to_have_text("Turn do not disturb off")

        # when his presence changes elsewhere (another browser, the API)
        await asyncio.to_thread(_set_presence, bob, Presence.HOLIDAY)

        # then the selector follows
        await expect(page.locator("#presence")).to_have_value("holiday", timeout=5_000)

        # when he dials *2 103: forward every call to dave
        await asyncio.to_thread(_from_the_desk_phone, bob, "*2103")

        # then the new rule appears in his list, first, marked as set from his phone
        await expect(rows).to_have_count(2, timeout=5_000)
        await expect(rows.first).to_contain_text("from my phone")
        await expect(rows.first).to_contain_text(re.compile(r"always"))
        await expect(rows.first).to_contain_text("another number (103)")

        # when he says that in a meeting his calls go to carol (a status profile), a wrong number first
        profile = page.locator("#profile-meeting")
        await expect(profile.locator("input[name=number]")).to_be_hidden()
        await profile.locator("select[name=destination]").select_option("number")
        await profile.locator("input[name=number]").fill("199")
        await profile.locator("button[type=submit]").click()
        await expect(page.locator("#profile-meeting .errorlist")).to_contain_text(
            "Extension 199 does not exist"
        )
        await expect(page.locator("#profile-meeting input[name=number]")).to_be_focused()
        await page.locator("#profile-meeting input[name=number]").fill("102")
        await page.locator("#profile-meeting button[type=submit]").click()

        # then it is saved, and listed among his rules as one keyed on that presence
        await expect(page.locator("#messages")).to_contain_text("Saved: when you are in a meeting.")
        await expect(rows).to_have_count(3, timeout=5_000)
        await expect(page.locator("#forwarding-rules")).to_contain_text("When I am in a meeting")

        # and all of it happened on the page as loaded
        assert await page.evaluate("window.notReloaded") is True


def test_a_rule_added_in_myistra_is_listed_and_settings_from_the_desk_phone_show_live(
    web_server: str, bob: Person, carol: Person, dave: Person
) -> None:
    asyncio.run(scenario(web_server, bob))
