"""The benchmark run: set up the bench platform, measure both paths, check the records, tear down."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import platform as pf
from . import profile, report
from .sipp import CallerPath, UacResult, Uas, run_uac, wait_port_free

logger = logging.getLogger("bench")

SIP_SERVER = "127.0.0.1:5360"
UAS_IP, UAS_PORT, UAS_MEDIA = "127.0.0.52", 5090, 6200
STASIS_IP, STASIS_PORT, STASIS_MEDIA = "127.0.0.51", 5071, 6100
BASE_IP, BASE_PORT, BASE_MEDIA = "127.0.0.53", 5073, 6300
FLOOR_IP, FLOOR_PORT, FLOOR_MEDIA = "127.0.0.54", 5074, 6400
DRAIN_TIMEOUT = 45.0
# A step whose set-up time grows by more than this from its first to its last quarter is building a
# queue: the platform is not keeping up with the rate, even if every call eventually succeeds.
BACKLOG_LIMIT_MS = 100.0
# A run during which processes that are not part of the benchmark used more than this share of one
# core was disturbed by other work on the machine: it is repeated once.
FOREIGN_CPU_LIMIT = 0.25
# Before each run, wait (at most this long per run, and this long in all) for other work on the
# machine to calm down below FOREIGN_CPU_LIMIT: the benchmark's own processes are idle between runs.
QUIET_WAIT_PER_RUN = 20.0
QUIET_WAIT_TOTAL = 120.0


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Run:
    """One sipp UAC run of a path and what the platform did meanwhile."""

    path: str
    kind: str  # smoke, latency, step
    rate: int
    result: UacResult
    bridge_cpu: float = 0.0  # CPU seconds
    asterisk_cpu: float = 0.0
    machine_busy: float = 0.0  # fraction of all cores busy
    foreign_cpu: float = 0.0  # CPU seconds of processes not part of the benchmark
    superseded: bool = False  # disturbed by other work on the machine, and repeated
    bridge_rss_kib: int = 0  # after the run
    drain_seconds: float = 0.0
    leftover_channels: int = 0
    records: dict[str, int] = field(default_factory=dict)  # Call rows written for this run (Stasis path)
    records_ok: bool | None = None

    @property
    def passed(self) -> bool:
        return self.result.clean and self.leftover_channels == 0 and self.rate_held and not self.backlog

    @property
    def backlog(self) -> bool:
        return self.result.backlog_ms > BACKLOG_LIMIT_MS

    @property
    def rate_held(self) -> bool:
        # sipp places calls at the asked rate unless its call limit (-l) throttles it, which happens
        # only when calls pile up: a step that could not hold its rate is not sustained.
        return self.result.calls < 2 * self.rate or self.result.achieved_rate >= 0.9 * self.rate


@dataclass
class Context:
    args: argparse.Namespace
    env: dict[str, str]
    run_dir: Path
    book: pf.ProcessBook
    provisioned: pf.Provisioned | None = None
    bridge: pf.BridgeProcess | None = None
    floor: pf.FloorProcess | None = None  # the floor path's minimal Stasis application
    asterisk: Any = None
    uas: Uas | None = None
    paths: dict[str, CallerPath] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    stasis_calls_placed: int = 0
    bridge_rss_start: int = 0
    quiet_waited: float = 0.0
    counter: int = 0
    notes: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def run(args: argparse.Namespace, env: dict[str, str]) -> int:
    pf.check_isolated()
    stamp = dt.datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
    run_dir = pf.STATE_DIR / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(args=args, env=env, run_dir=run_dir, book=pf.ProcessBook())
    say(f"run folder {run_dir}")
    started = time.monotonic()
    started_at = dt.datetime.now().astimezone()
    load_before = os.getloadavg()
    status = 1
    summary: report.Summary | None = None

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # A terminated run must still tear its platform down (the finally below).
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    voicemail_figures: Any = None
    try:
        setup(ctx)
        if not args.voicemail_only:
            measure(ctx)
            summary = finish(ctx, started_at, load_before, time.monotonic() - started)
        if not args.no_voicemail:
            voicemail_figures = run_voicemail(ctx)
            if voicemail_figures is None and args.voicemail_only:
                raise pf.BenchError("the voicemail benchmark failed")
        status = 0
    except KeyboardInterrupt:
        say("interrupted")
        status = 130
    except Exception as exc:
        logger.exception("benchmark failed")
        say(f"FAILED: {exc}")
    finally:
        teardown(ctx)
    extra = ""
    if voicemail_figures is not None:
        from . import voicemail

        extra = voicemail.render_markdown(voicemail_figures)
    if summary is not None:
        print(report.render_text(summary), flush=True)
        if not args.no_docs:
            path = report.write_docs(summary, extra=extra)
            say(f"results added to {path}")
    if voicemail_figures is not None:
        print(voicemail.render_text(voicemail_figures), flush=True)
        if summary is None and not args.no_docs:
            path = report.write_voicemail_docs(
                started_at, load_before, time.monotonic() - started, args, extra
            )
            say(f"results added to {path}")
    if ctx.quiet_waited:
        say(f"waited {ctx.quiet_waited:.0f}s in all for other work on the machine")
    say(f"done in {time.monotonic() - started:.0f}s; logs in {run_dir}")
    return status


def run_voicemail(ctx: Context) -> Any:
    """The voicemail deposit part (bench/voicemail.py); its figures, or None when it failed (the SIP
    load figures are kept either way)."""
    from . import voicemail

    try:
        return voicemail.run(
            ctx, rounds=ctx.args.vm_rounds, concurrency=ctx.args.vm_concurrent, seconds=ctx.args.vm_seconds
        )
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        logger.exception("voicemail benchmark failed")
        say(f"voicemail benchmark FAILED: {exc}")
        return None


# --- set-up --------------------------------------------------------------------------------------


def setup(ctx: Context) -> None:
    leftovers = ctx.book.reap_leftovers()
    if leftovers:
        say(f"stopped leftovers of an interrupted run: {', '.join(leftovers)}")
    for ip, port in (
        (UAS_IP, UAS_PORT),
        (STASIS_IP, STASIS_PORT),
        (BASE_IP, BASE_PORT),
        (FLOOR_IP, FLOOR_PORT),
    ):
        if not wait_port_free(ip, port):
            raise pf.BenchError(f"UDP {ip}:{port} is in use: is another benchmark running?")

    say("database istra_bench: recreate and migrate")
    from django.db import connections

    connections.close_all()
    pf.recreate_database()
    pf.migrate()

    say("Asterisk instance 'bench': wipe and start")
    ctx.asterisk = pf.asterisk_instance()
    ctx.asterisk.wipe()
    ctx.asterisk.start()

    sip_load = not ctx.args.voicemail_only
    t0 = time.monotonic()
    ctx.provisioned = pf.create_company_and_users(ctx.args.callees if sip_load else 0)
    numbers = [extension for extension, _ in ctx.provisioned.callees]
    callees = f" and {len(numbers)} callees (ext {numbers[0]}-{numbers[-1]})" if numbers else ""
    say(
        f"company Bench: caller {ctx.provisioned.caller_endpoint} (ext 201){callees} "
        f"created in {time.monotonic() - t0:.1f}s"
    )

    say("bridge: start and wait until it is connected and reconciled")
    ctx.bridge = pf.BridgeProcess(ctx.env, ctx.run_dir, ctx.book)
    t0 = time.monotonic()
    ctx.bridge.start()
    say(f"bridge ready in {time.monotonic() - t0:.1f}s (pid {ctx.bridge.pid})")
    ctx.bridge_rss_start = pf.memory_kib(ctx.bridge.pid or 0) or 0
    if not sip_load:
        return

    pf.push_baseline_endpoint()
    callee_endpoints = [endpoint for _, endpoint in ctx.provisioned.callees]
    pf.point_callees_at(callee_endpoints, UAS_IP, UAS_PORT)

    ctx.uas = Uas(UAS_IP, UAS_PORT, UAS_MEDIA, ctx.run_dir / "uas", ctx.book)
    ctx.uas.start()

    wanted = [p.strip() for p in ctx.args.paths.split(",") if p.strip()]
    if "stasis" in wanted:
        ctx.paths["stasis"] = CallerPath(
            "stasis",
            ctx.provisioned.caller_endpoint,
            ctx.provisioned.caller_password,
            [extension for extension, _ in ctx.provisioned.callees],
            STASIS_IP,
            STASIS_PORT,
            STASIS_MEDIA,
        )
    if "baseline" in wanted:
        ctx.paths["baseline"] = CallerPath(
            "baseline",
            pf.BASELINE_ENDPOINT,
            pf.BASELINE_SIP_PASSWORD,
            callee_endpoints,
            BASE_IP,
            BASE_PORT,
            BASE_MEDIA,
        )
    if "floor" in wanted:
        pf.push_floor_endpoint()
        ctx.floor = pf.FloorProcess(ctx.env, ctx.run_dir, ctx.book)
        ctx.floor.start()
        ctx.paths["floor"] = CallerPath(
            "floor",
            pf.FLOOR_ENDPOINT,
            pf.FLOOR_SIP_PASSWORD,
            callee_endpoints,
            FLOOR_IP,
            FLOOR_PORT,
            FLOOR_MEDIA,
        )
    if not ctx.paths:
        raise pf.BenchError("no path to measure (--paths stasis,floor,baseline)")


# --- measurement ---------------------------------------------------------------------------------


def place(ctx: Context, path: str, kind: str, rate: int, calls: int) -> Run:
    """One sipp run on one path, then wait until Asterisk (and, for Stasis, the records) are quiet."""
    assert ctx.bridge is not None and ctx.uas is not None and ctx.provisioned is not None
    if not ctx.uas.alive:
        raise pf.BenchError("the sipp UAS died; see its folder in the run folder")
    for app in (ctx.bridge, ctx.floor):
        if app is not None and app.pid is None:
            raise pf.BenchError(f"the {app.name} died; see {app.log_path}")
    wait_quiet(ctx)
    ctx.counter += 1
    work_dir = ctx.run_dir / f"{ctx.counter:02d}-{path}-{kind}-{rate}"
    records_before = pf.call_counts(ctx.provisioned.company_id) if path == "stasis" else {}
    # The "bridge" figures of a run are those of the Stasis application the path goes through.
    app = ctx.floor if path == "floor" and ctx.floor is not None else ctx.bridge
    bridge_pid, asterisk_pid = app.pid, ctx.asterisk.pid()
    others = (
        ctx.bridge.pid,
        ctx.floor.pid if ctx.floor else None,
        ctx.uas.process.pid if ctx.uas.process else None,
    )
    ours = {p for p in (asterisk_pid, *others) if p}
    ours0 = pf.our_cpu_seconds(ours)
    cpu0 = (pf.process_cpu_seconds(bridge_pid), pf.process_cpu_seconds(asterisk_pid), pf.machine_cpu())
    profiler = start_profiler(ctx, work_dir, path, kind, rate, calls)
    result = run_uac(
        ctx.paths[path],
        server=SIP_SERVER,
        rate=rate,
        calls=calls,
        work_dir=work_dir,
        book=ctx.book,
        trace_messages=kind in ("smoke", "warm-up", "latency"),
    )
    cpu1 = (pf.process_cpu_seconds(bridge_pid), pf.process_cpu_seconds(asterisk_pid), pf.machine_cpu())
    ours1 = pf.our_cpu_seconds(ours)
    stop_profiler(ctx, profiler)
    item = Run(path=path, kind=kind, rate=rate, result=result)
    item.bridge_cpu = cpu1[0] - cpu0[0]
    item.asterisk_cpu = cpu1[1] - cpu0[1]
    busy = cpu1[2][0] - cpu0[2][0]
    total = cpu1[2][1] - cpu0[2][1]
    item.machine_busy = busy / total if total else 0.0
    # Other people's work: whatever kept the machine busy that was not ours (short-lived processes too).
    item.foreign_cpu = max(0.0, busy - (ours1 - ours0))

    t0 = time.monotonic()
    remaining = pf.wait_no_channels(DRAIN_TIMEOUT if not result.clean else 15)
    if remaining:
        item.leftover_channels = len(remaining)
        hung = pf.hangup_all()
        ctx.notes.append(
            f"{path} {kind} {rate}/s: {len(remaining)} channels still up "
            f"{DRAIN_TIMEOUT:.0f}s after the calls; hung up {hung}"
        )
        pf.wait_no_channels(10)
    if path == "stasis":
        ctx.stasis_calls_placed += result.created
        wait_records(ctx)
        after = pf.call_counts(ctx.provisioned.company_id)
        item.records = {k: after.get(k, 0) - records_before.get(k, 0) for k in after}
        item.records_ok = (
            item.records.get("total", 0) == result.created
            and item.records.get("outcome:answered", 0) == result.created
        )
    item.drain_seconds = time.monotonic() - t0
    item.bridge_rss_kib = pf.memory_kib(bridge_pid or 0) or 0
    ctx.runs.append(item)
    log_run(item)
    return item


def wait_quiet(ctx: Context) -> None:
    """Between runs nothing of ours works: a busy machine is other people's work. Let it pass."""
    deadline = time.monotonic() + min(QUIET_WAIT_PER_RUN, max(0.0, QUIET_WAIT_TOTAL - ctx.quiet_waited))
    started = time.monotonic()
    while True:
        busy0, total0 = pf.machine_cpu()
        time.sleep(0.5)
        busy1, total1 = pf.machine_cpu()
        cores = (busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1) if total1 > total0 else 0.0
        if cores <= FOREIGN_CPU_LIMIT or time.monotonic() >= deadline:
            break
    waited = time.monotonic() - started - 0.5
    if waited > 0.1:
        ctx.quiet_waited += waited
        say(f"waited {waited:.0f}s for other work on the machine to calm down ({cores:.2f} cores busy then)")


def wait_records(ctx: Context, timeout: float = 30) -> None:
    """The bridge writes records off the call path: wait until they have all landed and are closed."""
    assert ctx.provisioned is not None
    from django.db import close_old_connections

    company_id = ctx.provisioned.company_id

    def landed() -> bool:
        close_old_connections()
        counts = pf.call_counts(company_id)
        return counts["open"] == 0 and counts["total"] >= ctx.stasis_calls_placed

    if not pf.wait_until(landed, timeout, 0.1):
        counts = pf.call_counts(company_id)
        ctx.notes.append(
            f"records still incomplete {timeout:.0f}s after the calls: {counts} for "
            f"{ctx.stasis_calls_placed} Stasis calls placed so far"
        )


def log_run(item: Run) -> None:
    r = item.result
    p50, p99 = percentile(r.setup_ms, 50), percentile(r.setup_ms, 99)
    verdict = "PASS" if item.passed else "FAIL"
    why = []
    if r.timed_out:
        why.append("sipp timed out")
    if r.failed:
        why.append(f"{r.failed} failed")
    if r.successful != r.calls:
        why.append(f"{r.successful}/{r.calls} succeeded")
    if not item.rate_held:
        why.append(f"rate not held ({r.achieved_rate:.0f}/s)")
    if item.backlog:
        why.append(f"set-up time built up by {r.backlog_ms:.0f} ms")
    if item.leftover_channels:
        why.append(f"{item.leftover_channels} channels left")
    records = ""
    if item.records:
        records = (
            f" records {item.records.get('total', 0)} (answered {item.records.get('outcome:answered', 0)})"
        )
    say(
        f"{item.path:8} {item.kind:7} {item.rate:4}/s x{r.calls:5}: {verdict}"
        f"{' (' + ', '.join(why) + ')' if why else ''}; setup p50 {fmt(p50)} p99 {fmt(p99)} ms; "
        f"answered {r.achieved_rate:.0f}/s; CPU bridge {item.bridge_cpu:.1f}s "
        f"asterisk {item.asterisk_cpu:.1f}s others {item.foreign_cpu:.1f}s "
        f"machine {item.machine_busy * 100:.0f}%;{records} drain {item.drain_seconds:.1f}s"
    )


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def measure(ctx: Context) -> None:
    args = ctx.args
    paths = list(ctx.paths)
    # A short warm-up per path proves both paths work end to end before anything is measured.
    for path in paths:
        item = place(ctx, path, "smoke", 10, 20)
        if not item.passed:
            raise pf.BenchError(
                f"the {path} path does not work (smoke test failed); see {item.result.work_dir}"
            )

    if args.warm_up:
        # One call to every callee: the bridge's routing cache then holds them all, as it does in
        # steady state, so what follows measures that. The run itself is reported (kind "warm-up"):
        # its set-up times are those of calls whose callee the cache did not hold yet.
        for path in paths:
            callees = len(ctx.provisioned.callees) if ctx.provisioned else 1
            place(ctx, path, "warm-up", args.latency_rate, max(1, callees))

    latency_rates = [args.latency_rate] + ([args.light_rate] if args.light_rate else [])
    for rate in latency_rates:
        calls = max(1, round(rate * args.latency_seconds))
        for path in paths:
            measured(ctx, path, "latency", rate, calls, always=True)

    steps = sorted({int(s) for s in args.steps.split(",") if s.strip()})
    going = set(paths)
    for rate in steps:
        for path in paths:
            if path not in going:
                continue
            item = measured(ctx, path, "step", rate, max(1, round(rate * args.step_seconds)))
            if not item.passed:
                going.discard(path)
        if not going:
            break


def measured(ctx: Context, path: str, kind: str, rate: int, calls: int, *, always: bool = False) -> Run:
    """A measured run; repeated once when other work on the machine took more than a quarter of a core
    meanwhile (always for a latency run, only if it failed for a step): the repeat counts."""
    item = place(ctx, path, kind, rate, calls)
    busy = item.foreign_cpu / max(item.result.wall_seconds, 0.001) > FOREIGN_CPU_LIMIT
    if busy and (always or not item.passed):
        item.superseded = True
        ctx.notes.append(
            f"{path} {kind} {rate}/s repeated: other processes used "
            f"{100 * item.foreign_cpu / max(item.result.wall_seconds, 0.001):.0f} % of a core meanwhile"
        )
        say(f"other work on the machine during that run: repeating {path} {kind} {rate}/s")
        item = place(ctx, path, kind, rate, calls)
    return item


# --- profiling (optional) ------------------------------------------------------------------------


def start_profiler(ctx: Context, work_dir: Path, path: str, kind: str, rate: int, calls: int) -> Any:
    if not ctx.args.profile or path != "stasis" or kind != "step" or str(rate) != str(ctx.args.profile):
        return None
    if ctx.bridge is None or ctx.bridge.pid is None:
        return None
    work_dir.mkdir(parents=True, exist_ok=True)
    out = work_dir / "bridge-profile.txt"
    process = profile.start(ctx.bridge.pid, max(2, int(calls / rate)), out)
    if process is None:
        ctx.notes.append("py-spy is not installed (.venv/bin/pip install py-spy): no profile")
        return None
    return process, out


def stop_profiler(ctx: Context, profiler: Any) -> None:
    if profiler is None:
        return
    process, out = profiler
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if out.exists():
        summary = out.with_name("bridge-profile-summary.txt")
        summary.write_text(profile.summarize(out))
        ctx.notes.append(f"py-spy profile of the bridge: {summary}")


# --- results ---------------------------------------------------------------------------------------


def finish(
    ctx: Context, started_at: dt.datetime, load_before: tuple[float, float, float], elapsed: float
) -> report.Summary:
    assert ctx.bridge is not None and ctx.provisioned is not None
    bridge_rss = pf.memory_kib(ctx.bridge.pid or 0) or 0
    bridge_hwm = pf.memory_kib(ctx.bridge.pid or 0, "VmHWM") or 0
    records = pf.call_counts(ctx.provisioned.company_id)
    paths: dict[str, report.PathFigures] = {}
    for path in ctx.paths:
        steps = [r for r in ctx.runs if r.path == path and r.kind == "step" and not r.superseded]
        first_fail = next((r for r in steps if not r.passed), None)
        kept = [r for r in ctx.runs if r.path == path and r.kind == "latency" and not r.superseded]
        latency = next((r for r in kept if r.rate == ctx.args.latency_rate), None)
        light = next((r for r in kept if r.rate == ctx.args.light_rate), None)
        setup = latency.result.setup_ms if latency else []
        light_setup = light.result.setup_ms if light else []
        paths[path] = report.PathFigures(
            sustained=max(
                (r.rate for r in steps if r.passed and (first_fail is None or r.rate < first_fail.rate)),
                default=0,
            ),
            first_failure=first_fail.rate if first_fail else None,
            first_failure_why=describe_failure(first_fail) if first_fail else "",
            latency_ok=bool(latency and latency.passed),
            setup_p50=percentile(setup, 50),
            setup_p99=percentile(setup, 99),
            setup_samples=len(setup),
            setup_source=latency.result.setup_source if latency else "",
            light_p50=percentile(light_setup, 50),
            light_p99=percentile(light_setup, 99),
            light_ok=bool(light and light.passed),
        )
    return report.Summary(
        started_at=started_at,
        elapsed=elapsed,
        nproc=os.cpu_count() or 0,
        cpu_model=report.cpu_model(),
        load_before=load_before,
        args=ctx.args,
        paths=paths,
        runs=[report.RunRow.from_run(r, percentile) for r in ctx.runs],
        stasis_calls_placed=ctx.stasis_calls_placed,
        records=records,
        bridge_rss_kib=bridge_rss,
        bridge_rss_start_kib=ctx.bridge_rss_start,
        bridge_hwm_kib=bridge_hwm,
        notes=ctx.notes,
        callees=ctx.args.callees,
        revision=report.code_revision(),
        quiet_waited=ctx.quiet_waited,
    )


def describe_failure(item: Run) -> str:
    r = item.result
    parts = []
    if r.timed_out:
        parts.append("sipp timed out")
    if r.failed:
        parts.append(f"{r.failed} failed calls")
    if r.successful != r.calls:
        parts.append(f"{r.successful}/{r.calls} succeeded")
    if not item.rate_held:
        parts.append(f"only {r.achieved_rate:.0f}/s answered")
    if item.backlog:
        parts.append(f"set-up time built up by {r.backlog_ms:.0f} ms")
    if item.leftover_channels:
        parts.append(f"{item.leftover_channels} channels left over")
    return ", ".join(parts) or "?"


# --- teardown ------------------------------------------------------------------------------------


def teardown(ctx: Context) -> None:
    say("teardown: sipp, bridge (and floor application), Asterisk 'bench'")
    for part in (ctx.uas, ctx.floor, ctx.bridge, ctx.asterisk):
        if part is None:
            continue
        try:
            part.stop()
        except Exception as exc:  # keep tearing down the rest
            say(f"teardown of {type(part).__name__} failed: {exc}")
    # Anything of ours still running (a sipp UAC interrupted with ^C...).
    ctx.book.reap_leftovers()
