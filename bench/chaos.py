"""`python -m bench.chaos` (`make chaos`): the faults of issue 10 (section 6) under load, seen from outside.

For each fault, one sipp run places calls at `--rate` calls/s, each held `--hold` s once answered; after
`--warm` s (about rate x hold calls established) the fault is played:

- kill: the bridge gets SIGKILL and is started again 5 s later;
- asterisk: Asterisk is stopped and started again (the bridge reconnects by itself);
- freeze: the bridge gets SIGSTOP, then SIGCONT 10 s later.

From sipp's message trace, per call: when it was placed, its final status, whether it was cut. It
reports, per fault: established calls kept, calls failed during the fault (and with which status),
recovery time (from the end of the fault to the first call from which every call succeeds with a
set-up time under a second), and, once the calls are over, channels left in Stasis and records left
open (both must be 0). The platform is the bench's own (bench/environment.py), set up as for
`make bench`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import environment

FAULTS = ("kill", "asterisk", "freeze")
GOOD_SETUP = 1.0  # s: a call set up slower than this is not "recovered" service
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass
class CallTrace:
    placed: float = 0.0  # first INVITE sent
    answered: float | None = None
    status: int | None = None  # final failure status of the INVITE
    cut: bool = False  # Asterisk sent a BYE: the call ended under the caller
    hung_up: float | None = None  # our BYE sent
    ended_ok: bool = False  # our BYE got its 200


@dataclass
class FaultResult:
    fault: str
    began: float = 0.0
    ended: float = 0.0  # the bridge restarted, Asterisk started, or SIGCONT sent
    placed: int = 0
    established_before: int = 0  # answered before the fault began, and not over then
    kept: int = 0
    failed_during: Counter[str] = field(default_factory=Counter)
    failed_after: Counter[str] = field(default_factory=Counter)
    recovery: float | None = None
    worst_setup_after: float = 0.0
    left_in_stasis: int = 0
    records_open: int = 0
    records_reasons: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--faults", default=",".join(FAULTS), help="which faults, in order (%(default)s)")
    parser.add_argument("--rate", type=int, default=20, help="calls/s (default %(default)s)")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds a call is held (%(default)s)")
    parser.add_argument("--warm", type=float, default=25.0, help="seconds of calls before the fault")
    parser.add_argument("--after", type=float, default=25.0, help="seconds of calls after the fault began")
    parser.add_argument(
        "--callees",
        type=int,
        default=0,
        help="callee users (default: one per call: a call a fault delayed never finds its callee busy)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


def traces(path: Path) -> dict[str, CallTrace]:
    from .sipp import traced_messages

    calls: dict[str, CallTrace] = {}
    # sipp writes local wall-clock times, read as UTC: back to the epoch the fault times are in.
    offset = time.localtime().tm_gmtoff
    for message in traced_messages(path):
        stamp = message.stamp - offset
        call_id = message.headers.get("call-id", "")
        call = calls.setdefault(call_id, CallTrace())
        cseq = message.headers.get("cseq", "")
        line = message.first_line
        if message.sent and line.startswith("INVITE ") and not call.placed:
            call.placed = stamp
        elif not message.sent and cseq == "2 INVITE" and line.startswith("SIP/2.0 "):
            code = int(line.split()[1])
            if code == 200 and call.answered is None:
                call.answered = stamp
            elif code >= 300:
                call.status = code
        elif not message.sent and line.startswith("BYE "):
            call.cut = True
        elif message.sent and line.startswith("BYE ") and call.hung_up is None:
            call.hung_up = stamp
        elif not message.sent and cseq.endswith(" BYE") and line.startswith("SIP/2.0 200"):
            call.ended_ok = True
    return {k: v for k, v in calls.items() if v.placed}


def scenario(work_dir: Path, hold_ms: int) -> Path:
    """The bench caller scenario with a longer hold (bench/uac.xml holds 0.5 s)."""
    from .sipp import UAC_SCENARIO

    text = UAC_SCENARIO.read_text()
    changes = {
        # Without a re-INVITE the call still holds (bench/uac.xml hangs up: its 0.5 s are over).
        '<recv request="INVITE" timeout="500" ontimeout="hangup"/>': (
            '<recv request="INVITE" timeout="500" ontimeout="hold"/>'
        ),
        "  <nop>\n    <action>\n      <!-- hold = 500": (
            '  <label id="hold"/>\n  <nop>\n    <action>\n      <!-- hold'
        ),
        '<assign assign_to="hold" value="500"/>': f'<assign assign_to="hold" value="{hold_ms}"/>',
    }
    for old, new in changes.items():
        if old not in text:
            raise RuntimeError(f"{UAC_SCENARIO} no longer holds its calls with {old!r}")
        text = text.replace(old, new)
    path = work_dir / "uac-hold.xml"
    path.write_text(text)
    return path


def stasis_channels() -> int:
    from django.conf import settings

    from . import platform as pf

    status, reply = pf.ari("GET", f"/applications/{settings.ARI_APP}")
    return len(reply.get("channel_ids", [])) if status == 200 else -1


def play(ctx: Any, fault: str, result: FaultResult) -> None:
    from . import platform as pf
    from .runner import UAS_IP, UAS_PORT, say

    bridge = ctx.bridge
    result.began = time.time()
    if fault == "kill":
        os.kill(bridge.pid, signal.SIGKILL)
        bridge.process.wait()
        time.sleep(5)
        result.ended = time.time()
        bridge.start()
        say(f"kill: bridge ready {time.time() - result.ended:.1f}s after its restart")
    elif fault == "asterisk":
        ctx.asterisk.stop()
        ctx.asterisk.start()
        result.ended = time.time()
        # The bridge pushes the devices again once reconnected; then the callees ring the UAS again.
        ready = pf.wait_until(bridge.ready_file.exists, 60, 0.05)
        pf.point_callees_at([endpoint for _, endpoint in ctx.provisioned.callees], UAS_IP, UAS_PORT)
        state = "ready" if ready else "NOT ready"
        say(f"asterisk: bridge {state} {time.time() - result.ended:.1f}s after ARI")
    elif fault == "freeze":
        os.kill(bridge.pid, signal.SIGSTOP)
        time.sleep(10)
        os.kill(bridge.pid, signal.SIGCONT)
        result.ended = time.time()
    else:
        raise ValueError(f"unknown fault {fault!r}")


def run_fault(ctx: Any, fault: str, args: argparse.Namespace) -> FaultResult:
    from . import platform as pf
    from .runner import SIP_SERVER, STASIS_IP, say, wait_records
    from .sipp import run_uac

    path = ctx.paths["stasis"]
    work_dir = ctx.run_dir / f"chaos-{fault}"
    work_dir.mkdir(parents=True, exist_ok=True)
    calls = int(args.rate * (args.warm + args.after))
    result = FaultResult(fault)
    records_before = pf.call_counts(ctx.provisioned.company_id)
    if fault == "asterisk":
        # The bridge's ready file is rewritten once it has reconnected and reconciled.
        ctx.bridge.ready_file.unlink(missing_ok=True)

    def later() -> None:
        time.sleep(args.warm)
        say(f"{fault}: fault begins")
        try:
            play(ctx, fault, result)
        except Exception as exc:  # the run goes on; the figures say what happened
            result.notes.append(f"the fault could not be played: {exc}")

    thread = threading.Thread(target=later, daemon=True)
    say(f"{fault}: {calls} calls at {args.rate}/s held {args.hold:.0f}s from {STASIS_IP}")
    thread.start()
    run_uac(
        path,
        server=SIP_SERVER,
        rate=args.rate,
        calls=calls,
        work_dir=work_dir,
        book=ctx.book,
        extra_timeout=args.hold + 60,
        trace_messages=True,
        scenario=scenario(work_dir, int(args.hold * 1000)),
        limit=int(args.rate * (args.hold + 20)) + 50,
    )
    thread.join()
    pf.wait_no_channels(30)
    result.left_in_stasis = stasis_channels()
    ctx.stasis_calls_placed = records_before["total"] + calls
    wait_records(ctx, timeout=30)
    after = pf.call_counts(ctx.provisioned.company_id)
    result.records_open = after["open"]
    measure(result, traces(work_dir / "messages.log"))
    result.records_reasons = records_reasons(ctx.provisioned.company_id, result.began)
    leftover = pf.channel_ids()
    if leftover:
        result.notes.append(f"{len(leftover)} channels still up after the run; hung up")
        pf.hangup_all()
    return result


def records_reasons(company_id: int, since: float) -> Counter[str]:
    """Outcome and reason of the records of calls that ended after the fault began."""
    from telephony.models import Call

    began = dt.datetime.fromtimestamp(since, dt.UTC)
    rows = Call.objects.filter(company_id=company_id, ended_at__gte=began).values_list("outcome", "reason")
    return Counter(f"{o or '-'}:{r or '-'}" for o, r in rows)


def measure(result: FaultResult, calls: dict[str, CallTrace]) -> None:
    result.placed = len(calls)
    ordered = sorted(calls.values(), key=lambda c: c.placed)
    for call in ordered:
        if call.answered is not None and call.answered < result.began:
            if call.hung_up is not None and call.hung_up < result.began:
                continue  # over before the fault
            result.established_before += 1
            result.kept += int(call.ended_ok and not call.cut)
            continue
        ok = call.answered is not None and not call.cut
        if ok:
            continue
        what = str(call.status) if call.status else ("cut" if call.cut else "no answer (timeout)")
        (result.failed_during if call.placed < result.ended else result.failed_after)[what] += 1
    # Recovery: from the end of the fault to the first call placed from which every call succeeded
    # with a set-up time under GOOD_SETUP.
    good_from: float | None = None
    for call in ordered:
        if call.placed < result.began:
            continue
        setup = (call.answered - call.placed) if call.answered is not None else None
        if setup is not None and not call.cut and setup < GOOD_SETUP:
            good_from = call.placed if good_from is None else good_from
        else:
            good_from = None
        if call.placed >= result.ended and setup is not None:
            result.worst_setup_after = max(result.worst_setup_after, setup)
    result.recovery = None if good_from is None else good_from - result.ended


def render(results: list[FaultResult], args: argparse.Namespace, load: tuple[float, ...]) -> str:
    rows = [
        "| fault | established at the fault | kept | failed during the fault | failed after it | recovery "
        "| left in Stasis | records open | records closed since the fault (outcome:reason) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:

        def fmt(counts: Counter[str]) -> str:
            return ", ".join(f"{n} {what}" for what, n in counts.most_common()) or "0"

        recovery = "never" if r.recovery is None else f"{r.recovery:.1f} s"
        rows.append(
            f"| {r.fault} | {r.established_before} | {r.kept} | {fmt(r.failed_during)} | "
            f"{fmt(r.failed_after)} | {recovery} | {r.left_in_stasis} | {r.records_open} | "
            f"{fmt(r.records_reasons)} |"
        )
    notes = [f"- {r.fault}: {note}" for r in results for note in r.notes]
    stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    head = (
        f'{stamp}\n\n`make chaos CHAOS_ARGS="{" ".join(sys.argv[1:])}"`: {args.rate} calls/s, held '
        f"{args.hold:.0f} s, fault after {args.warm:.0f} s, {args.after:.0f} s of calls from the fault on; "
        f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)."
    )
    return "\n".join([head, "", *rows, *(["", *notes] if notes else [])]) + "\n"


MARKER = "<!-- make chaos adds its runs below, newest first -->"


def write_docs(text: str) -> None:
    """The run under the "Faults" section of docs/benchmarks.md (made at the end if missing)."""
    doc = DOCS.read_text()
    if MARKER not in doc:
        doc = doc.rstrip("\n") + f"\n\n## Faults (`make chaos`)\n\n{MARKER}\n"
    DOCS.write_text(doc.replace(MARKER, f"{MARKER}\n\n### {text}", 1))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    env = environment.apply()
    import django

    django.setup()
    from . import platform as pf
    from .runner import Context, say, setup, teardown

    pf.check_isolated()
    run_dir = pf.STATE_DIR / ("chaos-" + dt.datetime.now().astimezone().strftime("%Y%m%d-%H%M%S"))
    run_dir.mkdir(parents=True, exist_ok=True)
    callees = args.callees or int(args.rate * (args.warm + args.after))
    setup_args = argparse.Namespace(voicemail_only=False, callees=callees, paths="stasis")
    ctx = Context(args=setup_args, env=env, run_dir=run_dir, book=pf.ProcessBook())
    load = os.getloadavg()
    results: list[FaultResult] = []

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # A terminated run must still tear its platform down (the finally below).
    signal.signal(signal.SIGTERM, on_signal)
    try:
        setup(ctx)
        for fault in [f.strip() for f in args.faults.split(",") if f.strip()]:
            results.append(run_fault(ctx, fault, args))
            say(f"{fault}: {results[-1]}")
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        teardown(ctx)
    text = render(results, args, load)
    print(text, flush=True)
    if results and not args.no_docs:
        write_docs(text)
        say(f"results added to {DOCS}")
    say(f"logs in {run_dir}")
    bad = any(r.left_in_stasis or r.records_open for r in results)
    return 1 if bad or not results else 0


if __name__ == "__main__":
    sys.exit(main())
