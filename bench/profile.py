"""Optional: where the bridge spends its CPU during a Stasis step (`--profile RATE`, needs py-spy).

py-spy samples the bridge with `--gil` (only the thread holding the GIL, that is Python CPU time) and
writes collapsed stacks; `summarize` groups them into what a call costs: each database function the
bridge runs in its worker threads (telephony.queries / telephony.records), and the main event loop's
callbacks (ARI requests, event JSON, live-event publishing).
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
from pathlib import Path


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def start(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    spy = py_spy()
    if spy is None:
        return None
    args = [spy, "record", "-p", str(pid), "-r", "200", "-d", str(seconds), "-f", "raw", "-o", str(out)]
    args += ["--gil", "--threads", "--nonblocking"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _function(frame: str) -> str:
    return frame.split(" (", 1)[0]


def summarize(raw: Path, top: int = 25) -> str:
    total = 0
    db_work: collections.Counter[str] = collections.Counter()
    loop_work: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for name in {_function(f) for f in frames[1:]}:
            inclusive[name] += n
        names = [_function(f) for f in frames]
        if "_run_with_fresh_connection" in names:
            i = names.index("_run_with_fresh_connection") + 1
            while i < len(names) - 1 and names[i].startswith(("ContextDecorator", "inner")):
                i += 1
            db_work[names[i] if i < len(names) else "?"] += n
        elif "Handle._run" in names:
            i = names.index("Handle._run") + 1
            loop_work[names[i] if i < len(names) else "Handle._run"] += n
        else:
            loop_work["(other: " + names[-1] + ")"] += n
    if not total:
        return "no samples\n"
    out = [f"{total} samples of the thread holding the GIL (200/s)", "", "database work (worker threads):"]
    out += [f"  {v / total:6.1%}  {k}" for k, v in db_work.most_common(top)]
    out += ["", "event loop:"] + [f"  {v / total:6.1%}  {k}" for k, v in loop_work.most_common(top)]
    out += ["", "inclusive, by function:"] + [
        f"  {v / total:6.1%}  {k}" for k, v in inclusive.most_common(top * 2)
    ]
    return "\n".join(out) + "\n"
