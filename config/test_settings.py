"""The test suite's override: its own Asterisk instance, ports, ARI application and Redis database,
so that `make test` never touches a platform started by `make run` on the same machine."""

import os

# ISTRA_TEST_SLOT=1, 2, ... gives a second run of the suite on the same machine its own Asterisk,
# ports, database and Redis database, so two checkouts can run their end-to-end tests at once.
SLOT = int(os.environ.get("ISTRA_TEST_SLOT", "0") or 0)
_suffix = f"-{SLOT}" if SLOT else ""

os.environ.setdefault("ASTERISK_INSTANCE", f"test{_suffix}")
os.environ.setdefault("ASTERISK_SIP_PORT", str(5260 + 10 * SLOT))
os.environ.setdefault("ASTERISK_SIP_TLS_PORT", str(5261 + 10 * SLOT))
os.environ.setdefault("ASTERISK_RTP_START", str(20000 + 5000 * SLOT))
os.environ.setdefault("ASTERISK_RTP_END", str(24999 + 5000 * SLOT))
os.environ.setdefault("ARI_URL", f"http://127.0.0.1:{8288 + 10 * SLOT}")
os.environ.setdefault("ARI_APP", f"istra-test{_suffix}")
os.environ.setdefault("ARI_RECONNECT_MAX_DELAY", "1")
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{15 - SLOT}")
os.environ.setdefault("CHANNELS_PREFIX", f"istra-test{_suffix}")
os.environ.setdefault("ASTERISK_SERVER_ID", "ast-test")
if SLOT:
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/istra_slot{SLOT}")
# The e2e tests play the carrier from this loopback address, listening on CARRIER_PORT.
os.environ.setdefault("CARRIER_ADDRESS", f"127.0.0.{77 + SLOT}")
os.environ.setdefault("CARRIER_PORT", "5070")
os.environ.setdefault("REMOTE_CONFIRM_TIMEOUT", "4")
# Phones registering and leaving show in the directory within a second (telephony/availability.py).
os.environ.setdefault("BRIDGE_AVAILABILITY_POLL", "1")
# The e2e web server (tests/e2e/conftest.py) is where the test Asterisk fetches voicemail audio.
WEB_PORT = 8765 + 10 * SLOT
os.environ.setdefault("PLATFORM_INTERNAL_URL", f"http://127.0.0.1:{WEB_PORT}")
os.environ.setdefault(
    "MEDIA_ROOT", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", f"test-media{_suffix}")
)
os.environ.setdefault("EMAIL_PORT", str(8025 + 10 * SLOT))
# The e2e bridge runs with debug off, which refuses the development secrets (config/settings.py).
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ARI_PASSWORD", "test-only-ari-password")
# Two calls of three wrong PINs lock a mailbox's remote access (tests/e2e/test_voicemail_lock.py).
os.environ.setdefault("VOICEMAIL_MAX_PIN_FAILURES", "6")

from .settings import *  # noqa: E402, F403

TEST_SLOT = SLOT
# telephony.clock: an end-to-end test may freeze the bridge's routing clock by writing this file.
FAKE_CLOCK_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", f"test-clock{_suffix}.txt")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
