"""The typed Stasis entries the dialplan, the web and the bridge pass each other (telephony/contract.py)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from telephony.contract import ClickToCall, Dialled, FromCarrier, Inbound, parse_entry

NUMBERS = st.text(alphabet="0123456789*#+", min_size=1, max_size=20)


def test_each_entry_is_read_back_from_the_arguments_it_writes() -> None:
    call_id = uuid.uuid4()
    for entry in (Inbound("102"), FromCarrier("+33140000101"), ClickToCall("*2103"), Dialled(call_id)):
        assert parse_entry(entry.args().split(",")) == entry


@given(NUMBERS)
def test_any_number_dialled_survives_the_round_trip(number: str) -> None:
    assert parse_entry(Inbound(number).args().split(",")) == Inbound(number)
    assert parse_entry(ClickToCall(number).args().split(",")) == ClickToCall(number)


def test_an_inbound_entry_without_its_number_dialled_the_channel_s_extension() -> None:
    assert parse_entry(["inbound"], exten="103") == Inbound("103")


def test_arguments_that_are_none_of_ours_are_no_entry() -> None:
    assert parse_entry([]) is None
    assert parse_entry(["floor", "202"]) is None
    assert parse_entry(["carrier"]) is None
    assert parse_entry(["dialled", "not-a-call-id"]) is None
