"""What the portals' browser tests share: logging in through the login form."""

from __future__ import annotations

from playwright.async_api import Page

from tests.personas import PORTAL_PASSWORD


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
