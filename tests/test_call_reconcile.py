"""Reconciliation after a restart (stub Asterisk, records given): calls adopted concurrently, each
call's failure its own, records of calls cut by an Asterisk restart saying so, and the application
ready whatever happened."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ari_bridge import app as app_module
from ari_bridge import reconcile as reconcile_module
from ari_bridge.call import Call
from ari_bridge.reconcile import reconcile
from ari_bridge.state import ASTERISK_RESTART, State
from telephony import records
from telephony.choices import CallOutcome, CallState, LegRole

from .stub_ari import APP, Stage, leg_id, run

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@dataclass
class Row:
    """A call record as records.active_calls gives it."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    state: str = CallState.ANSWERED
    answered_at: datetime | None = T0
    bridge_id: str = ""


@dataclass
class LegRow:
    role: str
    channel_id: str
    answered_at: datetime | None = T0
    endpoint: str = "acme-102"
    device_id: int | None = 2


class Records:
    """Stands in for the database the reconciliation reads and writes."""

    def __init__(self, active: list[tuple[Row, list[LegRow]]]) -> None:
        self.active = active
        self.ended: list[dict[str, Any]] = []

    async def db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is records.active_calls:
            return self.active
        if fn is records.end_call:
            self.ended.append({"call_id": args[0], **kwargs})
            return None
        raise AssertionError(f"unexpected database call {fn}")


def connected(stage: Stage, n: int) -> tuple[Row, list[LegRow]]:
    """A connected two-party call that Asterisk still carries."""
    row = Row(bridge_id=f"{APP}-mixer-{n}")
    caller, callee = f"caller-{n}", f"{APP}-{row.id}-0"
    stage.ari.channels += [
        {"id": caller, "name": f"PJSIP/acme-101-{n}"},
        {"id": callee, "name": "PJSIP/acme-102-x"},
    ]
    stage.ari.bridges.append({"id": row.bridge_id, "channels": [caller, callee]})
    return row, [
        LegRow(LegRole.CALLER, caller, endpoint="acme-101", device_id=1),
        LegRow(LegRole.CALLEE, callee),
    ]


def test_a_connected_call_found_after_a_restart_is_adopted_and_follows_its_hang_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> None:
        row, legs = connected(stage, 1)
        store = Records([(row, legs)])
        monkeypatch.setattr(reconcile_module, "db", store.db)
        await reconcile(stage.app.services)
        await stage.settle()
        call = stage.registry.get(row.id)
        assert isinstance(call, Call) and call.state == State.CONNECTED
        [(args, _)] = stage.ari.made("subscribe")
        assert sorted(args[0]) == sorted(
            ["channel:caller-1", f"channel:{legs[1].channel_id}", f"bridge:{row.bridge_id}"]
        )
        await stage.event("ChannelDestroyed", legs[1].channel_id, cause=16)
        assert "caller-1" in stage.ari.hung_up() and stage.ari.made("destroy_bridge")
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.ANSWERED
        assert store.ended == []

    run(scenario)


def test_a_call_that_ends_while_it_is_adopted_is_that_call_s_end_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> None:
        rows = [connected(stage, n) for n in range(1, 4)]
        gone = rows[1][1][0].channel_id  # the second call's caller hung up after the channel list
        stage.ari.fail("subscribe", status=422, when=lambda sources: f"channel:{gone}" in sources)
        stage.ari.fail("request", status=404, when=lambda method, path, **k: path == f"/channels/{gone}")
        monkeypatch.setattr(reconcile_module, "db", Records(rows).db)
        await reconcile(stage.app.services)
        await stage.settle()
        # the other two are adopted and still up
        for row, _ in (rows[0], rows[2]):
            adopted = stage.registry.get(row.id)
            assert adopted is not None and not adopted.ended
        # the one whose caller left is ended, its callee hung up, its record closed as answered
        assert stage.registry.get(rows[1][0].id) is None
        assert rows[1][1][1].channel_id in stage.ari.hung_up()
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.ANSWERED

    run(scenario)


def test_calls_are_adopted_several_at_once_but_no_more_than_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> None:
        rows = [connected(stage, n) for n in range(10)]
        in_flight, most = 0, 0

        async def subscribe(sources: list[str]) -> None:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

        stage.ari.subscribe = subscribe  # type: ignore[attr-defined]
        monkeypatch.setattr(reconcile_module, "db", Records(rows).db)
        monkeypatch.setattr(reconcile_module, "CONCURRENCY", 4)
        await asyncio.wait_for(reconcile(stage.app.services), timeout=1)
        assert most == 4
        assert len(stage.registry) == 10

    run(scenario)


def test_a_call_back_without_a_caller_leg_of_its_own_is_adopted_from_its_mixer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> None:
        row, legs = connected(stage, 1)
        monkeypatch.setattr(reconcile_module, "db", Records([(row, legs[1:])]).db)
        await reconcile(stage.app.services)
        call = stage.registry.get(row.id)
        assert isinstance(call, Call) and call.caller.channel_id == "caller-1"
        assert stage.ari.hung_up() == []

    run(scenario)


def test_the_records_of_calls_an_asterisk_restart_cut_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(stage: Stage) -> None:
        answered, unanswered = Row(), Row(state=CallState.RINGING, answered_at=None)
        store = Records(
            [
                (answered, [LegRow(LegRole.CALLER, "old-1"), LegRow(LegRole.CALLEE, "old-2")]),
                (unanswered, [LegRow(LegRole.CALLER, "old-3", answered_at=None)]),
            ]
        )
        monkeypatch.setattr(reconcile_module, "db", store.db)
        await reconcile(stage.app.services, asterisk_restarted=True)
        assert {(e["call_id"], e["outcome"], e["reason"]) for e in store.ended} == {
            (answered.id, CallOutcome.ANSWERED, ASTERISK_RESTART),
            (unanswered.id, CallOutcome.FAILED, ASTERISK_RESTART),
        }

    run(scenario)


def test_a_record_whose_call_did_not_survive_a_bridge_restart_is_closed_and_its_channels_hung_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> None:
        row = Row(state=CallState.RINGING, answered_at=None)
        stage.ari.channels = [{"id": "caller-9", "name": "PJSIP/acme-101-9"}]
        store = Records([(row, [LegRow(LegRole.CALLER, "caller-9", answered_at=None)])])
        monkeypatch.setattr(reconcile_module, "db", store.db)
        await reconcile(stage.app.services)
        assert stage.ari.hung_up() == ["caller-9"]
        assert store.ended[0]["outcome"] == CallOutcome.FAILED and store.ended[0]["reason"] == "lost"

    run(scenario)


def test_a_live_call_whose_channels_went_while_ari_was_away_ends_with_the_restart_as_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        stage.ari.channels = []  # Asterisk restarted: nothing of the call is left
        monkeypatch.setattr(reconcile_module, "db", Records([]).db)
        await reconcile(stage.app.services, asterisk_restarted=True)
        await stage.settle()
        assert call.state == State.ENDED
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.ANSWERED and ended["reason"] == ASTERISK_RESTART

    run(scenario)


def test_channels_of_ours_that_no_call_owns_are_hung_up_and_others_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> None:
        stage.ari.channels = [
            {"id": f"{APP}-stray-0", "name": "PJSIP/acme-102-1"},
            {"id": "someone-else", "name": "PJSIP/x-1", "dialplan": {"app_name": "Dial", "app_data": ""}},
            {
                "id": "in-stasis",
                "name": "PJSIP/x-2",
                "dialplan": {"app_name": "Stasis", "app_data": f"{APP},inbound"},
            },
        ]
        monkeypatch.setattr(reconcile_module, "db", Records([]).db)
        await reconcile(stage.app.services)
        assert sorted(stage.ari.hung_up()) == sorted([f"{APP}-stray-0", "in-stasis"])

    run(scenario)


def test_the_application_says_it_is_ready_and_starts_its_tasks_even_when_reconciliation_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(app_module, "reconcile", failing)
    monkeypatch.setattr(app_module, "db", failing)

    async def scenario(stage: Stage) -> None:
        stage.app.ready_file = str(tmp_path / "ready")
        stage.app.startup_time = "t0"
        stage.app.availability_poll = 60
        await stage.app._on_connected(False)
        assert (tmp_path / "ready").read_text() == "t0"
        assert stage.app.connected.is_set()
        names = {task.get_name() for task in stage.app.tasks if isinstance(task, asyncio.Task)}
        assert {"voicemail-sweeper", "availability"} <= names

    run(scenario)


def test_two_thousand_calls_are_adopted_within_a_few_seconds_when_each_request_takes_5_ms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(stage: Stage) -> float:
        rows = [connected(stage, n) for n in range(2000)]
        stage.ari.delays["subscribe"] = 0.005
        monkeypatch.setattr(reconcile_module, "db", Records(rows).db)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await reconcile(stage.app.services)
        took = loop.time() - started
        assert len(stage.registry) == 2000 and stage.ari.hung_up() == []
        return took

    assert run(scenario) < 3.0
