"""The call actor ringing a colleague's devices (A1, A2, A7), with a stub Asterisk (tests/stub_ari.py)."""

from __future__ import annotations

from ari_bridge.state import State
from telephony import records
from telephony.choices import CallOutcome

from .stub_ari import CALLER_CHANNEL, Stage, carol, leg_id, phone, remote, run


def test_a_call_to_a_colleague_rings_their_phone_and_sends_ringback_to_the_caller() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        assert call.state == State.RINGING
        [created] = stage.ari.created()
        assert created["endpoint"] == "PJSIP/acme-102"
        assert created["app_args"] == f"dialled,{call.call_id}"
        assert created["originator"] == CALLER_CHANNEL
        assert created["variables"] == {"CALLERID(num)": "101", "CALLERID(name)": "Bob"}
        assert stage.ari.made("ring") == [((CALLER_CHANNEL,), {})]
        [(args, _)] = stage.written(records.start_call)
        assert args[0].dialled == "102" and args[0].caller_leg

    run(scenario)


def test_a_phone_is_dialled_only_once_its_channel_is_in_stasis() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        assert stage.ari.made("dial") == []
        await stage.ready(leg_id(call))
        [(args, kwargs)] = stage.ari.made("dial")
        assert args == (leg_id(call),) and kwargs["caller"] == CALLER_CHANNEL
        await stage.ready(leg_id(call))  # a second StasisStart dials nothing more
        assert len(stage.ari.made("dial")) == 1

    run(scenario)


def test_a_phone_ringing_marks_the_record_ringing_once() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.dial_status(leg_id(call), "RINGING")
        await stage.dial_status(leg_id(call), "RINGING")
        assert len(stage.writes(records.mark_ringing)) == 1

    run(scenario)


def test_the_callee_answering_joins_both_sides_in_one_mixer_and_records_the_answer() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        assert call.state == State.CONNECTED
        mixer = f"istra-unit-{call.call_id}"
        assert list(call.mixers) == [mixer]
        assert stage.ari.made("create_bridge") == [((mixer,), {})]
        assert stage.ari.made("answer") == [((CALLER_CHANNEL,), {})]
        assert stage.ari.made("add_to_bridge") == [((mixer, [CALLER_CHANNEL, leg_id(call)]), {})]
        [answered] = stage.writes(records.mark_answered)
        assert answered["channel_id"] == leg_id(call) and answered["bridge_id"] == mixer

    run(scenario)


def test_the_first_phone_to_answer_takes_the_call_and_the_others_stop_ringing() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(devices=(phone(2, "acme-102"), phone(4, "acme-102b")))
        call = await stage.place("102")
        assert len(stage.ari.created()) == 2
        await stage.ready(leg_id(call, 1))
        await stage.answer(leg_id(call, 0))
        assert call.state == State.CONNECTED
        assert stage.ari.made("hangup") == [((leg_id(call, 1),), {"reason": "answered_elsewhere"})]

    run(scenario)


def test_a_phone_answering_after_another_took_the_call_is_hung_up() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(devices=(phone(2, "acme-102"), phone(4, "acme-102b")))
        call = await stage.place("102")
        await stage.answer(leg_id(call, 0))
        await stage.answer(leg_id(call, 1))
        assert stage.ari.hung_up().count(leg_id(call, 1)) == 2  # released, then refused again
        assert len(stage.writes(records.mark_answered)) == 1

    run(scenario)


def test_a_phone_with_a_ring_delay_rings_only_when_its_delay_is_up() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(
            devices=(phone(2, "acme-102"), phone(4, "acme-mobile", ring_delay=5))
        )
        call = await stage.place("102")
        assert [c["endpoint"] for c in stage.ari.created()] == ["PJSIP/acme-102"]
        await stage.timer(call, "_dial", index=1)
        assert [c["endpoint"] for c in stage.ari.created()] == ["PJSIP/acme-102", "PJSIP/acme-mobile"]

    run(scenario)


def test_a_delayed_phone_that_is_not_registered_is_never_rung() -> None:
    async def scenario(stage: Stage) -> None:
        stage.ari.endpoint_states["acme-mobile"] = "offline"
        stage.cache.callees["102"] = carol(
            devices=(phone(2, "acme-102"), phone(4, "acme-mobile", ring_delay=5))
        )
        call = await stage.place("102")
        assert call.ringing is not None and len(call.ringing.plan.targets) == 1

    run(scenario)


def test_a_busy_callee_hears_the_busy_announcement_and_the_call_is_recorded_busy() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.dial_status(leg_id(call), "BUSY")
        assert call.state == State.ENDED
        assert stage.ari.sent_to_dialplan() == ["busy"]
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.BUSY

    run(scenario)


def test_a_phone_hanging_up_with_cause_17_while_ringing_counts_as_busy() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.event("ChannelDestroyed", leg_id(call), cause=17)
        assert stage.ari.sent_to_dialplan() == ["busy"]

    run(scenario)


def test_a_callee_whose_phones_cannot_be_reached_hears_the_no_answer_announcement() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.dial_status(leg_id(call), "CHANUNAVAIL")
        assert stage.ari.sent_to_dialplan() == ["noanswer"]
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.NO_ANSWER and ended["reason"] == "no_device"

    run(scenario)


def test_a_channel_that_cannot_be_created_counts_as_unreachable() -> None:
    async def scenario(stage: Stage) -> None:
        stage.ari.fail("create_channel", status=400)
        call = await stage.place("102")
        assert call.state == State.ENDED
        assert stage.ari.sent_to_dialplan() == ["noanswer"]
        [leg] = stage.writes(records.end_leg)
        assert leg["outcome"] == CallOutcome.NO_ANSWER

    run(scenario)


def test_nobody_answering_in_time_stops_the_phones_and_ends_the_call_as_no_answer() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.timer(call, "_ring_timeout")
        assert stage.ari.made("hangup") == [((leg_id(call),), {"reason": "no_answer"})]
        assert stage.ari.sent_to_dialplan() == ["noanswer"]
        assert stage.writes(records.end_call)[0]["outcome"] == CallOutcome.NO_ANSWER

    run(scenario)


def test_a_remote_terminal_must_press_a_key_before_it_is_connected() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(devices=(remote(5, "+33611111111", confirm=True),))
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        assert call.state == State.RINGING
        [(args, _)] = stage.ari.made("play")
        assert args[1][0] == "sound:istra/remote-confirm"
        await stage.event("ChannelDtmfReceived", leg_id(call), digit="1")
        assert call.state == State.CONNECTED
        assert stage.ari.made("stop_playback") == [((f"confirm-{leg_id(call)}",), {})]

    run(scenario)


def test_a_remote_terminal_pressing_no_key_is_hung_up_and_the_call_goes_on_as_unanswered() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(devices=(remote(5, "+33611111111", confirm=True),))
        call = await stage.place("102")
        await stage.answer(leg_id(call))
        await stage.timer(call, "_confirm_timeout", channel_id=leg_id(call))
        assert leg_id(call) in stage.ari.hung_up()
        assert call.state == State.ENDED and stage.ari.sent_to_dialplan() == ["noanswer"]

    run(scenario)


def test_a_remote_terminal_is_shown_the_callers_outside_number_through_the_trunk() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(devices=(remote(5, "+33611111111"),))
        await stage.place("102")
        [created] = stage.ari.created()
        assert created["endpoint"] == "PJSIP/+33611111111@carrier"
        assert created["variables"]["CALLERID(num)"] == "+33140000101"
        assert created["variables"]["CONNECTEDLINE(num)"] == "+33140000101"

    run(scenario)


def test_a_busy_phone_of_a_call_on_this_bridge_is_not_rung_again() -> None:
    async def scenario(stage: Stage) -> None:
        first = await stage.place("102")
        await stage.answer(leg_id(first))
        # a second call to carol, from another phone, while her only phone is in the first one
        stage.app.dispatch(
            {
                "type": "StasisStart",
                "channel": {"id": "caller-2", "name": "PJSIP/acme-104-00000002"},
                "args": ["inbound", "102"],
            }
        )
        await stage.settle()
        second = stage.started[-1]
        assert second is not first and second.state == State.ENDED
        assert stage.ari.sent_to_dialplan() == ["busy"]

    run(scenario)


def test_a_stale_timer_of_an_earlier_ringing_attempt_is_ignored() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        call.deliver({"type": "_ring_timeout", "generation": 99})
        await stage.settle()
        assert call.state == State.RINGING and stage.ari.made("hangup") == []

    run(scenario)


def test_a_phone_that_failed_to_ring_is_not_counted_busy_while_the_call_rings_its_others() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(devices=(phone(2, "acme-102"), phone(4, "acme-102b")))
        call = await stage.place("102")
        await stage.ready(leg_id(call, 0))
        await stage.dial_status(leg_id(call, 0), "CHANUNAVAIL")
        assert dict(stage.registry.device_call_counts()) == {1: 1, 4: 1}

    run(scenario)
