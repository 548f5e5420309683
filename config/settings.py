"""One settings module, driven by the environment; defaults suit the local services of a dev machine."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Development defaults of the secrets: refused when debug is off (see the end of this module).
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
DEV_ARI_PASSWORD = "dev-only-ari-password"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "directory",
    "telephony",
    "voicemail",
    "sipguard",
    "portal",
    "ari_bridge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.HtmxRedirectMiddleware",
    "portal.middleware.BrandedErrorsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# HTTPS (production, behind a TLS proxy named in TRUSTED_PROXIES): redirect plain HTTP, mark
# cookies Secure, tell browsers to come back over HTTPS only (HSTS).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
# Asterisk fetches voicemail audio over the internal network, in plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^internal/"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Every page's Content-Security-Policy (portal.middleware): the portals load their own scripts and
# styles only, and talk to their own server (HTTP and the live WebSocket).
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/istra"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "directory.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNELS_PREFIX", "istra")},
    }
}
# Sign-in brute-force protection (directory/login_guard.py): failures within the window lock an
# account from an address, or an address for every account.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 30)
LOGIN_FAILURE_WINDOW = float(env_str("LOGIN_FAILURE_WINDOW", "900"))
# The reverse proxies in front of the web server (addresses or networks): only their
# X-Forwarded-For names the client (config/serve.py, directory/login_guard.py). None by default.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
# The largest request body the web server takes in (config/limits.py): two greeting uploads.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 41 * 1024 * 1024)
# How long an API token is valid (directory/tokens.py).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30)
# Where the platform operators' Django admin is served; empty: nowhere.
DJANGO_ADMIN_PATH = env_str("DJANGO_ADMIN_PATH", "django-admin/")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "directory.tokens.HashedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "telephony.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Istra telephony API",
    "DESCRIPTION": "Users, extensions, devices and call history of your company.",
    "VERSION": "1.0.0",
    # One name for the presence states, whether a field holds one (settings) or a list (rules).
    "ENUM_NAME_OVERRIDES": {"PresenceEnum": "telephony.choices.Presence"},
}

# --- Asterisk -------------------------------------------------------------------------------------
# The project runs its own Asterisk 22 in a Debian sid chroot (bin/install-asterisk) unless
# ASTERISK_MANAGED=no, in which case ARI_URL points at an external one configured from
# templates/asterisk/ by hand.
ASTERISK_MANAGED = env_bool("ASTERISK_MANAGED", True)
ASTERISK_CHROOT = env_str("ASTERISK_CHROOT", "/var/cache/istra/asterisk-sid")
ASTERISK_INSTANCE = env_str("ASTERISK_INSTANCE", "run")
ASTERISK_SERVER_ID = env_str("ASTERISK_SERVER_ID", "ast1")
ASTERISK_SIP_HOST = env_str("ASTERISK_SIP_HOST", "127.0.0.1")
ASTERISK_SIP_PORT = env_int("ASTERISK_SIP_PORT", 5060)
ASTERISK_RTP_START = env_int("ASTERISK_RTP_START", 10000)
ASTERISK_RTP_END = env_int("ASTERISK_RTP_END", 14999)
SIP_REALM = env_str("SIP_REALM", "istra")
ARI_URL = env_str("ARI_URL", "http://127.0.0.1:8088")
ARI_USERNAME = env_str("ARI_USERNAME", "istra")
ARI_PASSWORD = env_str("ARI_PASSWORD", DEV_ARI_PASSWORD)
ARI_APP = env_str("ARI_APP", "istra")
# How long a REST request to ARI may take before the bridge gives up on it.
ARI_REQUEST_TIMEOUT = float(env_str("ARI_REQUEST_TIMEOUT", "5"))
# Requests travel over the event WebSocket (Asterisk 22.4+); "no" sends each over HTTP instead.
ARI_REST_OVER_WEBSOCKET = env_bool("ARI_REST_OVER_WEBSOCKET", True)
ARI_RECONNECT_MAX_DELAY = float(env_str("ARI_RECONNECT_MAX_DELAY", "5"))
# Phones may also register over TLS (SIP over TLS, with SRTP) on this port; 0: no TLS transport.
ASTERISK_SIP_TLS_PORT = env_int("ASTERISK_SIP_TLS_PORT", 5061)
# The TLS certificate and key Asterisk presents; empty: a self-signed pair the setup generates in the
# instance's folder (see README, "Protections").
ASTERISK_TLS_CERT = env_str("ASTERISK_TLS_CERT", "")
ASTERISK_TLS_KEY = env_str("ASTERISK_TLS_KEY", "")
# The carrier's SIP peer (PSTN trunk), recognised by its address; empty: no trunk.
CARRIER_ADDRESS = env_str("CARRIER_ADDRESS", "")
CARRIER_PORT = env_int("CARRIER_PORT", 5060)
# A shared secret the carrier sends in a header on each INVITE (CARRIER_SECRET_HEADER: value): set,
# a call from the carrier's address without it is not taken as the carrier's (see README).
CARRIER_SECRET_HEADER = env_str("CARRIER_SECRET_HEADER", "X-Istra-Trunk")
CARRIER_SECRET = env_str("CARRIER_SECRET", "")

# --- SIP guard (sipguard, R3) ------------------------------------------------------------------------
# `manage.py run_sipguard` reads Asterisk's security log and blocks, with nftables, a source that
# earns SIPGUARD_MAX_FAILURES strikes (failed or unanswered authentications, unknown accounts)
# within SIPGUARD_WINDOW seconds, for SIPGUARD_BLOCK_SECONDS. The carrier's address and the
# SIPGUARD_TRUSTED addresses or networks (loopback by default: the platform's own processes) are
# never blocked.
SIPGUARD_ENABLED = env_bool("SIPGUARD_ENABLED", True)
SIPGUARD_MAX_FAILURES = env_int("SIPGUARD_MAX_FAILURES", 20)
SIPGUARD_WINDOW = float(env_str("SIPGUARD_WINDOW", "600"))
SIPGUARD_BLOCK_SECONDS = env_int("SIPGUARD_BLOCK_SECONDS", 3600)
SIPGUARD_TRUSTED = env_list("SIPGUARD_TRUSTED", "127.0.0.1")
# Every other source's SIP datagrams are rate-limited by nftables: SIPGUARD_RATE a second after a
# burst of SIPGUARD_BURST (0: no limit). The guard reads the log in milliseconds, a brute-forcer on a
# fast link tries a password a millisecond: the limit keeps it under 20 attempts before its block.
# An office whose many phones share one address may need more, or its address in SIPGUARD_TRUSTED.
SIPGUARD_RATE = env_int("SIPGUARD_RATE", 10)
SIPGUARD_BURST = env_int("SIPGUARD_BURST", 20)
# The security log to read; empty: the managed Asterisk instance's own.
SIPGUARD_LOG = env_str("SIPGUARD_LOG", "")
# The carrier's country: a called number it sends in national form (0150000100) is +33150000100.
CARRIER_COUNTRY_CODE = env_str("CARRIER_COUNTRY_CODE", "33")
# The bridge caches routing lookups (ari_bridge/directory.py); turn off when several Asterisk
# servers share the same phones.
BRIDGE_ROUTING_CACHE = env_bool("BRIDGE_ROUTING_CACHE", True)
# The bridge skips live events for users and groups no browser listens to (telephony/listeners.py).
BRIDGE_SKIP_UNLISTENED = env_bool("BRIDGE_SKIP_UNLISTENED", True)
# How often the bridge asks Asterisk which phones are registered, for the directory's "unavailable"
# phone state (seconds; 0: never).
BRIDGE_AVAILABILITY_POLL = float(env_str("BRIDGE_AVAILABILITY_POLL", "5"))
# The bridge runs on uvloop (libuv) rather than asyncio's own event loop.
BRIDGE_UVLOOP = env_bool("BRIDGE_UVLOOP", True)
# How long the bridge lets call-record writes gather into one transaction (ms): fewer commits under load.
BRIDGE_RECORD_LINGER_MS = float(env_str("BRIDGE_RECORD_LINGER_MS", "5"))
# Seconds a remote terminal that answered has to press a key before its leg is dropped (A7).
REMOTE_CONFIRM_TIMEOUT = env_int("REMOTE_CONFIRM_TIMEOUT", 15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Voicemail ------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "voicemail@istra.invalid")
# Wrong PINs in a row, from phones other than the owner's, that lock a mailbox's remote access.
VOICEMAIL_MAX_PIN_FAILURES = env_int("VOICEMAIL_MAX_PIN_FAILURES", 10)
VOICEMAIL_SMS_BACKEND = env_str("VOICEMAIL_SMS_BACKEND", "voicemail.notifiers.log_sms")
# Where Asterisk fetches greetings and messages to play them (res_http_media_cache): the web server.
PLATFORM_INTERNAL_URL = env_str("PLATFORM_INTERNAL_URL", "http://127.0.0.1:8000")

# --- Production refuses development secrets -----------------------------------------------------
if not DEBUG:
    _dev_secrets = [
        name
        for name, value, dev in (
            ("DJANGO_SECRET_KEY", SECRET_KEY, DEV_SECRET_KEY),
            ("ARI_PASSWORD", ARI_PASSWORD, DEV_ARI_PASSWORD),
        )
        if not value or value == dev
    ]
    if _dev_secrets:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG is off but {' and '.join(_dev_secrets)} still "
            f"{'have' if len(_dev_secrets) > 1 else 'has'} the development default: set "
            f"{'them' if len(_dev_secrets) > 1 else 'it'} in the environment."
        )
