"""Whose phones can ring (the directory's "unavailable"), watched by polling Asterisk's registrations."""

from __future__ import annotations

import asyncio
import logging

from telephony import availability, events

from .client import AriClient, AriError, ConnectionLost
from .orm import db

logger = logging.getLogger(__name__)


async def watch_availability(client: AriClient, every: float) -> None:
    """Every `every` seconds, ask Asterisk which SIP phones are registered (one request for all);
    the users whose phones changed have their reachability told to their company's directories
    (telephony/availability.py). Polled rather than subscribed to: endpoint events would bring
    every channel event of every phone into the application's queue a second time."""
    known: dict[str, bool] = {}  # each endpoint seen: whether it could ring
    while True:
        try:
            endpoints = await client.request("GET", "/endpoints/PJSIP", timeout=5)
            online = availability.online_endpoints(endpoints or [])
            now = {str(e.get("resource")): str(e.get("resource")) in online for e in endpoints or []}
            # New phones (offline until they register), phones whose state changed, phones removed.
            changed = {name for name in now.keys() | known.keys() if now.get(name) != known.get(name)}
            known = now
            if changed:
                await db(tell_availability, changed, online)
        except (AriError, ConnectionLost, TimeoutError, OSError) as exc:
            logger.info("could not check which phones are registered: %s", exc)
        except Exception:
            logger.exception("availability check failed")
        await asyncio.sleep(every)


def tell_availability(changed: set[str], online: set[str]) -> None:
    users = availability.users_of_endpoints(changed)
    unavailable = availability.unavailable_users(users, online)
    events.publish_reachability({user_id: user_id not in unavailable for user_id in users})
