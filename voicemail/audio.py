"""Audio helpers: WAV durations, and conversions made by a real encoder (Debian's ffmpeg)."""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave
from pathlib import Path


def wav_duration_ms(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as wav:
        return int(wav.getnframes() * 1000 / wav.getframerate())


def _ffmpeg(data: bytes, *, output_options: list[str], suffix: str) -> bytes:
    """Convert `data` (any format ffmpeg reads) with `output_options`; CalledProcessError if it can't."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "input"
        target = Path(tmp) / f"output{suffix}"
        source.write_bytes(data)
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source), *output_options, str(target)],
            check=True,
            timeout=60,
        )
        return target.read_bytes()


def wav_to_mp3(data: bytes) -> bytes:
    """The message as MP3 for e-mail (libmp3lame, VBR quality 5)."""
    return _ffmpeg(data, output_options=["-codec:a", "libmp3lame", "-q:a", "5"], suffix=".mp3")


def to_phone_wav(data: bytes) -> bytes:
    """Any audio a browser uploads, as 8 kHz mono 16-bit WAV that Asterisk plays without transcoding."""
    return _ffmpeg(data, output_options=["-ar", "8000", "-ac", "1", "-sample_fmt", "s16"], suffix=".wav")
