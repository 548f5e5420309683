"""The call's own ends: cancel, hang-ups on either side, a hang-up asked for, the transition table,
and a request failing under the call as when a side hung up a moment before (stub Asterisk)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from ari_bridge.state import TRANSITIONS, IllegalTransition, State, check_transition
from telephony import records
from telephony.choices import CallOutcome

from .stub_ari import CALLER_CHANNEL, Stage, leg_id, run


def test_an_answered_call_is_recorded_as_answered_even_when_bridging_fails() -> None:
    async def scenario(stage: Stage) -> None:
        stage.ari.fail("add_to_bridge", status=400)
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        assert call.state == State.CONNECTED
        assert "add_to_bridge" in stage.ari.names()
        [answered] = stage.writes(records.mark_answered)
        assert answered["channel_id"] == leg_id(call)

    run(scenario)


def test_the_caller_hanging_up_while_it_rings_cancels_the_call_and_stops_the_phones() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.event("ChannelHangupRequest", CALLER_CHANNEL, cause=16)
        assert call.state == State.ENDED
        assert stage.ari.hung_up() == [leg_id(call)]
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.CANCELLED
        assert call.call_id not in stage.registry

    run(scenario)


def test_the_callee_hanging_up_ends_the_call_for_the_caller_and_destroys_the_mixer() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        await stage.event("ChannelDestroyed", leg_id(call), cause=16)
        assert stage.ari.hung_up() == [CALLER_CHANNEL]
        assert stage.ari.made("destroy_bridge") == [((f"istra-unit-{call.call_id}",), {})]
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.ANSWERED
        [leg] = stage.writes(records.end_leg)
        assert leg["outcome"] == CallOutcome.ANSWERED and leg["cause"] == 16

    run(scenario)


def test_the_caller_hanging_up_a_connected_call_ends_it_as_answered() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        await stage.event("StasisEnd", CALLER_CHANNEL)
        assert stage.ari.hung_up() == [leg_id(call)]
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.ANSWERED

    run(scenario)


def test_a_hang_up_posted_to_a_call_ends_it_on_both_sides() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        assert stage.registry.post(call.call_id, {"type": "_hangup", "reason": "hung_up_from_web"})
        await stage.settle()
        assert sorted(stage.ari.hung_up()) == sorted([CALLER_CHANNEL, leg_id(call)])
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.ANSWERED and ended["reason"] == "hung_up_from_web"
        assert not stage.registry.post(call.call_id, {"type": "_hangup"})

    run(scenario)


def test_a_channel_that_vanished_under_a_request_ends_the_call_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario(stage: Stage) -> None:
        stage.ari.fail("create_bridge", status=404)
        call = await stage.place("102")
        with caplog.at_level(logging.INFO, logger="ari_bridge"):
            await stage.answer(leg_id(call))
            await stage.event("ChannelDestroyed", CALLER_CHANNEL, cause=16)
        assert call.state == State.ENDED
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.ANSWERED

    run(scenario)


def test_a_call_from_a_device_nobody_knows_hears_the_unavailable_announcement_and_leaves_no_record() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.caller = None
        call = await stage.place("102")
        assert call.state == State.ENDED
        assert stage.ari.sent_to_dialplan() == ["unavailable"]
        assert stage.batcher.writes == []

    run(scenario)


def test_no_call_can_leave_the_ended_state() -> None:
    for state in State:
        with pytest.raises(IllegalTransition):
            check_transition(State.ENDED, state)


def test_a_connected_call_can_only_end() -> None:
    assert TRANSITIONS[State.CONNECTED] == {State.ENDED}
    with pytest.raises(IllegalTransition):
        check_transition(State.CONNECTED, State.RINGING)


def test_a_call_cut_by_asterisk_shutting_down_is_recorded_as_cut_by_the_restart() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        # Asterisk's shutdown asks every channel to hang up, the flag AST_SOFTHANGUP_SHUTDOWN as cause
        await stage.event("ChannelHangupRequest", leg_id(call), cause=4, soft=True)
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.ANSWERED and ended["reason"] == "asterisk_restart"
        [leg] = stage.writes(records.end_leg)
        assert leg["cause"] is None  # a flag, not a Q.850 cause

    run(scenario)


def test_a_hang_up_asked_for_by_another_application_is_an_ordinary_end() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        await stage.event("ChannelHangupRequest", CALLER_CHANNEL, cause=32, soft=True)
        assert stage.writes(records.end_call)[0]["reason"] == ""

    run(scenario)


def test_a_mixer_refusing_a_channel_that_just_left_is_an_ordinary_end_not_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario(stage: Stage) -> None:
        stage.ari.fail("add_to_bridge", status=400)  # {"message": "Channel not found"}
        call = await stage.place("102")
        with caplog.at_level(logging.INFO, logger="ari_bridge"):
            await stage.answer(leg_id(call))
        assert call.state == State.CONNECTED
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        assert any("a channel left" in r.getMessage() for r in caplog.records)

    run(scenario)


def test_the_record_keeps_the_times_asterisk_says_things_happened_not_when_the_bridge_got_to_them() -> None:
    started, rang, answered, ended = (f"2026-12-01T10:00:0{n}.000+0000" for n in (1, 2, 3, 7))

    async def scenario(stage: Stage) -> None:
        # given a bridge that reads the events of a call late (busy, or frozen for a while)
        call = await stage.place("102", timestamp=started)
        await stage.ready(leg_id(call))
        await stage.dial_status(leg_id(call), "RINGING", timestamp=rang)
        await stage.dial_status(leg_id(call), "ANSWER", timestamp=answered)
        await stage.event("ChannelDestroyed", CALLER_CHANNEL, cause=16, timestamp=ended)

        # then each write carries the event's own time
        [(args, _)] = stage.written(records.start_call)
        assert args[0].started_at == datetime.fromisoformat(started)
        assert stage.writes(records.mark_ringing)[0]["at"] == datetime.fromisoformat(rang)
        assert stage.writes(records.mark_answered)[0]["at"] == datetime.fromisoformat(answered)
        assert stage.writes(records.end_call)[0]["at"] == datetime.fromisoformat(ended)

    run(scenario)
