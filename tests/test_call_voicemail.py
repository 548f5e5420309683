"""The call handing its caller to a dialog: leaving a message, the voicemail menu and its call-back,
a dial code (stub Asterisk; the dialogs themselves are replaced by recorders of what they were given)."""

from __future__ import annotations

from typing import Any

import pytest

from ari_bridge import call as call_module
from ari_bridge.dialogs.base import DialogChannel
from ari_bridge.state import State
from telephony import records
from telephony.choices import CallOutcome
from telephony.routing import ApplyDialCode, Feature

from .stub_ari import CALLER_CHANNEL, Stage, carol, leg_id, run


class Deposits:
    """Stands in for dialogs.voicemail.deposit: notes what it is given, reads one event if asked."""

    def __init__(self, *, read_one: bool = False, error: Exception | None = None) -> None:
        self.given: list[tuple[DialogChannel, int, dict[str, Any]]] = []
        self.heard: list[dict[str, Any]] = []
        self.read_one = read_one
        self.error = error

    async def __call__(self, channel: DialogChannel, mailbox_id: int, **kwargs: Any) -> None:
        self.given.append((channel, mailbox_id, kwargs))
        if self.error is not None:
            raise self.error
        if self.read_one:
            self.heard.append(await channel.events.get())


def test_no_answer_hands_the_caller_to_the_callee_s_voicemail_on_a_narrow_channel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deposits = Deposits()
    monkeypatch.setattr(call_module, "deposit", deposits)

    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(mailbox_id=7)
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.timer(call, "_ring_timeout")
        [(channel, mailbox_id, kwargs)] = deposits.given
        assert (channel.channel_id, mailbox_id) == (CALLER_CHANNEL, 7)
        assert channel.caller.number == "101" and channel.caller.user_id == 11
        assert kwargs == {"answered": False, "asterisk_server": "ast-unit", "call_id": call.call_id}
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.NO_ANSWER and ended["reason"] == "voicemail"

    run(scenario)


def test_a_callee_in_do_not_disturb_sends_the_caller_straight_to_voicemail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deposits = Deposits()
    monkeypatch.setattr(call_module, "deposit", deposits)

    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(mailbox_id=7, dnd=True)
        await stage.place("102")
        assert stage.ari.created() == [] and len(deposits.given) == 1

    run(scenario)


def test_the_dialog_reads_the_caller_s_events_from_the_call_s_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    deposits = Deposits(read_one=True)
    monkeypatch.setattr(call_module, "deposit", deposits)

    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(mailbox_id=7, dnd=True)
        call = await stage.place("102")
        assert call.state == State.DIALOG
        await stage.event("ChannelDtmfReceived", CALLER_CHANNEL, digit="5")
        assert deposits.heard[0]["digit"] == "5"
        assert call.state == State.ENDED

    run(scenario)


def test_a_caller_gone_when_voicemail_answers_is_a_normal_end_logged_below_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ari_bridge.client import AriError

    deposits = Deposits(error=AriError(404, "POST", "/channels/caller-1/play", "Channel not found"))
    monkeypatch.setattr(call_module, "deposit", deposits)

    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(mailbox_id=7, dnd=True)
        call = await stage.place("102")
        assert call.state == State.ENDED
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.NO_ANSWER and ended["reason"] == "voicemail"

    run(scenario)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]


def test_the_voicemail_service_is_answered_by_its_menu_and_recorded_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owners: list[int | None] = []

    async def menu(channel: DialogChannel, owner_user_id: int | None) -> str | None:
        owners.append(owner_user_id)
        return None

    monkeypatch.setattr(call_module, "menu", menu)

    async def scenario(stage: Stage) -> None:
        call = await stage.place("555")
        assert owners == [11] and call.state == State.ENDED
        [ended] = stage.writes(records.end_call)
        assert ended["outcome"] == CallOutcome.ANSWERED and ended["reason"] == "voicemail_service"

    run(scenario)


def test_a_call_back_from_the_menu_is_a_new_call_on_the_same_leg(monkeypatch: pytest.MonkeyPatch) -> None:
    async def menu(channel: DialogChannel, owner_user_id: int | None) -> str | None:
        return "102"

    monkeypatch.setattr(call_module, "menu", menu)

    async def scenario(stage: Stage) -> None:
        first = await stage.place("555")
        back = stage.started[-1]
        # a call of its own, known by its own id, holding the caller's channel
        assert back is not first and back.call_id != first.call_id
        assert back.call_id in stage.registry and first.call_id not in stage.registry
        assert stage.registry.of_channel(CALLER_CHANNEL) is back
        assert back.state == State.RINGING
        # its record is new, without a caller leg (the channel's is the first call's)
        first_record, back_record = (args[0] for args, _ in stage.written(records.start_call))
        assert first_record.call_id == first.call_id and first_record.caller_leg
        assert back_record.call_id == back.call_id and not back_record.caller_leg
        # and its callee rings, the caller hearing a ringback tone (the channel is answered)
        [created] = stage.ari.created()
        assert created["app_args"] == f"dialled,{back.call_id}"
        assert stage.ari.made("play")[0][0][1] == ["tone:ring"]

    run(scenario)


def test_a_call_back_ends_for_both_sides_when_the_caller_hangs_up(monkeypatch: pytest.MonkeyPatch) -> None:
    async def menu(channel: DialogChannel, owner_user_id: int | None) -> str | None:
        return "102"

    monkeypatch.setattr(call_module, "menu", menu)

    async def scenario(stage: Stage) -> None:
        await stage.place("555")
        back = stage.started[-1]
        await stage.answer(leg_id(back))
        assert back.state == State.CONNECTED
        await stage.event("ChannelDestroyed", CALLER_CHANNEL, cause=16)
        assert back.state == State.ENDED and leg_id(back) in stage.ari.hung_up()
        assert len(stage.registry) == 0

    run(scenario)


def test_a_dial_code_is_answered_applied_by_its_dialog_and_recorded_with_its_feature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied: list[tuple[str, ApplyDialCode]] = []

    async def apply_dial_code(channel: DialogChannel, plan: ApplyDialCode) -> None:
        applied.append((channel.channel_id, plan))

    monkeypatch.setattr(call_module, "apply_dial_code", apply_dial_code)

    async def scenario(stage: Stage) -> None:
        await stage.place("*8")
        [(channel_id, plan)] = applied
        assert channel_id == CALLER_CHANNEL and plan.user_id == 11
        assert stage.ari.made("answer") == [((CALLER_CHANNEL,), {})]
        [answered] = stage.writes(records.mark_answered)
        assert answered["channel_id"] == CALLER_CHANNEL and answered["bridge_id"] == ""
        [ended] = stage.writes(records.end_call)
        assert ended["reason"] == f"dial_code:{plan.feature}"
        assert isinstance(plan.feature, Feature)

    run(scenario)
