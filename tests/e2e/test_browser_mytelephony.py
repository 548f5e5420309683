"""In Chromium, with the real Asterisk: alice, Acme's admin, manages users after creating them. She
finds carol by searching and sorts the list; sees bob's desk phone registered (its address and user
agent, as Asterisk has them); corrects bob (a taken extension is refused in place, the field focused);
sets a password for a user created without one, who then logs in; disables, resets and removes phones,
each destructive action asking first; disables and deletes a user after reading what goes with them."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection
from playwright.async_api import expect

from directory.models import User
from tests.personas import Person
from tests.sipua import USER_AGENT
from voicemail import actions as voicemail_actions

from .browser import chromium, log_in
from .phones import phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("bridge")]


def _user_exists(username: str) -> bool:
    try:
        return User.objects.filter(username=username).exists()
    finally:
        connection.close()


async def scenario(base_url: str, bob: Person, erin: User) -> None:
    async with chromium() as browser:
        context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        await log_in(page, base_url, "alice")
        await page.wait_for_url(f"{base_url}/admin-console/")
        await expect(page.locator("#portal-name")).to_have_text("myTelephony")
        rows = page.locator("#users tr.user-row")

        # when she searches, then sorts by extension the other way round
        await page.fill("#user-search", "car")
        await page.press("#user-search", "Enter")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-username", "carol")
        await page.goto(f"{base_url}/admin-console/")
        await page.click("#users a.sort-extension")  # sorted by extension already: the other way
        await expect(rows.first).to_have_attribute("data-username", "erin")

        # bob's page, with his desk phone registered: Asterisk says from where, with what
        async with phone(bob) as desk:
            await page.goto(f"{base_url}/admin-console/users/{bob.user.pk}/")
            device_row = page.locator("#devices tr.device-row").first
            await expect(device_row).to_have_attribute("data-registered", "yes")
            await expect(device_row.locator(".address")).to_have_text(f"127.0.0.1:{desk.local_port}")
            await expect(device_row.locator(".user-agent")).to_have_text(USER_AGENT)
        await page.reload()
        await expect(device_row).to_have_attribute("data-registered", "no")

        # when she gives bob carol's extension, the error shows where she is, the field focused
        await page.click("#edit-user")
        await page.fill("#user-first_name", "Robert")
        await page.fill("#user-extension", "102")
        await page.evaluate("window.notReloaded = true")
        await page.click("#edit-user-form button[type=submit]")
        form = page.locator("#edit-user-form")
        await expect(form.locator(".errorlist")).to_contain_text("Extension 102 already exists in Acme.")
        await expect(page.locator("#user-extension")).to_be_focused()
        await expect(page.locator("#user-first_name")).to_have_value("Robert")
        assert await page.evaluate("window.notReloaded") is True
        # and once corrected, she is back on his page, which says so
        await page.fill("#user-extension", "111")
        await page.click("#edit-user-form button[type=submit]")
        await page.wait_for_url(f"{base_url}/admin-console/users/{bob.user.pk}/")
        await expect(page.locator("#messages")).to_contain_text("Robert is saved.")
        await expect(page.locator("#user-extension")).to_have_text("111")

        # when she disables his phone, then resets its password (asked first), then removes it
        await device_row.locator(".disable-device").click()
        await expect(page.locator("#messages")).to_contain_text("it no longer rings")
        await expect(device_row.locator(".badge.off")).to_have_text("no")
        await device_row.locator(".reset-password").click()
        await expect(page.locator("#confirm-text")).to_contain_text("The phone is logged out at once")
        await page.click("#confirm-button")
        await expect(page.locator("#sip-password")).not_to_be_empty()
        await expect(page.locator("#sip-realm")).to_have_text("istra")
        # the password goes to the clipboard in one click, to paste into the phone
        await page.click('button[data-copy="sip-password"]')
        await expect(page.locator("#copy-status")).to_have_text("Copied.")
        password = await page.locator("#sip-password").text_content()
        assert await page.evaluate("navigator.clipboard.readText()") == password
        await page.goto(f"{base_url}/admin-console/users/{bob.user.pk}/")
        await device_row.locator(".remove-device").click()
        await expect(page.locator("#confirm-text")).to_contain_text("can never register again")
        await page.click("#confirm-cancel")  # she changes her mind: nothing happened
        await expect(page.locator("#devices tr.device-row")).to_have_count(1)
        await device_row.locator(".remove-device").click()
        await page.click("#confirm-button")
        await expect(page.locator("#devices tr.device-row")).to_have_count(0)

        # when she sets a password for erin, created without one, erin can log in
        await page.goto(f"{base_url}/admin-console/users/{erin.pk}/")
        await expect(page.locator("#no-password")).to_be_visible()
        await page.click("#edit-user")
        await page.fill("#portal-password-password", "erins-new-secret-1")
        await page.fill("#portal-password-password_again", "erins-new-secret-1")
        await page.click("#portal-password-form button[type=submit]")
        await expect(page.locator("#messages")).to_contain_text("Erin can log in with the new password now.")
        erins = await (await browser.new_context()).new_page()
        await log_in(erins, base_url, "erin", "erins-new-secret-1")
        await erins.wait_for_url(f"{base_url}/me/")

        # when she disables erin (asked first), erin's next page sends her to log in
        await page.click("#disable-user")
        await expect(page.locator("#confirm-text")).to_contain_text("can no longer log in")
        await page.click("#confirm-button")
        await expect(page.locator("#user-disabled")).to_be_visible()
        await erins.goto(f"{base_url}/me/")
        await expect(erins).to_have_url(f"{base_url}/login/?next=/me/")

        # when she deletes erin, she reads first what goes with her
        await page.click("#delete-user")
        await expect(page.locator("#consequences")).to_contain_text("Extension 104 becomes free")
        await expect(page.locator("#consequences")).to_contain_text("1 phone is removed")
        await page.click("#confirm-button")
        await page.wait_for_url(f"{base_url}/admin-console/")
        await expect(page.locator("#messages")).to_contain_text("Erin is deleted.")
        await expect(page.locator('#users tr[data-username="erin"]')).to_have_count(0)
        assert not await asyncio.to_thread(_user_exists, "erin")


def test_alice_manages_users_and_phones_after_creating_them(
    web_server: str, alice: Person, bob: Person, carol: Person, acme: object
) -> None:
    erin, _ = voicemail_actions.create_user_with_mailbox(
        company=acme, username="erin", extension="104", first_name="Erin"
    )  # type: ignore[arg-type]
    asyncio.run(scenario(web_server, bob, erin))
