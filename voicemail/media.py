"""Signed, expiring URLs through which Asterisk fetches audio from the platform's storage.

Asterisk plays http(s) media with res_http_media_cache; the web server answers /internal/media/<token>.wav
with the file the token names. Tokens are signed with the secret key and expire after an hour.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db.models.fields.files import FieldFile

from .models import Mailbox, Message

SALT = "istra.voicemail.media"
MAX_AGE = 3600
KINDS = ("message", "name", "greeting")


def media_url(kind: str, object_id: object) -> str:
    assert kind in KINDS
    token = signing.dumps({"k": kind, "id": str(object_id)}, salt=SALT, compress=True)
    return f"{settings.PLATFORM_INTERNAL_URL}/internal/media/{token}.wav"


def resolve(token: str) -> FieldFile | None:
    """The audio file a token names, or None when the token is forged, expired, or the file gone."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    kind, object_id = data.get("k"), data.get("id")
    if kind == "message":
        message = Message.objects.filter(pk=object_id).first()
        return message.audio if message and message.audio else None
    mailbox = Mailbox.objects.filter(pk=object_id).first()
    if mailbox is None:
        return None
    audio = mailbox.name_audio if kind == "name" else mailbox.greeting_audio
    return audio if audio else None
