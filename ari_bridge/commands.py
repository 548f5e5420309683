"""Commands from the web (telephony/contract.py), read from Redis and carried out on live calls.

Each command is answered on the key it names. A command is carried out by posting a message to its
call's queue, as any cross-call operation is: the call acts on it in order with its own events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from telephony.contract import (
    NOT_FOUND,
    UNKNOWN_COMMAND,
    Command,
    CommandResult,
    HangUpCall,
    command_queue,
    parse_command,
)

from .registry import CallRegistry

logger = logging.getLogger(__name__)

# How long an answer waits for the web to read it.
ANSWER_TTL = 30
# Seconds each wait for a command lasts (then it waits again).
BLOCK = 5


def execute(command: Command | None, registry: CallRegistry) -> CommandResult:
    """Carry out one command (the web has checked the user takes part in the call)."""
    if isinstance(command, HangUpCall):
        delivered = registry.post(command.call_id, {"type": "_hangup", "reason": "hung_up_from_web"})
        return CommandResult(ok=True) if delivered else CommandResult(ok=False, error=NOT_FOUND)
    return CommandResult(ok=False, error=UNKNOWN_COMMAND)


async def serve_commands(redis_url: str, app: str, registry: CallRegistry) -> None:
    """Read and answer commands until cancelled; a lost Redis connection is retried."""
    queue = command_queue(app)
    delay = 0.2
    while True:
        # The socket waits longer than a BLPOP does: an idle wait is no lost connection.
        client = aioredis.Redis.from_url(redis_url, socket_timeout=BLOCK + 10, socket_connect_timeout=5)
        try:
            while True:
                item = await client.blpop([queue], timeout=BLOCK)
                delay = 0.2
                if item is not None:
                    await _answer(client, json.loads(item[1]), registry)
        except (RedisError, OSError) as exc:
            logger.warning("commands from the web unreachable (%s); retrying in %.1fs", exc, delay)
        finally:
            await client.aclose()
        # Retried soon: a command waits only a few seconds for its answer (contract.py).
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def _answer(client: aioredis.Redis, message: dict[str, object], registry: CallRegistry) -> None:
    reply_to = str(message.get("reply_to") or "")
    if float(str(message.get("expires_at") or 0)) < time.time():
        logger.info("dropped a command nobody waits for any more: %s", message.get("command"))
        return
    result = execute(parse_command(message), registry)
    logger.info("command %s: %s", message.get("command"), result)
    if reply_to:
        await client.rpush(reply_to, json.dumps(result.as_message()))
        await client.expire(reply_to, ANSWER_TTL)
