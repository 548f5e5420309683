"""Voicemail messages for the tests: real WAV recordings, left the way the bridge leaves them."""

from __future__ import annotations

import io
import math
import struct
import subprocess
import uuid
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from voicemail import actions
from voicemail.models import Message

from .personas import Person

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def tone_wav(seconds: float, *, rate: int = 8000, frequency: float = 440.0) -> bytes:
    """A 440 Hz tone as 8 kHz mono 16-bit WAV, the format Asterisk records voicemail in."""
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * n / rate))) for n in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples)
    return buffer.getvalue()


def tone_ogg(seconds: float) -> bytes:
    """The same tone as Ogg Vorbis (a format browsers record in), made by ffmpeg."""
    source = f"sine=frequency=440:duration={seconds}"
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", source,
         "-c:a", "libvorbis", "-f", "ogg", "pipe:1"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip


def media_duration(data: bytes, tmp_path: Path, suffix: str) -> float:
    """A file's duration as ffprobe decodes it, in seconds."""
    path = tmp_path / f"probe-{uuid.uuid4().hex}{suffix}"
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    return float(out.strip())


def leave_message(
    callee: Person,
    *,
    seconds: float = 5,
    caller_number: str = "0612345678",
    caller_name: str = "Dan Durand",
    at: datetime = T0,
) -> Message:
    """A caller leaves `callee` a message: the bridge notes the recording, then stores what Asterisk made."""
    mailbox = actions.ensure_mailbox(user=callee.user)
    recording_name = f"vm-{uuid.uuid4().hex}"
    actions.begin_message(
        mailbox_id=mailbox.pk,
        recording_name=recording_name,
        asterisk_server="ast-test",
        caller_number=caller_number,
        caller_name=caller_name,
        caller_user_id=None,
        call_id=None,
        at=at,
    )
    message = actions.store_message(recording_name=recording_name, audio=tone_wav(seconds))
    assert message is not None
    return message


@dataclass
class Recorder:
    """Stands in for a function with side effects elsewhere (ARI, Celery) and notes each call."""

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.calls.append((args, kwargs))
        return True

    def delay(self, *args: Any, **kwargs: Any) -> None:
        self(*args, **kwargs)
