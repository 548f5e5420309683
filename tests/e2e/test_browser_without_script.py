"""In Chromium with JavaScript off: the portals still work, as plain pages. Bob adds a forwarding rule
(a wrong extension is refused with what he typed kept), turns do not disturb on, deletes the rule
through its confirmation page; alice resets a phone's SIP password through hers."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection
from playwright.async_api import expect

from telephony.models import CallSettings, ForwardingRule
from tests.personas import Person

from .browser import chromium, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def _state_of(person: Person) -> tuple[int, bool]:
    try:
        settings = CallSettings.objects.filter(user=person.user).first()
        return ForwardingRule.objects.filter(user=person.user).count(), bool(settings and settings.dnd)
    finally:
        connection.close()


async def scenario(base_url: str, bob: Person) -> None:
    async with chromium() as browser:
        context = await browser.new_context(java_script_enabled=False)
        page = await context.new_page()
        await log_in(page, base_url, "bob")
        await page.wait_for_url(f"{base_url}/me/")

        # a rule with a wrong extension, then the right one
        await page.goto(f"{base_url}/me/forwarding/")
        form = page.locator("#add-rule-form")
        await form.locator("input[name=label]").fill("Busy: to Carol")
        await form.locator("select[name=condition]").select_option("busy")
        await form.locator("select[name=destination]").select_option("number")
        await form.locator("input[name=destination_number]").fill("199")
        await form.locator("button[type=submit]").click()
        await expect(form.locator(".errorlist")).to_contain_text("Extension 199 does not exist")
        await expect(form.locator("input[name=label]")).to_have_value("Busy: to Carol")
        await form.locator("input[name=destination_number]").fill("102")
        await form.locator("button[type=submit]").click()
        await expect(page.locator("#forwarding-rules tr.rule-row")).to_have_count(1)

        # do not disturb, from the presence bar
        await page.click("#dnd-toggle")
        await expect(page.locator("#dnd-state")).to_have_attribute("data-dnd", "on")
        assert await asyncio.to_thread(_state_of, bob) == (1, True)

        # deleting asks first, on a page of its own
        await page.click("#forwarding-rules .delete-rule")
        await expect(page.locator("#confirm-text")).to_contain_text("Delete the rule")
        assert await asyncio.to_thread(_state_of, bob) == (1, True)
        await page.click("#confirm-button")
        await expect(page.locator("#forwarding-rules tr.rule-row")).to_have_count(0)
        assert await asyncio.to_thread(_state_of, bob) == (0, True)

        # alice resets bob's SIP password: asked first, then shown once
        admin = await (await browser.new_context(java_script_enabled=False)).new_page()
        await log_in(admin, base_url, "alice")
        await admin.goto(f"{base_url}/admin-console/users/{bob.user.pk}/")
        await admin.click("#devices .reset-password")
        await admin.click("#confirm-button")
        await expect(admin.locator("#sip-password")).not_to_be_empty()


def test_the_portals_work_without_javascript(
    web_server: str, alice: Person, bob: Person, carol: Person
) -> None:
    asyncio.run(scenario(web_server, bob))
