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


# What ffmpeg may open: local files only. An uploaded playlist (HLS, concat) naming http://, ftp://
# or other protocols' URLs would have the server fetch them.
INPUT_OPTIONS = ["-protocol_whitelist", "file"]


def _ffmpeg(
    data: bytes, *, output_options: list[str], suffix: str, max_seconds: float | None = None
) -> bytes:
    """Convert `data` (any format ffmpeg reads) with `output_options`; CalledProcessError if it can't.

    With `max_seconds`, decoding stops there: a two-hour upload costs no more than the limit (the
    result, at most that long, tells the caller it was too long)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "input"
        target = Path(tmp) / f"output{suffix}"
        source.write_bytes(data)
        limit = ["-t", f"{max_seconds:g}"] if max_seconds is not None else []
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                *INPUT_OPTIONS,
                "-i",
                str(source),
                *limit,
                *output_options,
                str(target),
            ],
            check=True,
            timeout=60,
        )
        return target.read_bytes()


def wav_to_mp3(data: bytes) -> bytes:
    """The message as MP3 for e-mail (libmp3lame, VBR quality 5)."""
    return _ffmpeg(data, output_options=["-codec:a", "libmp3lame", "-q:a", "5"], suffix=".mp3")


def to_phone_wav(data: bytes, *, max_seconds: float | None = None) -> bytes:
    """Any audio a browser uploads, as 8 kHz mono 16-bit WAV that Asterisk plays without transcoding;
    decoded up to `max_seconds` at most."""
    return _ffmpeg(
        data,
        output_options=["-ar", "8000", "-ac", "1", "-sample_fmt", "s16"],
        suffix=".wav",
        max_seconds=max_seconds,
    )
