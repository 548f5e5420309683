"""The benchmark's own isolated platform, described by environment variables read by config/settings.py.

`apply()` must run before Django is set up: settings are read once, at import. The values are
forced, not defaulted, so that a shell prepared for `make run` or `make test` cannot point the
benchmark at another platform's Asterisk, database or ARI application.
"""

from __future__ import annotations

import os

DATABASE_NAME = "istra_bench"
ADMIN_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"

BENCH_ENV: dict[str, str] = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "ASTERISK_INSTANCE": "bench",
    "ASTERISK_SIP_PORT": "5360",
    "ASTERISK_RTP_START": "25000",
    "ASTERISK_RTP_END": "29999",
    "ARI_URL": "http://127.0.0.1:8388",
    "ARI_APP": "istra-bench",
    "ASTERISK_SERVER_ID": "ast-bench",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "CHANNELS_PREFIX": "istra-bench",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}",
    "LOG_LEVEL": "WARNING",
    # The bench Asterisk is always the one this process manages.
    "ASTERISK_MANAGED": "yes",
    # As deployed (docker-compose.yml): with DEBUG on, Django keeps every query of every database
    # connection in memory (up to 9000 each), which inflates the bridge's memory and costs CPU.
    "DJANGO_DEBUG": "no",
    # Debug off refuses the development secrets (config/settings.py): the bench has its own.
    "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production",
    "ARI_PASSWORD": "bench-only-ari-password",
    # Voicemail audio the bench stores (its voicemail part) stays out of the checkout's var/media.
    "MEDIA_ROOT": "/tmp/istra-bench/media",
}

# Variables whose value in the caller's shell would leak into the bench platform's settings.
CLEARED = ("ASTERISK_SIP_HOST",)


def apply() -> dict[str, str]:
    """Force the bench platform's variables into this process's environment; returns them."""
    for name in CLEARED:
        os.environ.pop(name, None)
    os.environ.update(BENCH_ENV)
    return dict(BENCH_ENV)
