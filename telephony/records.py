"""Call records (J1): the bridge reports what happens on Asterisk, these functions write it down.

One Call row per call, one CallLeg row per channel. Each change is one transaction, and the users the
call involves hear of it on their live channel after that transaction commits.

The bridge makes several of these writes per call, hundreds a second under load, and a database round
trip costs it more CPU than anything else here. So each write is a single SQL statement (the call and
its legs together when it changes both), not the ORM's lock, read, instance and save per row. Being
one statement, a write is atomic by itself: alone it is its own transaction, and in a batch
(ari_bridge.recorder) it needs no savepoint unless another write of the batch fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection, models

from .choices import CallOutcome, CallState, LegRole
from .events import call_event_for, publish_on_commit
from .models import Call, CallLeg


@dataclass(frozen=True)
class NewCall:
    call_id: uuid.UUID
    company_id: int
    asterisk_server: str
    caller_user_id: int | None
    caller_device_id: int | None
    caller_number: str
    caller_name: str
    dialled: str
    channel_id: str
    endpoint: str
    started_at: datetime
    # False for a second call placed on a channel already recorded (a call-back from voicemail).
    caller_leg: bool = True
    # The callee when already known: the same as set_callee right after, without a write of its own.
    callee_user_id: int | None = None
    callee_number: str = ""
    callee_name: str = ""


# The statements name the tables and columns of telephony/models.py (Call, CallLeg); the inserts take
# their columns and defaults from the models, and tests/test_records.py checks rows against the ORM's.


class _Insert:
    """INSERT of one row as `Model(**values).save()` writes it: the fields given, every other one at its
    default (a field with a database default is left to the database, as the ORM does)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.fields = [
            field
            for field in model._meta.concrete_fields
            if field is not model._meta.auto_field and not field.has_db_default()
        ]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.get_attname_column()[1] or "") for field in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
        # Constant defaults are prepared once; a callable one (uuid4, now, ...) is called for each row.
        self.computed = [field for field in self.fields if field.has_default() and callable(field.default)]
        self.constants = {
            field.attname: field.get_db_prep_save(field.get_default(), connection)
            for field in self.fields
            if field not in self.computed
        }

    def params(self, **values: Any) -> list[Any]:
        row = {**self.constants, **values}
        for field in self.computed:
            if field.attname not in values:
                row[field.attname] = field.get_db_prep_save(field.get_default(), connection)
        return [row[field.attname] for field in self.fields]


_INSERT_CALL = _Insert(Call)
_INSERT_LEG = _Insert(CallLeg)

# What call_event_for reads of a call, in model field order (as Model.from_db takes them).
_EVENT_FIELDS = [
    field.attname
    for field in Call._meta.concrete_fields
    if field.attname
    in {
        "id",
        "state",
        "outcome",
        "caller_user_id",
        "caller_number",
        "caller_name",
        "dialled_number",
        "callee_user_id",
        "callee_number",
        "callee_name",
        "started_at",
        "answered_at",
        "ended_at",
    }
]
_RETURNING = "RETURNING " + ", ".join(_EVENT_FIELDS)


def _db_datetime(model: type[models.Model], name: str, value: datetime) -> datetime:
    """A time as the ORM would store it: a naive one (a bug) is taken in the default time zone, warned of."""
    if value.utcoffset() is not None:
        return value
    field = model._meta.get_field(name)
    assert isinstance(field, models.DateTimeField)
    prepared: datetime = field.get_prep_value(value)
    return prepared


def _call_from_row(row: Sequence[Any], **changed: Any) -> Call:
    """The call as the ORM would hold it after saving `changed`: the row read back, with the values this
    write set kept as given (the events carry them exactly as the ORM instance did)."""
    call = Call.from_db(connection.alias, _EVENT_FIELDS, row)
    for name, value in changed.items():
        setattr(call, name, value)
    return call


@contextmanager
def _cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A server-side binding cursor on Django's connection, in Django's transaction, raising Django's
    errors: these few statements run hundreds of times a second, so they are prepared once per
    connection (psycopg's `prepare=True`) instead of having every value quoted into new SQL text, as
    Django's client-side cursors do (a third less CPU per statement here, and no parsing for
    PostgreSQL). A pooler in transaction mode in front of PostgreSQL would need prepared statements
    turned off."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _run(cursor: psycopg.Cursor[Any], sql: str, params: Sequence[Any] | dict[str, Any]) -> None:
    cursor.execute(sql, params, prepare=True)
    if connection.queries_logged:
        # What Django's debug cursor would note (DEBUG, or a test counting queries).
        connection.queries_log.append({"sql": sql, "time": "0.000"})


def _execute(sql: str, params: Sequence[Any] | dict[str, Any]) -> None:
    with _cursor() as cursor:
        _run(cursor, sql, params)


def _fetch_row(sql: str, params: dict[str, Any]) -> Sequence[Any] | None:
    """Run one statement that returns rows; its first row, or None."""
    with _cursor() as cursor:
        _run(cursor, sql, params)
        return cursor.fetchone()


def _missing(call_id: uuid.UUID) -> Call.DoesNotExist:
    return Call.DoesNotExist(f"Call {call_id} does not exist.")


def _publish(call: Call) -> None:
    """Tell each user of the call (caller and callee) how it stands now, from their own side."""
    for user_id in {call.caller_user_id, call.callee_user_id} - {None}:
        assert user_id is not None
        publish_on_commit(user_id, call_event_for(call, user_id))


# The call and its caller's leg in one statement (the leg's foreign key is checked once the statement
# is done, or at commit, when the call row is there).
_INSERT_CALL_AND_LEG = f"WITH new_call AS ({_INSERT_CALL.sql}) {_INSERT_LEG.sql}"


def start_call(new: NewCall) -> None:
    started_at = _db_datetime(Call, "started_at", new.started_at)
    call = _INSERT_CALL.params(
        id=new.call_id,
        company_id=new.company_id,
        asterisk_server=new.asterisk_server,
        caller_user_id=new.caller_user_id,
        caller_device_id=new.caller_device_id,
        caller_number=new.caller_number,
        caller_name=new.caller_name,
        dialled_number=new.dialled,
        callee_user_id=new.callee_user_id,
        callee_number=new.callee_number,
        callee_name=new.callee_name,
        started_at=started_at,
    )
    if not new.caller_leg:
        _execute(_INSERT_CALL.sql, call)
        return
    leg = _INSERT_LEG.params(
        call_id=new.call_id,
        role=LegRole.CALLER,
        device_id=new.caller_device_id,
        channel_id=new.channel_id,
        endpoint=new.endpoint,
        started_at=started_at,
        answered_at=started_at,
    )
    _execute(_INSERT_CALL_AND_LEG, call + leg)


def set_callee(call_id: uuid.UUID, *, user_id: int | None, number: str, name: str) -> None:
    _execute(
        "UPDATE telephony_call SET callee_user_id = %(user_id)s, callee_number = %(number)s,"
        " callee_name = %(name)s WHERE id = %(call_id)s",
        {"call_id": call_id, "user_id": user_id, "number": number, "name": name},
    )


def set_forwarded(call_id: uuid.UUID, *, by_user_id: int) -> None:
    """A forwarding rule of this user sent the call on: it shows in their history too."""
    _execute(
        "UPDATE telephony_call SET forwarded_by_id = %(by_user_id)s WHERE id = %(call_id)s",
        {"call_id": call_id, "by_user_id": by_user_id},
    )


def add_callee_leg(
    call_id: uuid.UUID, *, device_id: int | None, channel_id: str, endpoint: str, at: datetime
) -> None:
    _execute(
        _INSERT_LEG.sql,
        _INSERT_LEG.params(
            call_id=call_id,
            role=LegRole.CALLEE,
            device_id=device_id,
            channel_id=channel_id,
            endpoint=endpoint,
            started_at=_db_datetime(CallLeg, "started_at", at),
        ),
    )


# Only a call still routing starts ringing: another phone of the call ringing changes nothing.
_MARK_RINGING = f"""
    UPDATE telephony_call SET state = %(ringing)s, ringing_at = %(at)s
    WHERE id = %(call_id)s AND state = %(routing)s
    {_RETURNING}
"""


def mark_ringing(call_id: uuid.UUID, *, at: datetime) -> None:
    params = {
        "call_id": call_id,
        "at": _db_datetime(Call, "ringing_at", at),
        "ringing": CallState.RINGING,
        "routing": CallState.ROUTING,
    }
    row = _fetch_row(_MARK_RINGING, params)
    if row is None:
        if _fetch_row("SELECT 1 FROM telephony_call WHERE id = %(call_id)s", {"call_id": call_id}) is None:
            raise _missing(call_id)
        return
    _publish(_call_from_row(row, state=CallState.RINGING, ringing_at=at))


# The call, and the leg that answered if the call exists (a write that fails changes nothing).
_MARK_ANSWERED = f"""
    WITH answered AS (
        UPDATE telephony_call SET state = %(answered)s, answered_at = %(at)s, bridge_id = %(bridge_id)s
        WHERE id = %(call_id)s
        {_RETURNING}
    ), leg AS (
        UPDATE telephony_callleg SET answered_at = %(at)s
        WHERE channel_id = %(channel_id)s AND EXISTS (SELECT FROM answered)
    )
    SELECT * FROM answered
"""


def mark_answered(call_id: uuid.UUID, *, channel_id: str, bridge_id: str, at: datetime) -> None:
    row = _fetch_row(
        _MARK_ANSWERED,
        {
            "call_id": call_id,
            "channel_id": channel_id,
            "bridge_id": bridge_id,
            "at": _db_datetime(Call, "answered_at", at),
            "answered": CallState.ANSWERED,
        },
    )
    if row is None:
        raise _missing(call_id)
    _publish(_call_from_row(row, state=CallState.ANSWERED, answered_at=at, bridge_id=bridge_id))


def end_leg(channel_id: str, *, at: datetime, outcome: str, cause: int | None = None) -> None:
    _execute(
        "UPDATE telephony_callleg SET ended_at = %(at)s, outcome = %(outcome)s, hangup_cause = %(cause)s"
        " WHERE channel_id = %(channel_id)s AND ended_at IS NULL",
        {
            "channel_id": channel_id,
            "at": _db_datetime(CallLeg, "ended_at", at),
            "outcome": outcome,
            "cause": cause,
        },
    )


# The call unless it is closed already, and with it every leg still open: a leg that was answered
# ends "answered", the others with the call's outcome. An empty reason keeps the one recorded.
_END_CALL = f"""
    WITH ended AS (
        UPDATE telephony_call
        SET state = %(ended)s, outcome = %(outcome)s, reason = COALESCE(NULLIF(%(reason)s, ''), reason),
            ended_at = %(at)s
        WHERE id = %(call_id)s AND state <> %(ended)s
        {_RETURNING}
    ), legs AS (
        UPDATE telephony_callleg
        SET ended_at = %(at)s,
            outcome = CASE WHEN answered_at IS NULL THEN %(outcome)s ELSE %(answered)s END
        WHERE call_id IN (SELECT id FROM ended) AND ended_at IS NULL
    )
    SELECT * FROM ended
"""


def end_call(call_id: uuid.UUID, *, outcome: str, at: datetime, reason: str = "") -> None:
    """Close the call and every leg still open; idempotent, so reconciliation may call it again."""
    row = _fetch_row(
        _END_CALL,
        {
            "call_id": call_id,
            "outcome": outcome,
            "at": _db_datetime(Call, "ended_at", at),
            "reason": reason,
            "ended": CallState.ENDED,
            "answered": CallOutcome.ANSWERED,
        },
    )
    if row is None:  # no such call, or ended already
        return
    _publish(_call_from_row(row, state=CallState.ENDED, outcome=outcome, ended_at=at))


def active_calls(asterisk_server: str) -> list[tuple[Call, list[CallLeg]]]:
    """Calls this server carried that are not closed yet, with their legs: what reconciliation checks."""
    calls = list(Call.objects.active().filter(asterisk_server=asterisk_server).prefetch_related("legs"))
    return [(call, list(call.legs.all())) for call in calls]


def devices_in_call(device_ids: list[int]) -> set[int]:
    return set(
        CallLeg.objects.filter(device_id__in=device_ids, ended_at__isnull=True).values_list(
            "device_id", flat=True
        )
    )
