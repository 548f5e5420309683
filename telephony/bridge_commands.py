"""Asking the bridge process to act on a live call (the web side of the command path).

The command types are in telephony/contract.py; this sends one over Redis and waits for the answer.
Every command names a call the asking user takes part in: that is checked here, on the records,
before anything is sent.
"""

from __future__ import annotations

import json
import time
import uuid

import redis
from django.conf import settings

from directory.models import User

from .choices import CallState
from .contract import NOT_FOUND, UNAVAILABLE, Command, CommandResult, HangUpCall, command_queue
from .models import Call

# How long the web waits for the bridge's answer; the bridge drops a command older than this.
COMMAND_TIMEOUT = 3.0


def send(command: Command, *, timeout: float | None = None) -> CommandResult:
    """Send `command` to the bridge and wait for its result; UNAVAILABLE if none comes in time."""
    timeout = timeout or COMMAND_TIMEOUT
    reply_to = f"istra:bridge:reply:{uuid.uuid4().hex}"
    message = {**command.as_message(), "reply_to": reply_to, "expires_at": time.time() + timeout}
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout + 1)
    try:
        client.rpush(command_queue(settings.ARI_APP), json.dumps(message))
        answer = client.blpop([reply_to], timeout=timeout)
    except redis.RedisError:
        return CommandResult(ok=False, error=UNAVAILABLE)
    finally:
        client.close()
    if answer is None:
        return CommandResult(ok=False, error=UNAVAILABLE)
    return CommandResult.from_message(json.loads(answer[1]))


def hang_up_call(*, user: User, call_id: uuid.UUID) -> CommandResult:
    """Hang up a call of `user`'s that is in progress (placing, ringing or talking)."""
    if user.company_id is None:
        return CommandResult(ok=False, error=NOT_FOUND)
    mine = (
        Call.objects.for_company(user.company_id)
        .involving(user.pk)
        .exclude(state=CallState.ENDED)
        .filter(pk=call_id)
        .exists()
    )
    if not mine:
        return CommandResult(ok=False, error=NOT_FOUND)
    return send(HangUpCall(call_id=call_id, user_id=user.pk))
