"""What the portals' browser tests share: a Chromium, and logging in through the login form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, Page, async_playwright

from tests.personas import PORTAL_PASSWORD

from .conftest import CHROMIUM_ARGS


async def log_in(
    page: Page, base_url: str, username: str, password: str = PORTAL_PASSWORD, *, lands: str = ""
) -> None:
    """Log in through the form; with `lands`, wait for the page the portal then opens ("/me/")."""
    await page.goto(f"{base_url}/login/")
    await page.fill("#login-form input[name=username]", username)
    await page.fill("#login-form input[name=password]", password)
    await page.click("#login-form button[type=submit]")
    if lands:
        await page.wait_for_url(f"{base_url}{lands}")


@asynccontextmanager
async def chromium(*args: str) -> AsyncIterator[Browser]:
    """The system's Chromium, headless, closed afterwards."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, *args]
        )
        try:
            yield browser
        finally:
            await browser.close()
