"""Toll-fraud limits (J2): the decision (routing, pure), the usage it is fed (queries, from call
records) and the alert to the company's administrators."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from directory.models import Company
from telephony import fraud, queries, records
from telephony.routing import (
    FraudLimit,
    OutsideUsage,
    Reject,
    RejectReason,
    RingDevices,
    RingTarget,
    fraud_limit_reached,
    unusual_international_traffic,
    within_fraud_limits,
)
from telephony.tasks import send_fraud_alert
from tests.personas import Person

PARIS = ZoneInfo("Europe/Paris")


def usage(
    open_calls: int = 0, seconds: int = 0, max_calls: int | None = 2, minutes: int | None = 10
) -> OutsideUsage:
    return OutsideUsage(
        open_calls=open_calls,
        international_seconds_today=seconds,
        max_calls=max_calls,
        max_international_minutes=minutes,
    )


def outside_plan(number: str) -> RingDevices:
    return RingDevices(
        callee=None,
        targets=(RingTarget(device_id=None, endpoint="carrier", delay=0, number=number),),
        timeout=60,
        caller_id_number="+33140000000",
        caller_id_name="Bob",
        external=True,
    )


def test_a_call_out_under_both_limits_goes_out() -> None:
    assert fraud_limit_reached("+33612345678", "33", usage(open_calls=1, seconds=599)) is None
    assert fraud_limit_reached("+447700900123", "33", usage(open_calls=1, seconds=599)) is None


def test_a_call_out_when_the_company_has_its_maximum_of_calls_out_is_refused() -> None:
    assert fraud_limit_reached("+33612345678", "33", usage(open_calls=2)) == FraudLimit.SIMULTANEOUS_CALLS

    plan = within_fraud_limits(outside_plan("+33612345678"), "33", usage(open_calls=2))

    assert plan == Reject(RejectReason.FRAUD_LIMIT)


def test_the_international_minutes_limit_refuses_only_international_calls() -> None:
    spent = usage(seconds=600)  # 10 minutes of 10

    assert fraud_limit_reached("+97912345678", "33", spent) == FraudLimit.INTERNATIONAL_MINUTES
    assert fraud_limit_reached("+33612345678", "33", spent) is None


def test_no_limit_set_means_no_refusal() -> None:
    unlimited = usage(open_calls=500, seconds=10**6, max_calls=None, minutes=None)

    assert fraud_limit_reached("+97912345678", "33", unlimited) is None


def test_emergency_numbers_are_never_refused() -> None:
    assert fraud_limit_reached("112", "33", usage(open_calls=99, max_calls=0)) is None


def test_internal_calls_are_not_concerned() -> None:
    internal = RingDevices(callee=None, targets=(), timeout=20, caller_id_number="101", caller_id_name="Bob")

    assert within_fraud_limits(internal, "33", usage(open_calls=99, max_calls=0)) is internal


def ringing_with_a_mobile(mobile: str = "+33612345678") -> RingDevices:
    """Carol's desk phone and her mobile as a remote terminal, rung through the trunk."""
    return RingDevices(
        callee=None,
        targets=(
            RingTarget(device_id=7, endpoint="acme-102", delay=0),
            RingTarget(device_id=8, endpoint="carrier", delay=0, number=mobile),
        ),
        timeout=20,
        caller_id_number="101",
        caller_id_name="Bob",
        on_unreachable=Reject(RejectReason.NO_ANSWER),
    )


def test_a_remote_terminal_over_the_limit_is_left_out_while_the_desk_phone_still_rings() -> None:
    plan = within_fraud_limits(ringing_with_a_mobile(), "33", usage(open_calls=2))

    assert isinstance(plan, RingDevices)
    assert [target.endpoint for target in plan.targets] == ["acme-102"]


def test_a_remote_terminal_under_the_limits_rings_as_planned() -> None:
    planned = ringing_with_a_mobile()

    assert within_fraud_limits(planned, "33", usage(open_calls=1)) is planned


def test_a_call_that_could_only_ring_remote_terminals_over_the_limit_takes_its_unreachable_path() -> None:
    only_mobiles = replace(ringing_with_a_mobile(), targets=ringing_with_a_mobile().targets[1:])

    assert within_fraud_limits(only_mobiles, "33", usage(open_calls=5)) == Reject(RejectReason.NO_ANSWER)


def test_each_outside_number_rung_at_once_counts_toward_the_simultaneous_calls_limit() -> None:
    two_mobiles = replace(
        ringing_with_a_mobile(),
        targets=(
            RingTarget(device_id=8, endpoint="carrier", delay=0, number="+33612345678"),
            RingTarget(device_id=9, endpoint="carrier", delay=0, number="+33698765432"),
        ),
    )

    plan = within_fraud_limits(two_mobiles, "33", usage(open_calls=1, max_calls=2))

    assert isinstance(plan, RingDevices)
    assert [target.number for target in plan.targets] == ["+33612345678"]


def test_an_international_remote_terminal_past_the_minutes_limit_is_left_out() -> None:
    plan = within_fraud_limits(ringing_with_a_mobile("+447700900123"), "33", usage(seconds=600))

    assert isinstance(plan, RingDevices)
    assert [target.endpoint for target in plan.targets] == ["acme-102"]


# --- usage, from the call records --------------------------------------------------------------------


def record_call_out(company: Company, person: Person, number: str, *, at: datetime, talk: int | None) -> None:
    """A call out through the trunk as the bridge records it: answered at `at`, lasting `talk` s
    (None: still up, its leg to the carrier open)."""
    call_id = uuid.uuid4()
    records.start_call(
        records.NewCall(
            call_id=call_id,
            company_id=company.pk,
            asterisk_server="ast1",
            caller_user_id=person.user.pk,
            caller_device_id=None,
            caller_number=person.extension,
            caller_name="",
            dialled="0" + number,
            channel_id=f"chan-{call_id}",
            endpoint=person.sip_username,
            started_at=at,
        )
    )
    records.set_callee(call_id, user_id=None, number=number, name="")
    records.add_callee_leg(
        call_id, channel_id=f"out-{call_id}", endpoint=f"{number}@carrier", device_id=None, at=at
    )
    records.mark_answered(call_id, channel_id=f"out-{call_id}", bridge_id="b", at=at)
    if talk is not None:
        records.end_call(call_id, outcome="answered", at=at + timedelta(seconds=talk))


@pytest.mark.django_db
def test_usage_counts_open_legs_to_the_carrier_and_todays_international_talk_in_the_companys_time_zone(
    acme: Company, bob: Person, globex: Company, gus: Person
) -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)
    # today: 5 min to the UK, ended; 2 min to Morocco, still up (its leg open); 30 min national
    record_call_out(acme, bob, "+447700900123", at=now - timedelta(hours=2), talk=300)
    record_call_out(acme, bob, "+212600000000", at=now - timedelta(minutes=2), talk=None)
    record_call_out(acme, bob, "+33612345678", at=now - timedelta(hours=1), talk=1800)
    # yesterday evening in Paris (after 23:00 UTC the day before): not today's
    record_call_out(acme, bob, "+447700900124", at=datetime(2026, 12, 1, 23, 30, tzinfo=PARIS), talk=600)
    # another company's calls are its own (this one still up)
    record_call_out(globex, gus, "+447700900125", at=now - timedelta(hours=1), talk=None)
    acme.max_outside_calls, acme.max_international_minutes = 4, 30
    acme.save()

    seen = queries.outside_usage(acme.pk, "carrier", now=now)

    assert seen == OutsideUsage(
        open_calls=1, international_seconds_today=420, max_calls=4, max_international_minutes=30
    )


@pytest.mark.django_db
def test_a_refused_call_alerts_the_company_admins_once_an_hour(
    acme: Company, alice: Person, bob: Person, django_capture_on_commit_callbacks: Any
) -> None:
    acme.max_outside_calls = 0
    acme.save()
    alice.user.email = "alice@acme.test"
    alice.user.save()
    cache.delete(fraud.alert_key(acme.pk, FraudLimit.SIMULTANEOUS_CALLS))
    sent: list[tuple[int, str, str]] = []

    class Task:
        @staticmethod
        def delay(*args: object) -> None:
            sent.append(args)  # type: ignore[arg-type]

    from telephony import tasks

    original = tasks.send_fraud_alert
    tasks.send_fraud_alert = Task  # type: ignore[assignment]
    try:
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                plan = fraud.admit_outside_call(
                    outside_plan("+33612345678"),
                    company_id=acme.pk,
                    country_code="33",
                    now=datetime.now(PARIS),
                )
            assert plan == Reject(RejectReason.FRAUD_LIMIT)
    finally:
        tasks.send_fraud_alert = original  # type: ignore[assignment]

    assert sent == [(acme.pk, "simultaneous_calls", "+33612345678")]
    assert send_fraud_alert(*sent[0]) == 1
    assert mail.outbox[0].to == ["alice@acme.test"]
    assert "limit of 0 simultaneous outside calls" in mail.outbox[0].subject


def test_unusual_international_traffic_is_most_of_the_days_allowance() -> None:
    assert not unusual_international_traffic(usage(seconds=7 * 60 + 59, minutes=10))
    assert unusual_international_traffic(usage(seconds=8 * 60, minutes=10))
    assert not unusual_international_traffic(usage(seconds=10**6, minutes=None))


@pytest.mark.django_db
def test_an_international_call_with_most_of_the_allowance_gone_goes_out_and_the_admins_are_told_once(
    acme: Company, alice: Person, bob: Person, django_capture_on_commit_callbacks: Any
) -> None:
    acme.max_international_minutes = 10
    now = timezone.now()
    # a time zone where it is not just past midnight: the call below is of today there
    acme.timezone = next(tz for tz in ("UTC", "Asia/Tokyo") if now.astimezone(ZoneInfo(tz)).hour >= 1)
    acme.save()
    alice.user.email = "alice@acme.test"
    alice.user.save()
    cache.delete(fraud.alert_key(acme.pk, "unusual_international"))
    # given 8 of the day's 10 international minutes talked
    record_call_out(acme, bob, "+447700900123", at=now - timedelta(minutes=9), talk=8 * 60)
    sent: list[tuple[object, ...]] = []

    class Task:
        @staticmethod
        def delay(*args: object) -> None:
            sent.append(args)

    from telephony import tasks

    original = tasks.send_unusual_traffic_alert
    tasks.send_unusual_traffic_alert = Task  # type: ignore[assignment]
    try:
        for number in ("+447700900999", "+33612345678", "+447700900998"):
            planned = outside_plan(number)
            with django_capture_on_commit_callbacks(execute=True):
                plan = fraud.admit_outside_call(planned, company_id=acme.pk, country_code="33", now=now)
            # the calls still go out
            assert plan is planned
    finally:
        tasks.send_unusual_traffic_alert = original  # type: ignore[assignment]

    assert sent == [(acme.pk, 8, "+447700900999")]
    assert tasks.send_unusual_traffic_alert(*sent[0]) == 1
    assert mail.outbox[0].to == ["alice@acme.test"]
    assert "unusual international traffic" in mail.outbox[0].subject


@pytest.mark.django_db
def test_the_consoles_first_page_warns_the_administrator_of_unusual_international_traffic(
    acme: Company, alice: Person, bob: Person
) -> None:
    from django.test import Client

    acme.max_international_minutes = 10
    acme.timezone = next(
        tz for tz in ("UTC", "Asia/Tokyo") if timezone.now().astimezone(ZoneInfo(tz)).hour >= 1
    )
    acme.save()
    client = Client()
    client.force_login(alice.user)
    record_call_out(acme, bob, "+97912345678", at=timezone.now() - timedelta(minutes=9), talk=7 * 60)
    assert 'id="international-banner"' not in client.get("/admin-console/").content.decode()

    record_call_out(acme, bob, "+97912345679", at=timezone.now() - timedelta(minutes=2), talk=60)

    assert 'id="international-banner"' in client.get("/admin-console/").content.decode()


@pytest.mark.django_db
def test_a_mobile_over_the_limit_only_because_another_rings_at_once_is_left_out_and_alerted(
    acme: Company, alice: Person, bob: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given one call already out, of the two allowed
    acme.max_outside_calls = 2
    acme.save()
    record_call_out(acme, bob, "+33611111111", at=timezone.now() - timedelta(minutes=1), talk=None)
    cache.delete(fraud.alert_key(acme.pk, FraudLimit.SIMULTANEOUS_CALLS))
    two_mobiles = replace(
        ringing_with_a_mobile(),
        targets=(
            RingTarget(device_id=7, endpoint="acme-102", delay=0),
            RingTarget(device_id=8, endpoint="carrier", delay=0, number="+33612345678"),
            RingTarget(device_id=9, endpoint="carrier", delay=0, number="+33698765432"),
        ),
    )

    # when carol's phones and her two mobiles would ring
    with django_capture_on_commit_callbacks(execute=False) as alerts:
        plan = fraud.admit_outside_call(
            two_mobiles, company_id=acme.pk, country_code="33", now=timezone.now()
        )

    # then the second mobile is left out, and the administrators are to be told
    assert isinstance(plan, RingDevices)
    assert [target.endpoint for target in plan.targets] == ["acme-102", "carrier"]
    assert [target.number for target in plan.targets if target.number] == ["+33612345678"]
    assert len(alerts) == 1


# --- who sets the limits ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_platform_operator_sets_the_limits_in_the_django_admin(acme: Company) -> None:
    from django.test import Client

    from directory.models import User

    operator = User.objects.create_superuser("operator", "op@istra.test", "operator-pw-1234")
    client = Client()
    client.force_login(operator)
    url = f"/django-admin/directory/company/{acme.pk}/change/"
    form = client.get(url).content.decode()
    assert 'name="max_outside_calls"' in form and 'name="max_international_minutes"' in form

    response = client.post(
        url,
        {
            "name": acme.name,
            "slug": acme.slug,
            "timezone": acme.timezone,
            "language": acme.language,
            "country_code": acme.country_code,
            "main_number": "",
            "max_outside_calls": "4",
            "max_international_minutes": "",
        },
    )

    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.max_outside_calls, acme.max_international_minutes) == (4, None)


@pytest.mark.django_db
def test_a_company_administrator_cannot_raise_their_own_limits(acme: Company, alice: Person) -> None:
    from django.test import Client

    client = Client()
    client.force_login(alice.user)

    client.patch(
        "/api/company/routing/",
        {"max_outside_calls": 1000, "max_international_minutes": 100000},
        content_type="application/json",
    )

    acme.refresh_from_db()
    assert (acme.max_outside_calls, acme.max_international_minutes) == (10, 120)
