"""Voicemail deposit benchmark: hang-up -> message stored (listed in MyIstra) and -> e-mail handed to SMTP.

On the bench platform (its bridge already running) it starts a Celery worker and an SMTP server
(aiosmtpd, in this process), creates mailbox users with `notify=email_audio` and one caller device per
concurrent deposit, then runs rounds of concurrent deposits (`*86<extension>`: straight to the
mailbox, no ringing). Each caller waits for the 200 OK, then for the `Message` row in state
`recording`, sends `seconds` of audio (RTP at 50 packets/s) and hangs up. From that hang-up it
measures when the row turns `stored` (DB polled every 10 ms) and when the e-mail reaches the SMTP
server. Everything it starts is stopped in `finally` blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import platform as pf
from .runner import Context, percentile, say

TARGET_P95_SECONDS = 2.0
STORED_POLL_SECONDS = 0.01
MAILBOX_PASSWORD = "bench-vm-sip-pw"
SETTLE_TIMEOUT = 30.0  # per round, for every message stored and every e-mail received


@dataclass
class Deposit:
    round: int
    extension: str
    address: str
    mailbox_id: int
    message_id: uuid.UUID | None = None
    hung_up: float | None = None  # time.monotonic() when the caller hung up
    stored_at: float | None = None
    duration_ms: int | None = None
    email_at: float | None = None
    mp3_parts: int = 0
    mp3_seconds: float | None = None
    error: str = ""

    @property
    def stored_delay(self) -> float | None:
        return None if self.stored_at is None or self.hung_up is None else self.stored_at - self.hung_up

    @property
    def email_delay(self) -> float | None:
        return None if self.email_at is None or self.hung_up is None else self.email_at - self.hung_up


@dataclass
class VoicemailFigures:
    rounds: int
    concurrency: int
    seconds: float
    deposits: list[Deposit] = field(default_factory=list)
    emails_received: int = 0
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)

    def delays(self, which: str) -> list[float]:
        values = [getattr(d, which) for d in self.deposits]
        return [v for v in values if v is not None]

    def metrics(self) -> list[tuple[str, float | None, float | None, float | None, bool | None]]:
        rows = []
        for label, which in (
            ("hang-up -> message stored (listed in MyIstra)", "stored_delay"),
            ("hang-up -> e-mail handed to SMTP", "email_delay"),
        ):
            values = self.delays(which)
            p95 = percentile(values, 95)
            complete = len(values) == len(self.deposits) and bool(values)
            met = None if p95 is None else (p95 < TARGET_P95_SECONDS and complete)
            rows.append((label, percentile(values, 50), p95, max(values) if values else None, met))
        return rows

    def mismatches(self) -> list[str]:
        low, high = (self.seconds - 0.5) * 1000, (self.seconds + 0.5) * 1000
        problems = []
        for d in self.deposits:
            what = []
            if d.error:
                what.append(d.error)
            if d.stored_at is None:
                what.append("no stored message")
            elif d.duration_ms is None or not low <= d.duration_ms <= high:
                what.append(f"stored message of {d.duration_ms} ms")
            if d.email_at is None:
                what.append("no e-mail")
            elif d.mp3_parts != 1:
                what.append(f"{d.mp3_parts} MP3 attachments")
            elif d.mp3_seconds is not None and abs(d.mp3_seconds - self.seconds) > 0.5:
                what.append(f"MP3 of {d.mp3_seconds:.2f} s")
            if what:
                problems.append(f"round {d.round + 1} ext {d.extension}: {', '.join(what)}")
        expected = len(self.deposits)
        if self.emails_received != expected:
            problems.append(f"{self.emails_received} e-mails received for {expected} deposits")
        return problems

    def counts_line(self) -> str:
        stored = [d for d in self.deposits if d.stored_at is not None]
        durations = [d.duration_ms for d in stored if d.duration_ms is not None]
        mailed = [d for d in self.deposits if d.email_at is not None and d.mp3_parts == 1]
        span = f" of {min(durations) / 1000:.2f}-{max(durations) / 1000:.2f} s" if durations else ""
        problems = self.mismatches()
        return (
            f"{len(self.deposits)} deposits, {len(stored)} stored messages{span}, {len(mailed)} e-mails "
            f"with one MP3 attachment ({self.emails_received} e-mails received in all); "
            + (f"{len(problems)} MISMATCHES" if problems else "no mismatch")
        )


# --- SMTP server -------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: the arrival time, recipients and content of every message (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[tuple[float, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        arrived = time.monotonic()
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        with self.lock:
            self.arrivals.append((arrived, [a.lower() for a in envelope.rcpt_tos], content))
        return "250 Message accepted for delivery"

    def for_address(self, address: str) -> list[tuple[float, bytes]]:
        with self.lock:
            return [(t, c) for t, tos, c in self.arrivals if address.lower() in tos]

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Celery worker -----------------------------------------------------------------------------------


class WorkerProcess:
    """`celery -A config worker --pool solo` on the bench platform, as a subprocess with its own log."""

    def __init__(self, env: dict[str, str], run_dir: Path, book: pf.ProcessBook) -> None:
        self.env = env
        self.book = book
        self.log_path = run_dir / "celery.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self.log_path.write_text("")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "INFO",  # for its "ready." line
                    "--without-gossip",
                    "--without-mingle",
                    "--purge",
                ],
                cwd=pf.ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process
        self.book.add(process.pid, "celery worker")

        def ready() -> bool:
            return process.poll() is not None or "ready." in self.log_path.read_text(errors="replace")

        pf.wait_until(ready, timeout, 0.1)
        if process.poll() is not None:
            raise pf.BenchError(f"the Celery worker exited at start; see {self.log_path}")
        if "ready." not in self.log_path.read_text(errors="replace"):
            raise pf.BenchError(f"the Celery worker was not ready within {timeout}s; see {self.log_path}")

    def stop(self, timeout: float = 15) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # Its own session: stop the worker and anything it forked (pgid == pid).
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.book.remove(self.process.pid)
        self.process = None


# --- users -----------------------------------------------------------------------------------------


@dataclass
class Users:
    mailboxes: list[tuple[str, str, int]]  # (extension, e-mail address, mailbox id)
    callers: list[tuple[str, str]]  # (SIP username, password)


def create_users(company_id: int, concurrency: int) -> Users:
    """`concurrency` mailbox users (notify=email_audio, distinct addresses) and as many caller devices,
    on extensions of free hundreds (801... and 901... unless the callees reach there)."""
    from directory.models import Company
    from telephony.actions.users import create_user
    from telephony.models import Extension
    from voicemail.choices import Notify
    from voicemail.models import Mailbox

    company = Company.objects.get(pk=company_id)
    taken = {
        int(n)
        for n in Extension.objects.filter(company=company).values_list("number", flat=True)
        if n.isdigit()
    }
    base = max(800, (max(taken, default=0) // 100 + 1) * 100)
    reserved = {str(getattr(company, "voicemail_number", "") or "")}
    result = Users([], [])
    for i in range(concurrency):
        extension = str(base + 1 + i)
        assert extension not in reserved, f"extension {extension} is the voicemail service number"
        address = f"vm-{extension}@bench.example"
        user, _ = create_user(
            company=company,
            username=f"bench-vm-{extension}",
            extension=extension,
            first_name="Mailbox",
            last_name=extension,
            email=address,
            with_device=False,
        )
        Mailbox.objects.filter(user=user).update(notify=Notify.EMAIL_AUDIO)
        mailbox = Mailbox.objects.get(user=user)
        result.mailboxes.append((extension, address, mailbox.id))
    for i in range(concurrency):
        extension = str(base + 101 + i)
        assert extension not in reserved, f"extension {extension} is the voicemail service number"
        _, credentials = create_user(
            company=company,
            username=f"bench-vm-caller-{extension}",
            extension=extension,
            first_name="Caller",
            last_name=extension,
            sip_password=MAILBOX_PASSWORD,
        )
        assert credentials is not None
        result.callers.append((credentials.username, MAILBOX_PASSWORD))
    return result


# --- database polls (in threads: the ORM is synchronous) -------------------------------------------


def wait_recording(mailbox_id: int, known: set[uuid.UUID], timeout: float) -> uuid.UUID | None:
    from django.db import connection

    from voicemail.choices import MessageState
    from voicemail.models import Message

    def recording() -> uuid.UUID | None:
        ids = Message.objects.filter(mailbox_id=mailbox_id, state=MessageState.RECORDING).values_list(
            "id", flat=True
        )
        return next((i for i in ids if i not in known), None)

    try:
        found: uuid.UUID | None = pf.wait_until(recording, timeout, STORED_POLL_SECONDS)
        return found
    finally:
        connection.close()


def message_ids(mailbox_id: int) -> set[uuid.UUID]:
    from django.db import connection

    from voicemail.models import Message

    try:
        return set(Message.objects.filter(mailbox_id=mailbox_id).values_list("id", flat=True))
    finally:
        connection.close()


class StoredPoller(threading.Thread):
    """Polls the database every 10 ms for the watched messages in state `stored`; notes when each
    was first seen so (time.monotonic(), right after the query returned)."""

    def __init__(self) -> None:
        super().__init__(name="stored-poller", daemon=True)
        self.lock = threading.Lock()
        self.pending: dict[uuid.UUID, Deposit] = {}
        self.halt = threading.Event()
        self.failure: BaseException | None = None

    def watch(self, deposit: Deposit) -> None:
        assert deposit.message_id is not None
        with self.lock:
            self.pending[deposit.message_id] = deposit

    def idle(self) -> bool:
        with self.lock:
            return not self.pending

    def run(self) -> None:
        from django.db import connection

        from voicemail.choices import MessageState
        from voicemail.models import Message

        try:
            while not self.halt.is_set():
                with self.lock:
                    ids = list(self.pending)
                if ids:
                    rows = list(
                        Message.objects.filter(id__in=ids, state=MessageState.STORED).values_list(
                            "id", "duration_ms"
                        )
                    )
                    now = time.monotonic()
                    with self.lock:
                        for message_id, duration_ms in rows:
                            deposit = self.pending.pop(message_id, None)
                            if deposit is not None:
                                deposit.stored_at = now
                                deposit.duration_ms = duration_ms
                self.halt.wait(STORED_POLL_SECONDS)
        except BaseException as exc:  # noted, reported by the round
            self.failure = exc
        finally:
            connection.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(10)


# --- the deposits ----------------------------------------------------------------------------------


async def deposit(ua: Any, d: Deposit, seconds: float, poller: StoredPoller) -> None:
    call = None
    try:
        known = await asyncio.to_thread(message_ids, d.mailbox_id)
        call = await ua.invite(f"*86{d.extension}")
        await call.wait_status(200, timeout=15)
        d.message_id = await asyncio.to_thread(wait_recording, d.mailbox_id, known, 30)
        if d.message_id is None:
            d.error = "the recording did not start within 30 s"
            return
        poller.watch(d)
        target = call.rtp_sent + int(seconds * 50)
        while call.rtp_sent < target:
            await asyncio.sleep(0.02)
        d.hung_up = time.monotonic()
        await call.hangup()
        call = None
    except Exception as exc:
        d.error = d.error or f"{type(exc).__name__}: {exc}"
    finally:
        if call is not None:
            with contextlib.suppress(Exception):
                await call.hangup()


def mp3_seconds(data: bytes) -> float | None:
    if not shutil.which("ffprobe"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".mp3") as handle:
        handle.write(data)
        handle.flush()
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", handle.name],
            capture_output=True,
            text=True,
            timeout=30,
        )
    try:
        return float(out.stdout.strip())
    except ValueError:
        return None


def collect_emails(deposits: list[Deposit], inbox: Inbox, round_index: int) -> None:
    """The round's e-mail of each deposit: the (round+1)-th one to its address (rounds do not overlap)."""
    for d in deposits:
        arrivals = inbox.for_address(d.address)
        if len(arrivals) <= round_index:
            continue
        arrived, content = arrivals[round_index]
        d.email_at = arrived
        parts = [p for p in email.message_from_bytes(content).walk() if p.get_content_type() == "audio/mpeg"]
        d.mp3_parts = len(parts)
        if len(parts) == 1:
            payload = parts[0].get_payload(decode=True)
            if isinstance(payload, bytes):
                d.mp3_seconds = mp3_seconds(payload)


async def drive(users: Users, inbox: Inbox, figures: VoicemailFigures) -> None:
    from django.conf import settings

    from tests.sipua import SipUA

    loop = asyncio.get_running_loop()
    # One thread per concurrent deposit waiting on the database, and some spare.
    executor = ThreadPoolExecutor(max_workers=figures.concurrency + 4)
    loop.set_default_executor(executor)
    server = ("127.0.0.1", int(settings.ASTERISK_SIP_PORT))
    phones: list[Any] = []
    try:
        for username, password in users.callers:
            ua = await SipUA.create(username, password, server=server)
            phones.append(ua)
            status = await ua.register()
            if status != 200:
                raise pf.BenchError(f"caller {username} could not register: {status}")
        for round_index in range(figures.rounds):
            deposits = [
                Deposit(round_index, extension, address, mailbox_id)
                for extension, address, mailbox_id in users.mailboxes
            ]
            figures.deposits += deposits
            poller = StoredPoller()
            poller.start()
            try:
                await asyncio.gather(
                    *(deposit(ua, d, figures.seconds, poller) for ua, d in zip(phones, deposits, strict=True))
                )

                def settled(
                    ds: list[Deposit] = deposits, r: int = round_index, p: StoredPoller = poller
                ) -> bool:
                    return p.idle() and all(len(inbox.for_address(d.address)) > r for d in ds)

                await asyncio.to_thread(pf.wait_until, settled, SETTLE_TIMEOUT, 0.05)
            finally:
                poller.stop()
            if poller.failure is not None:
                figures.notes.append(f"round {round_index + 1}: the database poll failed: {poller.failure}")
            await asyncio.to_thread(collect_emails, deposits, inbox, round_index)
            stored = [d.stored_delay for d in deposits if d.stored_delay is not None]
            mailed = [d.email_delay for d in deposits if d.email_delay is not None]
            say(
                f"voicemail round {round_index + 1}/{figures.rounds}: {len(stored)}/{len(deposits)} stored "
                f"(max {max(stored, default=0):.2f}s), {len(mailed)}/{len(deposits)} e-mailed "
                f"(max {max(mailed, default=0):.2f}s)"
                + "".join(f"; ext {d.extension}: {d.error}" for d in deposits if d.error)
            )
            await asyncio.to_thread(pf.wait_no_channels, 10)
    finally:
        for ua in phones:
            try:
                await asyncio.wait_for(ua.unregister(), 5)
            except Exception:
                pass
            finally:
                await ua.close()
        executor.shutdown(wait=False)


def run(ctx: Context, *, rounds: int, concurrency: int, seconds: float) -> VoicemailFigures:
    """The voicemail part, on the bench platform set up by runner.setup (bridge running)."""
    from aiosmtpd.controller import Controller

    assert ctx.provisioned is not None
    started = time.monotonic()
    figures = VoicemailFigures(rounds=rounds, concurrency=concurrency, seconds=seconds)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    worker = WorkerProcess(
        {**ctx.env, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}, ctx.run_dir, ctx.book
    )
    try:
        controller.start()
        say(f"voicemail: SMTP server on 127.0.0.1:{port}; Celery worker: start")
        t0 = time.monotonic()
        worker.start()
        say(f"voicemail: Celery worker ready in {time.monotonic() - t0:.1f}s; log {worker.log_path}")
        users = create_users(ctx.provisioned.company_id, concurrency)
        say(
            f"voicemail: mailboxes ext {users.mailboxes[0][0]}-{users.mailboxes[-1][0]} (e-mail with audio), "
            f"{len(users.callers)} caller devices; {rounds} rounds of {concurrency} concurrent "
            f"{seconds:g} s deposits"
        )
        asyncio.run(drive(users, inbox, figures))
        figures.emails_received = inbox.count()
    finally:
        try:
            worker.stop()
        finally:
            controller.stop()
    figures.elapsed = time.monotonic() - started
    return figures


# --- report ----------------------------------------------------------------------------------------


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _met(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "**no**")


def title(f: VoicemailFigures) -> str:
    return (
        f"Voicemail deposits: {f.rounds} rounds of {f.concurrency} concurrent {f.seconds:g} s deposits "
        f"({len(f.deposits)} in all), {f.elapsed:.0f} s"
    )


def render_text(f: VoicemailFigures) -> str:
    lines = ["", "=" * 100, title(f), ""]
    lines.append(f"  {'metric':48} {'p50':>8} {'p95':>8} {'max':>8}  target p95 < {TARGET_P95_SECONDS:g} s")
    for label, p50, p95, top, met in f.metrics():
        lines.append(
            f"  {label:48} {_s(p50):>8} {_s(p95):>8} {_s(top):>8}  met: {_met(met).replace('*', '')}"
        )
    lines += ["", f"  {f.counts_line()}"]
    lines += [f"  - {m}" for m in f.mismatches()]
    lines += [f"  note: {n}" for n in f.notes]
    lines.append("=" * 100)
    return "\n".join(lines)


def render_markdown(f: VoicemailFigures) -> str:
    out = [
        f"{title(f)}; e-mail with the MP3 attached (`notify=email_audio`), Celery worker `--pool solo`.",
        "",
        "| metric | p50 | p95 | max | target p95 | met |",
        "| --- | --: | --: | --: | --- | --- |",
    ]
    for label, p50, p95, top, met in f.metrics():
        out.append(
            f"| {label} | {_s(p50)} | {_s(p95)} | {_s(top)} | < {TARGET_P95_SECONDS:g} s | {_met(met)} |"
        )
    out += ["", f"* Voicemail: {f.counts_line()}."]
    out += [f"  * {m}" for m in f.mismatches()]
    out += [f"* {n}" for n in f.notes]
    return "\n".join(out) + "\n"
