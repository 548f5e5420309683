"""The bench platform: its database, its Asterisk instance, its Django users and devices, its bridge.

Everything here acts only on the bench platform named by bench.environment (Asterisk instance
"bench", database istra_bench, ARI application istra-bench); it refuses to run otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings

from .environment import ADMIN_DATABASE_URL, DATABASE_NAME

logger = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path("/tmp/istra-bench")
PIDS_FILE = STATE_DIR / "pids.json"

CALLER_EXTENSION = "201"
FIRST_CALLEE_EXTENSION = 202
CALLER_SIP_PASSWORD = "bench-201-sip-pw"
CALLEE_SIP_PASSWORD = "bench-callee-sip-pw"
BASELINE_ENDPOINT = "bench-base"
BASELINE_SIP_PASSWORD = "bench-base-sip-pw"
FLOOR_ENDPOINT = "bench-floor"
FLOOR_SIP_PASSWORD = "bench-floor-sip-pw"
# The company's speed dials (short numbers that dial out): no callee has one as its extension.
SPEED_DIALS = tuple(f"9{i}0" for i in range(5))


class BenchError(RuntimeError):
    pass


def check_isolated() -> None:
    """Refuse to act on anything but the bench platform."""
    expected = {
        "ASTERISK_INSTANCE": (settings.ASTERISK_INSTANCE, "bench"),
        "ARI_APP": (settings.ARI_APP, "istra-bench"),
        "DATABASE NAME": (settings.DATABASES["default"]["NAME"], DATABASE_NAME),
        "ASTERISK_SIP_PORT": (settings.ASTERISK_SIP_PORT, 5360),
        "ARI_URL": (settings.ARI_URL, "http://127.0.0.1:8388"),
    }
    wrong = {k: v[0] for k, v in expected.items() if v[0] != v[1]}
    if wrong:
        raise BenchError(f"not the bench platform: {wrong}")


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Poll until `predicate` returns something truthy or `timeout` passes; returns its last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


# --- processes we start ------------------------------------------------------------------------------


def _start_ticks(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


class ProcessBook:
    """Remembers (on disk) the processes this benchmark started, so that a run killed half-way
    (kill -9, power cut of the terminal) leaves nothing that the next run could mistake for its own."""

    def __init__(self) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)

    def _load(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(PIDS_FILE.read_text())
        except (OSError, ValueError):
            return []
        return data if isinstance(data, list) else []

    def add(self, pid: int, what: str) -> None:
        entries = self._load()
        entries.append({"pid": pid, "start": _start_ticks(pid), "what": what})
        PIDS_FILE.write_text(json.dumps(entries))

    def remove(self, pid: int) -> None:
        PIDS_FILE.write_text(json.dumps([e for e in self._load() if e.get("pid") != pid]))

    def reap_leftovers(self) -> list[str]:
        """Stop processes an earlier, interrupted run started (checked by pid and start time)."""
        stopped = []
        for entry in self._load():
            pid = int(entry.get("pid", 0))
            if pid > 0 and entry.get("start") and _start_ticks(pid) == entry["start"]:
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.killpg(pid, sig)  # each was started in its own session: pgid == pid
                    except ProcessLookupError:
                        break
                    if wait_until(partial(_gone, pid), 5):
                        break
                stopped.append(f"{entry.get('what')} (pid {pid})")
        PIDS_FILE.write_text("[]")
        return stopped


def _gone(pid: int) -> bool:
    return _start_ticks(pid) is None


def process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of one process (0 when it is gone)."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def our_cpu_seconds(pids: set[int]) -> float:
    """CPU time so far of everything the benchmark runs: the given long-lived processes (bridge,
    Asterisk, sipp UAS), our database's backends, this process and its finished children (sipp UACs).
    The machine's busy time minus the change of this is other people's work on the machine."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            if pid not in pids and DATABASE_NAME.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    own = os.times()
    return ticks / os.sysconf("SC_CLK_TCK") + own.user + own.system + own.children_user + own.children_system


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    total = sum(parts[:8])
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def memory_kib(pid: int, key: str = "VmRSS") -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# --- ARI ---------------------------------------------------------------------------------------------


def ari(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    timeout: float = 5,
) -> tuple[int, Any]:
    url = f"{settings.ARI_URL}/ari{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    token = b64encode(f"{settings.ARI_USERNAME}:{settings.ARI_PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
            return int(response.status), json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode(errors="replace")


def put_pjsip_object(kind: str, object_id: str, fields: list[tuple[str, str]]) -> None:
    status, reply = ari(
        "PUT",
        f"/asterisk/config/dynamic/res_pjsip/{kind}/{object_id}",
        {"fields": [{"attribute": k, "value": v} for k, v in fields]},
    )
    if status >= 300:
        raise BenchError(f"Asterisk refused {kind} {object_id}: HTTP {status} {reply}")


def channel_ids() -> list[str]:
    status, reply = ari("GET", "/channels")
    if status != 200:
        raise BenchError(f"GET /ari/channels -> HTTP {status}")
    return [c["id"] for c in reply]


def wait_no_channels(timeout: float) -> list[str]:
    """Wait until Asterisk carries no channel; returns those still there after `timeout`."""
    remaining: list[str] = []

    def empty() -> bool:
        nonlocal remaining
        remaining = channel_ids()
        return not remaining

    wait_until(empty, timeout, interval=0.05)
    return remaining


def hangup_all() -> int:
    ids = channel_ids()
    for cid in ids:
        ari("DELETE", f"/channels/{cid}")
    return len(ids)


# --- database ------------------------------------------------------------------------------------


def recreate_database() -> None:
    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


# --- Asterisk ------------------------------------------------------------------------------------


def asterisk_instance() -> Any:
    from ari_bridge.asterisk import AsteriskInstance

    instance = AsteriskInstance()
    if instance.name != "bench":
        raise BenchError(f"refusing to touch Asterisk instance {instance.name!r}")
    return instance


# --- Django users and devices ----------------------------------------------------------------------


@dataclass
class Provisioned:
    company_id: int
    caller_endpoint: str
    caller_password: str
    # (extension dialled on the Stasis path, callee endpoint dialled on the baseline path)
    callees: list[tuple[str, str]] = field(default_factory=list)


def callee_endpoint(extension: str) -> str:
    # The bench-baseline context matches digits only (`_X!`), and it Dials PJSIP/${EXTEN}: the callee
    # endpoints must have all-digit names for the baseline to reach the very same endpoints.
    return f"9{extension}"


def create_company_and_users(callees: int) -> Provisioned:
    """Company Bench: the caller (ext 201) and `callees` callees (ext 202, 203, ...), each with one
    SIP device, through the platform's own write path (voicemail.actions.create_user_with_mailbox)."""
    from directory.models import Company
    from telephony.actions.users import create_user

    company = Company.objects.create(name="Bench", slug="bench", language="en")
    _, caller_credentials = create_user(
        company=company,
        username="bench-caller",
        extension=CALLER_EXTENSION,
        first_name="Bench",
        last_name="Caller",
        sip_password=CALLER_SIP_PASSWORD,
    )
    assert caller_credentials is not None
    result = Provisioned(company.id, caller_credentials.username, CALLER_SIP_PASSWORD)
    # Numbers the platform routes to a service rather than to a user (the company's voicemail
    # service number, 555 by default) cannot be callees.
    # Nor can the speed dials (give_realistic_routing_settings): they dial out, past 900 callees.
    reserved = {str(getattr(company, "voicemail_number", "") or ""), CALLER_EXTENSION, *SPEED_DIALS}
    number = FIRST_CALLEE_EXTENSION
    while len(result.callees) < callees:
        extension = str(number)
        number += 1
        if extension in reserved:
            continue
        _, credentials = create_user(
            company=company,
            username=f"bench-callee-{extension}",
            extension=extension,
            first_name="Callee",
            last_name=extension,
            sip_username=callee_endpoint(extension),
            sip_password=CALLEE_SIP_PASSWORD,
        )
        assert credentials is not None
        result.callees.append((extension, credentials.username))
    give_realistic_routing_settings(company)
    return result


def give_realistic_routing_settings(company: Any) -> None:
    """What a real company has set (issue 4's "realistic rule set per user"): outgoing barring and
    speed dials for the company; for every callee a mobile number and five forwarding rules, of
    which only the busy and no-answer ones match a benchmark call (the others wait on a presence, a
    night-time window or a listed caller), so routing scans them all on every call."""
    from datetime import time

    from telephony.models import BarringRule, CallSettings, ForwardingRule, SpeedDial

    company.outside_prefix = "0"
    company.save()
    for prefix in ("08", "0899", "00", "+44", "+1", "3615", "0690", "0800"):
        BarringRule.objects.create(company=company, direction="out", prefix=prefix, allow=prefix == "0800")
    for number_class in ("international", "premium"):
        BarringRule.objects.create(company=company, direction="in", number_class=number_class)
    for i in range(5):
        SpeedDial.objects.create(company=company, short_number=SPEED_DIALS[i], number=f"014567890{i}")
    users = list(company.users.exclude(username="bench-caller"))
    CallSettings.objects.bulk_create(
        CallSettings(user=user, mobile_number=f"06{user.pk:08d}"[:10]) for user in users
    )
    rules = []
    for user in users:
        common = {"company": company, "user": user}
        rules += [
            ForwardingRule(
                **common,
                position=0,
                label="Holiday",
                condition="always",
                destination="mobile",
                presences=["holiday", "sick"],
            ),
            ForwardingRule(
                **common,
                position=1,
                label="Nights",
                condition="always",
                destination="voicemail",
                time_from=time(2, 0),
                time_to=time(2, 1),
            ),
            ForwardingRule(
                **common,
                position=2,
                label="Boss",
                condition="always",
                destination="mobile",
                origin="listed",
                callers=["0611111111", "0622222222"],
            ),
            ForwardingRule(**common, position=3, label="Busy", condition="busy", destination="voicemail"),
            ForwardingRule(
                **common,
                position=4,
                label="No answer",
                condition="no_answer",
                destination="voicemail",
                no_answer_after=20,
            ),
        ]
    ForwardingRule.objects.bulk_create(rules)


def push_baseline_endpoint() -> None:
    """The baseline caller: the same PJSIP objects a device gets, with context bench-baseline."""
    push_bench_caller(BASELINE_ENDPOINT, BASELINE_SIP_PASSWORD, "bench-baseline", '"Bench baseline" <200>')


def push_floor_endpoint() -> None:
    """The floor caller: the same PJSIP objects a device gets, with context bench-floor (bench/floor.py)."""
    push_bench_caller(FLOOR_ENDPOINT, FLOOR_SIP_PASSWORD, "bench-floor", '"Bench floor" <199>')


def push_bench_caller(username: str, password: str, context: str, caller_id: str) -> None:
    from telephony.models import Device
    from telephony.provisioning import device_objects, sip_ha1

    device = Device(sip_username=username, sip_ha1=sip_ha1(username, password))
    for kind, object_id, fields in device_objects(device, language="en", caller_id=caller_id):
        if kind == "endpoint":
            fields = [(k, context if k == "context" else v) for k, v in fields]
        put_pjsip_object(kind, object_id, fields)


def point_callees_at(endpoints: list[str], host: str, port: int) -> None:
    """A static contact on each callee's AOR: every callee device rings the sipp UAS."""
    for endpoint in endpoints:
        put_pjsip_object(
            "aor", endpoint, [("contact", f"sip:{endpoint}@{host}:{port}"), ("max_contacts", "1")]
        )


def call_counts(company_id: int) -> dict[str, int]:
    """Call rows of the bench company: total, still open, and per outcome."""
    from django.db.models import Count

    from telephony.choices import CallState
    from telephony.models import Call

    calls = Call.objects.filter(company_id=company_id)
    counts = {"total": calls.count(), "open": calls.exclude(state=CallState.ENDED).count()}
    for row in calls.filter(state=CallState.ENDED).values("outcome").annotate(n=Count("id")):
        counts[f"outcome:{row['outcome'] or '-'}"] = row["n"]
    return counts


# --- the bridge ------------------------------------------------------------------------------------


class BridgeProcess:
    """`manage.py run_bridge` against the bench platform, as a subprocess with its own log."""

    name = "bridge"

    def __init__(self, env: dict[str, str], run_dir: Path, book: ProcessBook) -> None:
        self.env = env
        self.book = book
        self.log_path = run_dir / f"{self.name}.log"
        self.ready_file = run_dir / f"{self.name}.ready"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "manage.py", "run_bridge"]

    def extra_env(self) -> dict[str, str]:
        return {}

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def start(self, timeout: float = 120) -> None:
        self.ready_file.unlink(missing_ok=True)
        env = {
            **os.environ,
            **self.env,
            **self.extra_env(),
            "BRIDGE_READY_FILE": str(self.ready_file),
            "PYTHONUNBUFFERED": "1",
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process
        self.book.add(process.pid, self.name)
        ready = wait_until(lambda: self.ready_file.exists() or process.poll() is not None, timeout, 0.1)
        if process.poll() is not None:
            raise BenchError(f"the {self.name} exited at start; see {self.log_path}")
        if not ready or not self.ready_file.exists():
            raise BenchError(f"the {self.name} was not ready within {timeout}s; see {self.log_path}")

    def stop(self, timeout: float = 15) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.book.remove(self.process.pid)
        self.process = None


class FloorProcess(BridgeProcess):
    """`python -m bench.floor`: the minimal Stasis application of the floor path."""

    name = "floor"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bench.floor",
            "--app",
            f"{settings.ARI_APP}-floor",
            "--ready-file",
            str(self.ready_file),
        ]

    def extra_env(self) -> dict[str, str]:
        # The credentials travel in the environment, not on a command line others can read.
        return {"ARI_USERNAME": settings.ARI_USERNAME, "ARI_PASSWORD": settings.ARI_PASSWORD}
