"""Helpers for the browser tests (Playwright, Chromium)."""

from __future__ import annotations

import asyncio

from playwright.async_api import Page


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
