"""What the portals' browser tests share: a Chromium, logging in through the login form, and waiting
on the page under its Content-Security-Policy."""

from __future__ import annotations

import asyncio
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


async def wait_until_true(page: Page, predicate: str, arg: object = None, timeout: float = 10.0) -> None:
    """Wait until the JavaScript function `predicate` (given `arg`) returns true in the page.

    Playwright's wait_for_function compiles its predicate with `new Function` inside the page, which
    the portals' Content-Security-Policy (no 'unsafe-eval') refuses; page.evaluate is not subject to it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await page.evaluate(predicate, arg):
        if loop.time() > deadline:
            raise TimeoutError(f"{predicate} still false after {timeout}s")
        await asyncio.sleep(0.05)
