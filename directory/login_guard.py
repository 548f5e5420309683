"""Brute-force protection of sign-in (J2): the portal's login page and the API's token endpoint.

Failed attempts are counted in Redis, in two ways:

* per account *and* address: `LOGIN_MAX_FAILURES` failures within `LOGIN_FAILURE_WINDOW` seconds
  lock that account from that address. Someone guessing a password from one place cannot lock the
  user out from everywhere else;
* per address alone: `LOGIN_MAX_FAILURES_PER_ADDRESS` failures within the window, over any accounts,
  lock that address (password spraying: one password tried on many accounts).

While locked, an attempt is refused before its password is checked, so a right guess teaches the
guesser nothing. The lock lifts by itself as the failures age out of the window. A successful sign-in
clears its account's failures from that address (a user who mistyped a few times starts afresh).

The address is the connection's (`REMOTE_ADDR`). X-Forwarded-For is believed only from a reverse
proxy named in `TRUSTED_PROXIES` (config/serve.py has uvicorn do the same): from anyone else, a
header rotated at every attempt would make each attempt come from a new address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
import uuid
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

PREFIX = "istra:login-failures"


def _now() -> float:
    return time.time()


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request: HttpRequest | Any) -> str:
    """The address a request comes from: the connection's, or, from a trusted proxy, the last
    address of X-Forwarded-For that is not itself a trusted proxy."""
    meta = getattr(request, "META", {}) or {}
    address = str(meta.get("REMOTE_ADDR") or "unknown")
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    if forwarded and _trusted(address):
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            address = hop
            if not _trusted(hop):
                break
    return address


def lock_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class LoginGuard:
    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._client: redis.Redis | None = None

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self._url or settings.REDIS_URL)
        return self._client

    @staticmethod
    def _account_key(username: str, address: str) -> str:
        # The login is hashed: keys never show who was attacked, and any text makes a valid key.
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]
        return f"{PREFIX}:account:{digest}:{address}"

    @staticmethod
    def _address_key(address: str) -> str:
        return f"{PREFIX}:address:{address}"

    def _limits(self, username: str, address: str) -> list[tuple[str, int]]:
        return [
            (self._account_key(username, address), settings.LOGIN_MAX_FAILURES),
            (self._address_key(address), settings.LOGIN_MAX_FAILURES_PER_ADDRESS),
        ]

    def retry_after(self, username: str, address: str) -> int:
        """Seconds before this account may try again from this address; 0 when it may now."""
        now, window = _now(), settings.LOGIN_FAILURE_WINDOW
        wait = 0.0
        for key, limit in self._limits(username, address):
            # The limit-th most recent failure: the lock lifts when it leaves the window.
            recent = self.client.zrangebyscore(key, now - window, "+inf", withscores=True)
            if len(recent) >= limit:
                wait = max(wait, float(recent[-limit][1]) + window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now, window = _now(), settings.LOGIN_FAILURE_WINDOW
        pipe = self.client.pipeline()
        for key, _limit in self._limits(username, address):
            pipe.zadd(key, {uuid.uuid4().hex: now})
            pipe.zremrangebyscore(key, "-inf", now - window)
            pipe.expire(key, math.ceil(window))
        pipe.execute()
        wait = self.retry_after(username, address)
        if wait:
            logger.warning(
                "sign-in locked for %r from %s for %ds after repeated failures", username, address, wait
            )

    def succeeded(self, username: str, address: str) -> None:
        self.client.delete(self._account_key(username, address))

    def reset_all(self) -> None:
        """Forget every failure (tests)."""
        keys = list(self.client.scan_iter(match=f"{PREFIX}:*", count=1000))
        if keys:
            self.client.delete(*keys)


guard = LoginGuard()
