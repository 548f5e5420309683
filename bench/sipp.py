"""sipp (Debian's sip-tester) as the benchmark's callers and callee, and the reading of its results."""

from __future__ import annotations

import csv
import datetime as dt
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .platform import ProcessBook, wait_until

SIPP = "/usr/bin/sipp"
HERE = Path(__file__).resolve().parent
UAC_SCENARIO = HERE / "uac.xml"
UAS_SCENARIO = HERE / "uas.xml"


@dataclass(frozen=True)
class CallerPath:
    """One way of placing calls: who calls (digest credentials) and what it dials, from where."""

    name: str
    username: str
    password: str
    numbers: list[str]
    local_ip: str
    local_port: int
    media_port: int


@dataclass
class UacResult:
    rate: int
    calls: int
    exit_code: int | None
    created: int = 0
    successful: int = 0
    failed: int = 0
    wall_seconds: float = 0.0
    setup_ms: list[float] = field(default_factory=list)
    # Calls per second actually placed: successful setups over the time they spanned.
    achieved_rate: float = 0.0
    # How much the set-up time built up during the run: median of the last quarter of the calls
    # minus median of the first quarter (ms). A queue that keeps growing means the rate is not held.
    backlog_ms: float = 0.0
    timed_out: bool = False
    setup_source: str = "sipp rtd (ms)"
    errors: str = ""
    work_dir: Path | None = None

    @property
    def clean(self) -> bool:
        return (
            not self.timed_out
            and self.exit_code == 0
            and self.failed == 0
            and self.successful == self.calls
            and self.created == self.calls
        )


class Uas:
    """The callee: one sipp UAS answering every call at once and holding it until the BYE."""

    def __init__(self, ip: str, port: int, media_port: int, work_dir: Path, book: ProcessBook) -> None:
        self.ip, self.port, self.media_port = ip, port, media_port
        self.work_dir = work_dir
        self.book = book
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        args = [
            SIPP,
            "-sf",
            str(UAS_SCENARIO),
            "-i",
            self.ip,
            "-p",
            str(self.port),
            "-mi",
            self.ip,
            "-mp",
            str(self.media_port),
            "-nostdin",
            "-trace_err",
            "-error_file",
            str(self.work_dir / "errors.log"),
            # A call whose BYE never comes (Asterisk failed it) must not live for ever in the UAS.
            "-recv_timeout",
            "60000",
            "-max_recv_loops",
            "10000",
            "-max_sched_loops",
            "10000",
        ]
        with open(self.work_dir / "uas.out", "wb") as out:
            self.process = subprocess.Popen(
                args,
                cwd=self.work_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.book.add(self.process.pid, "sipp UAS")
        time.sleep(0.3)
        if self.process.poll() is not None:
            raise RuntimeError(f"sipp UAS exited at start; see {self.work_dir / 'uas.out'}")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.book.remove(self.process.pid)
        self.process = None


def write_injection_file(path: Path, numbers: list[str]) -> None:
    path.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))


def run_uac(
    caller: CallerPath,
    *,
    server: str,
    rate: int,
    calls: int,
    work_dir: Path,
    book: ProcessBook,
    extra_timeout: float = 40.0,
    trace_messages: bool = False,
    scenario: Path = UAC_SCENARIO,
    limit: int | None = None,
) -> UacResult:
    """Place `calls` calls at `rate` calls/s and wait for the last to finish; read sipp's statistics.

    Set-up times come from sipp's response-time measure (rtd "setup": authenticated INVITE sent ->
    200 OK received), which sipp keeps in whole milliseconds; with `trace_messages` they come from
    the microsecond timestamps of sipp's message trace instead (same two events).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    injection = work_dir / "numbers.csv"
    write_injection_file(injection, caller.numbers)
    stat_file = work_dir / "stat.csv"
    limit = limit or max(50, rate * 3)
    budget = calls / rate + extra_timeout
    args = [
        SIPP,
        server,
        "-sf",
        str(scenario),
        "-inf",
        str(injection),
        "-set",
        "caller",
        caller.username,
        "-au",
        caller.username,
        "-ap",
        caller.password,
        "-i",
        caller.local_ip,
        "-p",
        str(caller.local_port),
        "-mi",
        caller.local_ip,
        "-mp",
        str(caller.media_port),
        "-r",
        str(rate),
        "-rp",
        "1000",
        "-m",
        str(calls),
        "-l",
        str(limit),
        "-recv_timeout",
        "15000",
        "-timeout",
        f"{int(budget)}s",
        "-timeout_error",
        "-nostdin",
        "-trace_stat",
        "-stf",
        str(stat_file),
        "-fd",
        "1",
        "-trace_rtt",
        "-rtt_freq",
        "1",
        "-trace_err",
        "-error_file",
        str(work_dir / "errors.log"),
        "-max_recv_loops",
        "10000",
        "-max_sched_loops",
        "10000",
    ]
    messages = work_dir / "messages.log"
    if trace_messages:
        args += ["-trace_msg", "-message_file", str(messages)]
    (work_dir / "command.txt").write_text(" ".join(args) + "\n")
    started = time.monotonic()
    with open(work_dir / "uac.out", "wb") as out:
        process = subprocess.Popen(
            args,
            cwd=work_dir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    book.add(process.pid, f"sipp UAC {caller.name}")
    result = UacResult(rate=rate, calls=calls, exit_code=None, work_dir=work_dir)
    try:
        result.exit_code = process.wait(budget + 15)
    except subprocess.TimeoutExpired:
        result.timed_out = True
        _stop(process)
    except BaseException:  # interrupted: leave no caller behind
        _stop(process)
        raise
    finally:
        book.remove(process.pid)
    result.wall_seconds = time.monotonic() - started
    _read_stats(result, stat_file)
    _read_rtt(result, work_dir)
    if trace_messages and messages.exists():
        precise = setup_times_from_trace(messages)
        if precise:
            result.setup_ms = precise
            result.setup_source = "sipp -trace_msg (us)"
    errors = work_dir / "errors.log"
    if errors.exists():
        result.errors = errors.read_text(errors="replace")[-4000:]
    return result


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _read_stats(result: UacResult, stat_file: Path) -> None:
    if not stat_file.exists():
        found = sorted(stat_file.parent.glob("uac_*_.csv"))
        if not found:
            return
        stat_file = found[-1]
    with open(stat_file, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    if not rows:
        return
    last = rows[-1]

    def number(key: str) -> int:
        try:
            return int(float(last.get(key) or 0))
        except ValueError:
            return 0

    result.created = number("TotalCallCreated")
    result.successful = number("SuccessfulCall(C)")
    result.failed = number("FailedCall(C)")


def _read_rtt(result: UacResult, work_dir: Path) -> None:
    """sipp -trace_rtt: one line per measured response time: date_ms;response_time_ms;rtd_no."""
    stamps: list[float] = []
    series: list[tuple[float, float]] = []
    for path in sorted(work_dir.glob("*_rtt.csv")):
        with open(path, newline="") as handle:
            for row in csv.reader(handle, delimiter=";"):
                if len(row) < 2:
                    continue
                try:
                    stamp, value = float(row[0]), float(row[1])
                except ValueError:
                    continue  # the header
                stamps.append(stamp)
                series.append((stamp, value))
                result.setup_ms.append(value)
    if len(stamps) > 1:
        stamps.sort()
        span = (stamps[-1] - stamps[0]) / 1000
        if span > 0:
            result.achieved_rate = (len(stamps) - 1) / span
    if len(series) >= 8:
        series.sort()
        quarter = len(series) // 4
        first = sorted(v for _, v in series[:quarter])
        last = sorted(v for _, v in series[-quarter:])
        result.backlog_ms = last[len(last) // 2] - first[len(first) // 2]


_TRACE_HEAD = re.compile(r"^-{10,} (\d{4}-\d\d-\d\d[ \t]\d\d:\d\d:\d\d\.\d+)\s*$", re.M)


@dataclass(frozen=True)
class TracedMessage:
    """One message of a sipp -trace_msg file."""

    stamp: float  # seconds (wall clock; only differences mean anything)
    sent: bool
    first_line: str
    headers: dict[str, str]


def traced_messages(path: Path) -> Iterator[TracedMessage]:
    """The messages of a sipp -trace_msg file, in order."""
    text = path.read_text(errors="replace")
    heads = list(_TRACE_HEAD.finditer(text))
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        body = text[head.end() : end].lstrip("\n")
        direction, _, message = body.partition("\n")
        # Local wall-clock time; only differences are used, so any fixed zone will do.
        when = dt.datetime.strptime(head.group(1).replace("\t", " ") + " +0000", "%Y-%m-%d %H:%M:%S.%f %z")
        lines = [line.strip() for line in message.strip().splitlines()]
        if not lines:
            continue
        headers = {}
        for line in lines[1:]:
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        yield TracedMessage(when.timestamp(), "sent" in direction, lines[0], headers)


def setup_times_from_trace(path: Path) -> list[float]:
    """INVITE (CSeq 2, the authenticated one) sent -> its 200 OK received, per call, in ms."""
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    for message in traced_messages(path):
        if message.headers.get("cseq") != "2 INVITE":
            continue
        call_id = message.headers.get("call-id", "")
        if message.sent and message.first_line.startswith("INVITE "):
            sent.setdefault(call_id, message.stamp)  # a retransmission keeps the first
        elif not message.sent and message.first_line.startswith("SIP/2.0 200"):
            answered.setdefault(call_id, message.stamp)
    return [(answered[c] - sent[c]) * 1000 for c in answered if c in sent]


def wait_port_free(ip: str, port: int, timeout: float = 5) -> bool:
    import socket

    def free() -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((ip, port))
            except OSError:
                return False
            return True

    return bool(wait_until(free, timeout, 0.1))
