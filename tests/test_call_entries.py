"""How a call enters the bridge: from a phone, from the carrier, from click-to-call (stub Asterisk)."""

from __future__ import annotations

from ari_bridge.state import State
from telephony import records
from telephony.queries import DidTarget

from .stub_ari import ACME, CALLER_CHANNEL, Stage, run

ACME_DID = DidTarget(company_id=1, timezone="Europe/Paris", voicemail_number="555", dial="102", policy=ACME)


def test_a_call_from_the_carrier_rings_the_user_its_number_names_showing_the_outside_caller() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.dids["+33140000102"] = ACME_DID
        call = await stage.place(
            "+33140000102", kind="carrier", caller={"caller": {"number": "33612345678", "name": "Outside"}}
        )
        assert call.state == State.RINGING
        # the carrier sent the number without its +: the phones are shown it with it
        assert stage.ari.made("set_variable") == [((CALLER_CHANNEL, "CALLERID(num)", "+33612345678"), {})]
        [created] = stage.ari.created()
        assert created["endpoint"] == "PJSIP/acme-102"
        [(args, _)] = stage.written(records.start_call)
        assert args[0].caller_number == "+33612345678" and args[0].caller_user_id is None

    run(scenario)


def test_a_withheld_number_from_the_carrier_is_shown_anonymous() -> None:
    async def scenario(stage: Stage) -> None:
        stage.cache.dids["+33140000102"] = ACME_DID
        await stage.place(
            "+33140000102", kind="carrier", caller={"caller": {"number": "restricted", "name": "X"}}
        )
        assert stage.ari.made("set_variable") == [((CALLER_CHANNEL, "CALLERID(num)", "anonymous"), {})]
        [(args, _)] = stage.written(records.start_call)
        assert args[0].caller_number == "anonymous" and args[0].caller_name == ""

    run(scenario)


def test_a_carrier_call_to_a_number_nobody_has_hears_the_unknown_number_announcement() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("+33149999999", kind="carrier")
        assert call.state == State.ENDED and stage.ari.sent_to_dialplan() == ["unknown"]

    run(scenario)


def test_a_click_to_call_places_the_call_from_the_answered_phone_with_the_user_s_identity() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102", kind="clicktocall")
        assert stage.ari.made("set_variable") == [((CALLER_CHANNEL, "CALLERID(all)", '"Bob" <101>'), {})]
        # the phone is answered already: it hears a ringback tone, not a 180
        assert stage.ari.made("ring") == []
        assert stage.ari.made("play")[0][0][1] == ["tone:ring"]
        assert call.state == State.RINGING

    run(scenario)


def test_a_channel_the_bridge_created_entering_stasis_starts_no_call_of_its_own() -> None:
    async def scenario(stage: Stage) -> None:
        call = await stage.place("102")
        stage.app.dispatch(
            {"type": "StasisStart", "channel": {"id": "other"}, "args": ["dialled", str(call.call_id)]}
        )
        await stage.settle()
        assert stage.started == [call]

    run(scenario)
