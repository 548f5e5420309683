"""Uploads cannot be used against the server (J2): a body past the cap is refused before it is read,
the audio decoder stops at the length it needs, and it opens local files only (no URL an uploaded
playlist names)."""

from __future__ import annotations

import asyncio
import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.limits import BodySizeLimit
from voicemail.audio import to_phone_wav, wav_duration_ms


def two_hour_mp3(tmp_path: Path) -> bytes:
    target = tmp_path / "long.mp3"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
         "-t", "7200", "-b:a", "8k", str(target)],
        check=True,
    )  # fmt: skip
    return target.read_bytes()


def test_a_two_hour_mp3_is_decoded_only_up_to_the_limit(tmp_path: Path) -> None:
    data = two_hour_mp3(tmp_path)

    started = time.monotonic()
    wav = to_phone_wav(data, max_seconds=61)
    elapsed = time.monotonic() - started

    assert 60_000 < wav_duration_ms(wav) <= 61_000
    assert elapsed < 5


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[int]:
    Recorder.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_an_uploaded_playlist_cannot_make_the_server_fetch_a_url(http_server: int) -> None:
    playlist = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10.0,\nhttp://127.0.0.1:{http_server}/secret.ts\n#EXT-X-ENDLIST\n"
    ).encode()

    with pytest.raises(subprocess.CalledProcessError):
        to_phone_wav(playlist)

    assert Recorder.hits == []


# --- the body cap (config/limits.py) ---------------------------------------------------------------


def run_app(headers: list[tuple[bytes, bytes]], chunks: list[bytes], limit: int) -> tuple[int, int]:
    """A request through the cap to an app that reads the whole body: (status, chunks read)."""
    read = 0
    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(BodySizeLimit(app, limit)(scope, receive, send))
    return sent[0]["status"], read


def test_a_body_announced_too_large_is_refused_before_any_of_it_is_read() -> None:
    status, read = run_app([(b"content-length", b"1000000000")], [b"x" * 10] * 3, limit=100)
    assert (status, read) == (413, 0)


def test_a_body_without_length_is_refused_as_soon_as_it_grows_past_the_cap() -> None:
    status, read = run_app([], [b"x" * 60] * 100, limit=100)
    assert (status, read) == (413, 2)


def test_a_body_within_the_cap_goes_through() -> None:
    assert run_app([(b"content-length", b"120")], [b"x" * 60] * 2, limit=100 * 1024) == (200, 2)
