"""The test suite's override: its own Asterisk instance, ports, ARI application and Redis database,
so that `make test` never touches a platform started by `make run` on the same machine."""

import os

os.environ.setdefault("ASTERISK_INSTANCE", "test")
os.environ.setdefault("ASTERISK_SIP_PORT", "5260")
os.environ.setdefault("ASTERISK_RTP_START", "20000")
os.environ.setdefault("ASTERISK_RTP_END", "24999")
os.environ.setdefault("ARI_URL", "http://127.0.0.1:8288")
os.environ.setdefault("ARI_APP", "istra-test")
os.environ.setdefault("ARI_RECONNECT_MAX_DELAY", "1")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CHANNELS_PREFIX", "istra-test")
os.environ.setdefault("ASTERISK_SERVER_ID", "ast-test")
# The e2e tests play the carrier from this loopback address.
os.environ.setdefault("CARRIER_ADDRESS", "127.0.0.77")
# The e2e web server (tests/e2e/conftest.py) is where the test Asterisk fetches voicemail audio.
os.environ.setdefault("PLATFORM_INTERNAL_URL", "http://127.0.0.1:8765")
os.environ.setdefault(
    "MEDIA_ROOT", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test-media")
)
os.environ.setdefault("EMAIL_PORT", "8025")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
