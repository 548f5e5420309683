"""Audio helpers: WAV durations, and MP3 for e-mail made with a real encoder (ffmpeg's libmp3lame)."""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave
from pathlib import Path


def wav_duration_ms(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as wav:
        return int(wav.getnframes() * 1000 / wav.getframerate())


def wav_to_mp3(data: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.wav"
        target = Path(tmp) / "out.mp3"
        source.write_bytes(data)
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(source),
                "-codec:a",
                "libmp3lame",
                "-q:a",
                "5",
                str(target),
            ],
            check=True,
            timeout=60,
        )
        return target.read_bytes()


def to_phone_wav(data: bytes) -> bytes:
    """Any audio a browser uploads, as 8 kHz mono 16-bit WAV that Asterisk plays without transcoding."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "upload"
        target = Path(tmp) / "out.wav"
        source.write_bytes(data)
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(source),
                "-ar",
                "8000",
                "-ac",
                "1",
                "-sample_fmt",
                "s16",
                str(target),
            ],
            check=True,
            timeout=60,
        )
        return target.read_bytes()
