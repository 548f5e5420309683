"""In Chromium, at a desktop's 1440x900 and a phone's 390x844 (and a small one's 360x740): every page
of the portals fits the screen (the document is no wider than the viewport: no sideways scrolling),
and axe-core, injected
into the page, finds no violation of WCAG 2.1 A or AA. The pages hold data (rules, messages, calls,
numbers, a site), so their tables are measured full."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.async_api import Page

from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.actions import sites as site_actions
from telephony.choices import RuleCondition, RuleDestination
from telephony.models import Device
from tests.personas import Person, record_call
from tests.voicemails import Recorder, leave_message

from .browser import chromium, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

# axe-core 4.11.0 from the npm registry (MPL-2.0), kept beside this test: tests/vendor/README.md.
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core-4.11.0.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844), "small phone": (360, 740)}


@pytest.fixture(autouse=True)
def no_side_effects_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The message is stored by this process: no lamp on a shared Asterisk, no job in the shared queue."""
    monkeypatch.setattr("voicemail.mwi.publish", Recorder())
    monkeypatch.setattr("voicemail.tasks.notify_new_message", Recorder())


@dataclass(frozen=True)
class Pages:
    """Every page, as (who opens it, path)."""

    paths: list[tuple[str, str]]


def _company_with_everything(alice: Person, bob: Person, carol: Person) -> Pages:
    company = alice.user.company
    assert company is not None
    rule = forwarding_actions.create_forwarding_rule(
        user=bob.user,
        label="Busy: to Carol",
        condition=RuleCondition.BUSY,
        destination=RuleDestination.NUMBER,
        destination_number="102",
    )
    speed_dial = dial_plan_actions.create_speed_dial(
        company=company, short_number="10", number="0142424242", label="Front desk"
    )
    barring = dial_plan_actions.create_barring_rule(company=company, direction="out", number_class="premium")
    number = dial_plan_actions.create_phone_number(
        company=company, number="0170000001", destination="user", user=bob.user
    )
    site = site_actions.create_site(company=company, name="Lyon", timezone="Europe/Paris")
    site_actions.set_user_site(user=carol.user, site=site)
    leave_message(
        bob, seconds=3, caller_name="Dan Durand with a rather long name", caller_number="0612345678"
    )
    now = timezone.now()
    for minutes in range(6):
        record_call(carol, bob, at=now - timedelta(minutes=10 + minutes), answered=minutes % 2 == 0)
    device = Device.objects.filter(user=bob.user).first()
    assert device is not None
    me = [
        "/me/",
        "/me/forwarding/",
        f"/me/forwarding/{rule.pk}/",
        f"/me/forwarding/{rule.pk}/delete/",
        "/me/settings/",
        "/me/voicemail/",
        "/directory/",
        "/directory/?q=nobody",
    ]
    admin = [
        "/admin-console/",
        f"/admin-console/users/{bob.user.pk}/",
        f"/admin-console/users/{bob.user.pk}/edit/",
        f"/admin-console/users/{bob.user.pk}/delete/",
        f"/admin-console/users/{bob.user.pk}/active/",
        f"/admin-console/devices/{device.pk}/reset-password/",
        f"/admin-console/devices/{device.pk}/delete/",
        "/admin-console/routing/",
        "/admin-console/routing/dial-codes/",
        "/admin-console/routing/speed-dials/",
        "/admin-console/routing/barring/",
        "/admin-console/routing/numbers/",
        f"/admin-console/routing/numbers/{number.pk}/delete/",
        f"/admin-console/routing/speed-dials/{speed_dial.pk}/",
        f"/admin-console/routing/barring/{barring.pk}/",
        f"/admin-console/routing/numbers/{number.pk}/",
        "/admin-console/sites/",
        f"/admin-console/sites/{site.pk}/",
        "/directory/",
        "/no-such-page/",
    ]
    return Pages(
        paths=[("", "/login/"), ("", "/password-reset/"), ("", "/password-reset/sent/")]
        + [("bob", path) for path in me]
        + [("bob", "/admin-console/")]  # a user opening the administrators' portal: 403
        + [("alice", path) for path in admin]
    )


async def _problems_of(page: Page, url: str) -> list[str]:
    await page.goto(url)
    await page.wait_for_load_state("networkidle")
    problems = []
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if widths[0] > widths[1]:
        wide = await page.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
                .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .slice(0, 3).map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)"""
        )
        problems.append(f"scrolls sideways: {widths[0]} px wide for {widths[1]} px ({', '.join(wide)})")
    await page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations.map((v) => ({
                id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }""",
        WCAG_21_AA,
    )
    problems += [f"{v['id']} ({v['help']}): {', '.join(v['nodes'])}" for v in violations]
    return problems


async def scenario(base_url: str, pages: Pages, viewport: tuple[int, int]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    async with chromium() as browser:
        contexts: dict[str, Page] = {}
        for who, path in pages.paths:
            if who not in contexts:
                # axe-core is injected as an inline script, which the pages' Content-Security-Policy refuses:
                # the test's own tool bypasses it (tests/e2e/test_web_security.py checks the pages under it).
                context = await browser.new_context(
                    viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=True
                )
                contexts[who] = await context.new_page()
                if who:
                    await log_in(contexts[who], base_url, who, lands="/**")
            problems = await _problems_of(contexts[who], f"{base_url}{path}")
            if problems:
                found[f"{who or 'anonymous'} {path}"] = problems
    return found


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_every_page_fits_the_screen_and_passes_wcag_21_aa(
    web_server: str, alice: Person, bob: Person, carol: Person, screen: str
) -> None:
    # given a company with something on every page
    pages = _company_with_everything(alice, bob, carol)

    # when each page is opened at this screen's size
    found = asyncio.run(scenario(web_server, pages, VIEWPORTS[screen]))

    # then none scrolls sideways or fails WCAG 2.1 AA
    assert found == {}, "\n".join(f"{page}:\n  " + "\n  ".join(problems) for page, problems in found.items())
