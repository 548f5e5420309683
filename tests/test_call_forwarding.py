"""Forwarding (D1-D4) and the reroutes of a call, executed by the call actor (stub Asterisk)."""

from __future__ import annotations

import dataclasses

from ari_bridge.state import State
from telephony import records

from .stub_ari import ACME, Stage, carol, leg_id, phone, rule, run


def test_an_always_rule_forwards_the_call_before_any_phone_of_the_callee_rings() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(rules=(rule("always", "103"),))
        call = await stage.place("102")
        assert [c["endpoint"] for c in stage.ari.created()] == ["PJSIP/acme-103"]
        assert stage.writes(records.set_forwarded) == [{"by_user_id": 12}]
        assert call.forwarded_by == (12,)
        assert len(stage.written(records.start_call)) == 1

    run(scenario)


def test_a_busy_rule_forwards_a_call_to_a_callee_whose_phone_is_busy() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(
            devices=(phone(2, "acme-102", active_calls=1),), rules=(rule("busy", "103"),)
        )
        call = await stage.place("102")
        assert call.state == State.RINGING
        assert [c["endpoint"] for c in stage.ari.created()] == ["PJSIP/acme-103"]

    run(scenario)


def test_a_no_answer_rule_forwards_after_the_timeout_on_channels_of_a_new_attempt() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(rules=(rule("no_answer", "103", no_answer_after=10),))
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.timer(call, "_ring_timeout")
        assert leg_id(call) in stage.ari.hung_up()
        assert [c["channel_id"] for c in stage.ari.created()] == [leg_id(call), leg_id(call, 0, generation=2)]
        assert call.state == State.RINGING and call.forwarded_by == (12,)
        # the same call record follows the call
        assert len(stage.written(records.start_call)) == 1
        # and the new attempt's phone answering connects the caller
        await stage.answer(leg_id(call, 0, generation=2))
        assert call.state == State.CONNECTED

    run(scenario)


def test_a_late_answer_from_the_first_attempt_after_a_forward_is_hung_up() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(rules=(rule("no_answer", "103", no_answer_after=10),))
        call = await stage.place("102")
        await stage.ready(leg_id(call))
        await stage.timer(call, "_ring_timeout")
        await stage.dial_status(leg_id(call), "ANSWER")
        assert call.state == State.RINGING
        assert stage.ari.made("hangup")[-1] == ((leg_id(call),), {"reason": "answered_elsewhere"})

    run(scenario)


def test_a_forward_to_an_outside_number_rings_through_the_trunk_showing_the_callee_s_number() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(rules=(rule("always", "+33622222222"),))
        await stage.place("102")
        [created] = stage.ari.created()
        assert created["endpoint"] == "PJSIP/+33622222222@carrier"
        assert created["variables"]["CALLERID(num)"] == "+33140000102"
        # the record names carol, then the number her rule sent the call to
        assert [c["number"] for c in stage.writes(records.set_callee)] == ["102", "+33622222222"]

    run(scenario)


def test_a_forward_to_an_outside_number_over_the_companys_fraud_limit_is_refused_with_its_announcement() -> (
    None
):
    async def scenario(stage: Stage) -> None:
        stage.cache.callees["102"] = carol(rules=(rule("always", "+33622222222"),))
        stage.cache.over_fraud_limit = True
        await stage.place("102")
        # nothing is dialled through the trunk; the caller hears why, from the dialplan
        assert stage.ari.created() == []
        assert stage.ari.sent_to_dialplan() == ["limit"]

    run(scenario)


def test_a_call_to_the_company_s_own_public_number_is_reached_on_the_platform() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.policy = dataclasses.replace(ACME, own_numbers={"+33140000103": "103"})
        await stage.place("+33140000103")
        assert [c["endpoint"] for c in stage.ari.created()] == ["PJSIP/acme-103"]
        assert len(stage.written(records.start_call)) == 1
        assert [c["number"] for c in stage.writes(records.set_callee)] == ["103"]

    run(scenario)


def test_a_forward_to_the_company_s_own_public_number_rings_the_colleague_on_the_same_call() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.policy = dataclasses.replace(ACME, own_numbers={"+33140000103": "103"})
        stage.cache.callees["102"] = carol(rules=(rule("always", "+33140000103"),))
        call = await stage.place("102")
        assert [c["endpoint"] for c in stage.ari.created()] == ["PJSIP/acme-103"]
        assert call.forwarded_by == (12,)
        assert len(stage.written(records.start_call)) == 1

    run(scenario)


def test_another_company_s_public_number_goes_out_through_the_trunk() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.policy = dataclasses.replace(ACME, own_numbers={"+33140000103": "103"})
        await stage.place("+33150000103")
        assert [c["endpoint"] for c in stage.ari.created()] == ["PJSIP/+33150000103@carrier"]

    run(scenario)
