"""The benchmark's figures: the summary printed at the end and the dated section in docs/benchmarks.md."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
MARKER = "<!-- bench results: newest first. `make bench` inserts each new section just below this line. -->"

# Targets of the Stasis path relative to the plain-Dial baseline, on the same Asterisk, same run.
TARGET_SUSTAINED_RATIO = 0.5
TARGET_P50_DELTA_MS = 5.0
TARGET_P99_DELTA_MS = 15.0

HEADER = f"""# SIP load benchmark

`make bench` (that is `.venv/bin/python -m bench`) measures how many calls per second the platform
carries and how long call set-up takes, on the Stasis path (phone -> Asterisk -> our ARI bridge ->
phone) against a plain-Dial baseline on the same Asterisk in the same run. It needs nothing running:
it brings up and tears down an isolated platform of its own.

## Method

* **Platform**: database `istra_bench` (dropped and re-created, migrated), Asterisk instance `bench`
  (SIP UDP 127.0.0.1:5360, ARI 127.0.0.1:8388, RTP 25000-29999), ARI application `istra-bench`
  served by `manage.py run_bridge`, Redis database 14 (channels prefix `istra-bench`). Log level
  WARNING, `DJANGO_DEBUG=no` as in `docker-compose.yml`. The `run` and `test` instances are never
  touched.
* **Users**: company *Bench*, caller user ext 201 (device `bench-201`) and by default 500 callee users
  (ext 202 upwards, skipping the company's voicemail service number 555; devices `9202`...) made
  with `telephony.actions.users.create_user`. Several callees are
  needed because the platform treats a user who is already in a call as busy (no call waiting):
  with a single callee every call but one would be rejected. Callee device names are all digits
  because the `bench-baseline` context only matches `_X!`. Each callee AOR gets a static contact
  (ARI dynamic config) to one sipp UAS on 127.0.0.52:5090 that answers at once (180, 200) and holds
  the call until the BYE.
* **Callers**: sipp UACs on 127.0.0.51 (Stasis path), 127.0.0.54 (floor) and 127.0.0.53
  (baseline), same scenario (`bench/uac.xml`): INVITE -> 401 -> ACK -> INVITE with digest
  credentials -> 200 -> ACK, 0.5 s call, BYE. Stasis: device `bench-201` dials extension 202+i,
  through `from-device` -> `Stasis()` -> bridge. Baseline: endpoint `bench-base` (the same PJSIP
  objects as a device, context `bench-baseline`) dials the callee endpoint `9202+i` with plain
  `Dial(PJSIP/${{EXTEN}},10)`.
  Floor: endpoint `bench-floor` (context `bench-floor`) dials the same `9202+i` into
  `Stasis(istra-bench-floor)`, served by `bench/floor.py`, a minimal Stasis application with none
  of the platform (no database, routing, records or live events) that makes the same eight ARI
  requests a call as the bridge, with the same client and the call events of its event filter:
  what Asterisk's ARI costs by itself (its "bridge CPU" column is that application's CPU).
  Calls go round-robin over the callees. The sipp scenarios answer a re-INVITE during the call as
  a phone does (the Stasis path sends one to each leg after answer, see the findings).
* **Sustained rate**: steps of increasing calls/s (`-r`), each {{step_seconds}} s of calls (`-m` =
  rate x seconds, `-l` = 3 x rate), paths alternating at each rate; a path stops at its first failing
  step. A step passes when sipp exits 0 with every call successful and none failed, **and** the
  platform kept pace: answered calls came at >= 90 % of the offered rate (spread of the 200 OKs) and
  set-up time did not build up (median of the last quarter of the calls at most 100 ms above that
  of the first quarter: a growing queue means every call may still succeed during a short step,
  but not for long), and no channel was left on Asterisk. Between runs the benchmark waits until
  `GET /ari/channels` is empty (and, after a Stasis run, until every call record is written and
  closed).
* **Set-up time**: from the authenticated INVITE sent to its 200 OK received, by the microsecond
  timestamps of sipp's message trace (`-trace_msg`), percentiles computed in Python (linear
  interpolation), for 10 s of calls at 50 calls/s per path, and again at a light 20 calls/s, after
  a 20-call smoke test and a warm-up of each path: one call to every callee at 50 calls/s, so that
  the bridge's routing cache holds every callee, as in steady state (the cache empties whenever a
  setting changes; the warm-up run's own figures, in the table of every run, are those of calls
  whose callee was not cached yet). The per-step figures use sipp's own response-time measure
  (`start_rtd`/`rtd`, whole milliseconds).
* **Records**: every Stasis call must leave one `Call` row with outcome `answered`.
* **Targets**: Stasis sustained >= {TARGET_SUSTAINED_RATIO:.0%} of baseline; Stasis set-up p50 within
  +{TARGET_P50_DELTA_MS:g} ms and p99 within +{TARGET_P99_DELTA_MS:g} ms of baseline at 50 calls/s.
* **Voicemail deposits** (also `make bench BENCH_ARGS=--voicemail-only`): with a Celery worker
  (`--pool solo`) and an SMTP server (aiosmtpd, in the benchmark process) added to the platform,
  3 rounds of 10 concurrent deposits (`*86` + extension, no ringing) from 10 caller devices (the
  suite's SIP user agent `tests/sipua.py`) into 10 mailboxes with `notify=email_audio`: each caller
  waits for the `Message` row in state `recording`, sends 3 s of audio and hangs up. Measured from
  that hang-up: the row in state `stored` (what MyIstra lists; database polled every 10 ms) and the
  e-mail received by the SMTP server. Every deposit must leave one stored message of 3 +/- 0.5 s and
  one e-mail with one MP3 attachment. Target: p95 of both under 2 s.
* All traffic stays on loopback; sipp, Asterisk, the bridge, PostgreSQL and Redis share the
  machine's cores, as they do in production on a single box. Other work on the machine (another
  platform, a test run) lowers the figures: the load average before the run is recorded.

## Results

{MARKER}
"""


@dataclass
class PathFigures:
    sustained: int
    first_failure: int | None
    first_failure_why: str
    latency_ok: bool
    setup_p50: float | None
    setup_p99: float | None
    setup_samples: int
    setup_source: str = ""
    light_p50: float | None = None
    light_p99: float | None = None
    light_ok: bool = False


@dataclass
class RunRow:
    path: str
    kind: str
    rate: int
    calls: int
    successful: int
    failed: int
    passed: bool
    achieved: float
    p50: float | None
    p99: float | None
    backlog: float
    bridge_cpu_pct: float
    asterisk_cpu_pct: float
    foreign_cpu_pct: float
    machine_pct: float
    bridge_rss_mib: float
    records: str
    verdict: str = ""

    @classmethod
    def from_run(cls, item: Any, percentile: Callable[[list[float], float], float | None]) -> RunRow:
        r = item.result
        seconds = max(r.calls / item.rate, 0.001)
        records = ""
        if item.records:
            records = f"{item.records.get('total', 0)}/{item.records.get('outcome:answered', 0)}"
        return cls(
            path=item.path,
            kind=item.kind + (" (disturbed, repeated)" if item.superseded else ""),
            rate=item.rate,
            calls=r.calls,
            successful=r.successful,
            failed=r.failed,
            passed=item.passed,
            achieved=r.achieved_rate,
            p50=percentile(r.setup_ms, 50),
            p99=percentile(r.setup_ms, 99),
            backlog=r.backlog_ms,
            # CPU over the time calls were being placed, in % of one core.
            bridge_cpu_pct=100 * item.bridge_cpu / (r.wall_seconds or seconds),
            asterisk_cpu_pct=100 * item.asterisk_cpu / (r.wall_seconds or seconds),
            foreign_cpu_pct=100 * item.foreign_cpu / (r.wall_seconds or seconds),
            bridge_rss_mib=item.bridge_rss_kib / 1024,
            machine_pct=100 * item.machine_busy,
            records=records,
            verdict="pass"
            if item.passed
            else ("overloaded" if item.kind == "latency" and item.result.clean else "FAIL"),
        )


@dataclass
class Summary:
    started_at: dt.datetime
    elapsed: float
    nproc: int
    cpu_model: str
    load_before: tuple[float, float, float]
    args: argparse.Namespace
    paths: dict[str, PathFigures]
    runs: list[RunRow]
    stasis_calls_placed: int
    records: dict[str, int]
    bridge_rss_kib: int
    bridge_hwm_kib: int
    bridge_rss_start_kib: int
    callees: int
    revision: str = ""
    quiet_waited: float = 0.0
    notes: list[str] = field(default_factory=list)

    # --- verdicts ---------------------------------------------------------------------------------

    def comparable(self) -> bool:
        return "stasis" in self.paths and "baseline" in self.paths

    def ratio(self) -> float | None:
        if not self.comparable() or not self.paths["baseline"].sustained:
            return None
        return self.paths["stasis"].sustained / self.paths["baseline"].sustained

    def delta(self, which: str) -> float | None:
        if not self.comparable():
            return None
        s = getattr(self.paths["stasis"], which)
        b = getattr(self.paths["baseline"], which)
        return None if s is None or b is None else s - b

    def targets(self) -> list[tuple[str, str, bool | None]]:
        ratio, d50, d99 = self.ratio(), self.delta("setup_p50"), self.delta("setup_p99")
        return [
            (
                f"Stasis sustained >= {TARGET_SUSTAINED_RATIO:.0%} of baseline",
                "-" if ratio is None else f"{ratio:.0%}" + self._bounds(),
                None if ratio is None else ratio >= TARGET_SUSTAINED_RATIO,
            ),
            (
                f"set-up p50 <= baseline + {TARGET_P50_DELTA_MS:g} ms",
                "-" if d50 is None else f"{d50:+.1f} ms",
                None if d50 is None else d50 <= TARGET_P50_DELTA_MS,
            ),
            (
                f"set-up p99 <= baseline + {TARGET_P99_DELTA_MS:g} ms",
                "-" if d99 is None else f"{d99:+.1f} ms",
                None if d99 is None else d99 <= TARGET_P99_DELTA_MS,
            ),
        ]

    def floor_share(self) -> str:
        """The floor path's sustained rate as a share of the baseline's: how far any Stasis
        application with this client can go on this machine (not a target)."""
        floor, base = self.paths.get("floor"), self.paths.get("baseline")
        if floor is None or base is None or not base.sustained:
            return ""
        return (
            f"The floor path (a Stasis application doing nothing but the bridge's ARI requests) sustained "
            f"{floor.sustained}/s, {floor.sustained / base.sustained:.0%} of the baseline; the Stasis path "
            f"{self.paths['stasis'].sustained if 'stasis' in self.paths else 0}/s."
        )

    def _bounds(self) -> str:
        notes = [f"{name} limit not reached" for name, fig in self.paths.items() if fig.first_failure is None]
        return f" ({', '.join(notes)})" if notes else ""

    def light_deltas(self) -> tuple[float | None, float | None]:
        if not self.comparable():
            return None, None
        st, ba = self.paths["stasis"], self.paths["baseline"]
        d50 = None if st.light_p50 is None or ba.light_p50 is None else st.light_p50 - ba.light_p50
        d99 = None if st.light_p99 is None or ba.light_p99 is None else st.light_p99 - ba.light_p99
        return d50, d99

    def records_line(self) -> tuple[str, bool]:
        answered = self.records.get("outcome:answered", 0)
        total = self.records.get("total", 0)
        others = {
            k.split(":", 1)[1]: v
            for k, v in self.records.items()
            if k.startswith("outcome:") and k != "outcome:answered"
        }
        ok = (
            total == self.stasis_calls_placed
            and answered == self.stasis_calls_placed
            and not self.records.get("open")
        )
        text = (
            f"{self.stasis_calls_placed} Stasis calls placed, {total} Call rows, {answered} answered"
            + (f", other outcomes {others}" if others else "")
            + (f", {self.records.get('open')} still open" if self.records.get("open") else "")
            + (
                ""
                if ok
                else f" -- MISMATCH: {self.stasis_calls_placed - answered} calls without an answered record"
            )
        )
        return text, ok


def code_revision() -> str:
    """The commit measured, and whether files other than the benchmark's own were modified."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    others = [line for line in status if not line[3:].startswith(("bench/", "docs/benchmarks.md"))]
    return f"{head or 'unknown'}" + (f" with {len(others)} modified or new files" if others else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "**no**")


def _sustained(fig: PathFigures) -> str:
    if fig.first_failure is None:
        return f">= {fig.sustained}/s (no step failed)"
    return f"{fig.sustained}/s"


def _command(args: argparse.Namespace) -> str:
    from .__main__ import parse_args

    defaults = vars(parse_args([]))
    extra = [
        f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}")
        for k, v in vars(args).items()
        if defaults.get(k) != v and v not in (False, None, "")
    ]
    return "make bench" + (f" BENCH_ARGS='{' '.join(extra)}'" if extra else "")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _text_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    return [
        "  ".join(
            str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [headers, *rows]
    ]


def _md_table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    rule = ["--:" if i in right else "---" for i in range(len(headers))]
    return ["| " + " | ".join(r) + " |" for r in [headers, rule, *rows]]


def _path_rows(s: Summary, *, markdown: bool) -> tuple[list[str], list[list[str]]]:
    lat, light = s.args.latency_rate, s.args.light_rate
    headers = [
        "path",
        "sustained calls/s (zero failures, kept pace)",
        "first failing step",
        f"set-up p50 at {lat}/s",
        f"set-up p99 at {lat}/s",
    ]
    if light:
        headers += [f"set-up p50 at {light}/s", f"set-up p99 at {light}/s"]
    rows = []
    for name, fig in s.paths.items():
        fail = "none" if fig.first_failure is None else f"{fig.first_failure}/s ({fig.first_failure_why})"
        row = [name, _sustained(fig), fail, _ms(fig.setup_p50), _ms(fig.setup_p99)]
        if light:
            row += [_ms(fig.light_p50), _ms(fig.light_p99)]
        rows.append(row)
    if not markdown:
        headers[1] = "sustained"
    return headers, rows


RUN_HEADERS = [
    "path",
    "run",
    "rate/s",
    "calls",
    "ok",
    "failed",
    "answered/s",
    "p50 ms",
    "p99 ms",
    "build-up ms",
    "bridge CPU",
    "Asterisk CPU",
    "other CPU",
    "machine busy",
    "bridge RSS MiB",
    "records/answered",
    "verdict",
]


def _run_rows(s: Summary) -> list[list[str]]:
    return [
        [
            r.path,
            r.kind,
            str(r.rate),
            str(r.calls),
            str(r.successful),
            str(r.failed),
            f"{r.achieved:.0f}",
            _num(r.p50),
            _num(r.p99),
            f"{r.backlog:.0f}",
            f"{r.bridge_cpu_pct:.0f} %",
            f"{r.asterisk_cpu_pct:.0f} %",
            f"{r.foreign_cpu_pct:.0f} %",
            f"{r.machine_pct:.0f} %",
            f"{r.bridge_rss_mib:.0f}",
            r.records or "-",
            r.verdict,
        ]
        for r in s.runs
    ]


def _memory_line(s: Summary) -> str:
    return (
        f"{s.bridge_rss_start_kib / 1024:.1f} MiB after start-up, {s.bridge_rss_kib / 1024:.1f} MiB after "
        f"the runs (peak {s.bridge_hwm_kib / 1024:.1f} MiB)"
    )


def _setup_source(s: Summary) -> str:
    source = next(iter(s.paths.values())).setup_source if s.paths else ""
    return f"authenticated INVITE sent -> 200 OK received ({source}), {s.args.latency_seconds:g} s of calls"


def render_text(s: Summary) -> str:
    headers, rows = _path_rows(s, markdown=False)
    lines = [
        "",
        "=" * 100,
        f"SIP load benchmark, {s.started_at:%Y-%m-%d %H:%M %Z}: {s.nproc} x {s.cpu_model}",
        f"load average before: {s.load_before[0]:.2f}; {s.callees} callees; took {s.elapsed:.0f}s; "
        f"code {s.revision}",
        "",
        *_text_table(headers, rows),
        f"set-up: {_setup_source(s)}",
        "",
    ]
    for label, value, ok in s.targets():
        lines.append(f"  {label:45} {value:>12}  met: {_yes(ok).replace('*', '')}")
    light50, light99 = s.light_deltas()
    if light50 is not None and light99 is not None:
        lines.append(
            f"  (at {s.args.light_rate}/s the Stasis path adds {light50:+.1f} ms p50, {light99:+.1f} ms p99)"
        )
    if s.floor_share():
        lines.append(f"  {s.floor_share()}")
    text, _ = s.records_line()
    lines += ["", f"records: {text}", f"bridge memory (VmRSS): {_memory_line(s)}", ""]
    lines += _text_table(RUN_HEADERS, _run_rows(s))
    if s.notes:
        lines += ["", "notes:"] + [f"  - {n}" for n in s.notes]
    lines.append("=" * 100)
    return "\n".join(lines)


def render_markdown(s: Summary) -> str:
    headers, rows = _path_rows(s, markdown=True)
    load = " / ".join(f"{x:.2f}" for x in s.load_before)
    out = [
        f"### {s.started_at:%Y-%m-%d %H:%M %Z}",
        "",
        f"* Machine: {s.nproc} cores (`nproc`), {s.cpu_model}; load average before the run {load}"
        + (
            f"; waited {s.quiet_waited:.0f} s in all for other work on the machine to calm down"
            if s.quiet_waited
            else ""
        )
        + ".",
        f"* Command: `{_command(s.args)}` ({s.elapsed:.0f} s in all; {s.callees} callees; steps of "
        f"{s.args.step_seconds:g} s). Code: commit {s.revision}.",
        "",
        *_md_table(headers, rows, right=set(range(3, len(headers)))),
        "",
        f"Set-up time: {_setup_source(s)} per rate.",
        "",
        *_md_table(
            [f"target (set-up at {s.args.latency_rate}/s)", "measured", "met"],
            [[label, value, _yes(ok)] for label, value, ok in s.targets()],
        ),
    ]
    light50, light99 = s.light_deltas()
    if light50 is not None and light99 is not None:
        out += [
            "",
            f"At {s.args.light_rate}/s the Stasis path adds {light50:+.1f} ms (p50) and {light99:+.1f} ms "
            "(p99) to the baseline's set-up time.",
        ]
    if s.floor_share():
        out += ["", s.floor_share()]
    text, _ = s.records_line()
    out += [
        "",
        f"* Call records: {text}.",
        f"* Bridge resident memory (VmRSS): {_memory_line(s)}.",
        "",
        "<details><summary>Every sipp run (CPU in % of one core while the calls were placed; other CPU: "
        "processes that are not part of the benchmark)</summary>",
        "",
        *_md_table(RUN_HEADERS, _run_rows(s), right=set(range(2, 16))),
        "",
        "</details>",
    ]
    if s.notes:
        out += ["", "Notes:", ""] + [f"* {n}" for n in s.notes]
    return "\n".join(out) + "\n"


def write_docs(s: Summary, path: Path = DOCS, extra: str = "") -> Path:
    """Insert this run's section at the top of the results, keeping every earlier one; `extra` (the
    voicemail part's figures) is appended to the section."""
    section = render_markdown(s) + ("\n" + extra if extra else "")
    return _insert_section(section, s.args.step_seconds, path)


def write_voicemail_docs(
    started_at: dt.datetime,
    load_before: tuple[float, float, float],
    elapsed: float,
    args: argparse.Namespace,
    figures_markdown: str,
    path: Path = DOCS,
) -> Path:
    """A dated section of a voicemail-only run (`--voicemail-only`)."""
    load = " / ".join(f"{x:.2f}" for x in load_before)
    section = "\n".join(
        [
            f"### {started_at:%Y-%m-%d %H:%M %Z} (voicemail deposits only)",
            "",
            f"* Machine: {os.cpu_count() or 0} cores (`nproc`), {cpu_model()}; load average before the run "
            f"{load}.",
            f"* Command: `{_command(args)}` ({elapsed:.0f} s in all). Code: commit {code_revision()}.",
            "",
            figures_markdown,
        ]
    )
    return _insert_section(section, args.step_seconds, path)


def _insert_section(section: str, step_seconds: float, path: Path) -> Path:
    header = HEADER.replace("{step_seconds}", f"{step_seconds:g}")
    if path.exists():
        text = path.read_text()
        if MARKER in text:
            head, tail = text.split(MARKER, 1)
            tail = tail.lstrip("\n")
            text = head + MARKER + "\n\n" + section + ("\n" + tail if tail else "")
        else:
            text = text.rstrip("\n") + "\n\n" + MARKER + "\n\n" + section
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = header + "\n" + section
    path.write_text(text)
    return path
