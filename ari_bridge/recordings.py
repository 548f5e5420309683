"""Voicemail recordings: moved from Asterisk into our storage once finished, and swept after a restart."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from django.utils import timezone

from voicemail import actions as vm_actions

from .client import AriClient
from .orm import db

logger = logging.getLogger(__name__)


async def collect_recording(client: AriClient, name: str) -> bool:
    """Move a finished voicemail recording from Asterisk into our storage, then delete it there.

    Idempotent; False while Asterisk is still recording it. Asterisk keeps the file until our
    storage has it, so a failure here loses nothing: the sweeper tries again.
    """
    if await client.live_recording_exists(name):
        return False  # its file is on disk already, but unfinished
    audio = await client.stored_recording(name)
    if audio is None:
        await db(vm_actions.discard_message, recording_name=name)
        return True
    await db(vm_actions.store_message, recording_name=name, audio=audio)
    await client.delete_stored_recording(name)
    return True


async def sweep_recordings(client: AriClient, server_id: str) -> None:
    """Collect recordings left behind by a restart (ours or the caller's hang-up while we were away)."""
    started_before = timezone.now() - timedelta(seconds=10)
    for name in await db(vm_actions.recordings_in_progress, server_id, started_before=started_before):
        try:
            await collect_recording(client, name)
        except Exception:
            logger.exception("could not collect voicemail recording %s; will retry", name)


async def sweep_forever(client: AriClient, server_id: str, every: float = 15.0) -> None:
    while True:
        await sweep_recordings(client, server_id)
        await asyncio.sleep(every)
