"""Voicemail on the phone: leaving a message (E1, E10) and the voicemail service menu (E2, E3, E4).

These are dialogs: coroutines that run inside a CallSession's task and read its event queue
themselves (prompts played, keys pressed, recordings finished) until they are done. The caller
hanging up raises CallerGone out of any wait.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from voicemail import actions as vm_actions
from voicemail import queries as vm_queries
from voicemail.actions import MAX_MESSAGE_SECONDS, PinVerdict
from voicemail.choices import Greeting

from .client import AriError, Json
from .records import db

if TYPE_CHECKING:
    from .calls import CallSession

logger = logging.getLogger(__name__)

HANGUP_EVENTS = {"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"}
MAX_PIN_ATTEMPTS = 3
# Asterisk stops about a second after its limit: ask for one less so a message never passes 2 minutes.
RECORDING_LIMIT = MAX_MESSAGE_SECONDS - 1
KEY_TIMEOUT = 10.0


class CallerGone(Exception):
    pass


class Dialog:
    """Prompts and keys on one channel, read from the session's own event queue."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        self.client = session.client
        self.channel_id = session.caller.channel_id
        self.digits: list[str] = []
        self.gone = False

    async def next_event(self, timeout: float | None) -> Json | None:
        try:
            event = await asyncio.wait_for(self.session.queue.get(), timeout)
        except TimeoutError:
            return None
        kind = event["type"]
        if kind == "ChannelDtmfReceived":
            self.digits.append(event["digit"])
        elif (
            kind in HANGUP_EVENTS and event.get("channel", {}).get("id") == self.channel_id and not self.gone
        ):
            self.gone = True
            raise CallerGone
        return event

    async def play(self, media: list[str], *, interruptible: bool = True) -> bool:
        """Play prompts to the end, or until a key is pressed (the key stays for the next collect).

        False when Asterisk could not play them (a missing file, storage unreachable)."""
        if interruptible and self.digits:
            return True
        playback_id = uuid.uuid4().hex
        await self.client.play(self.channel_id, media, playback_id=playback_id)
        while True:
            event = await self.next_event(None)
            assert event is not None
            kind = event["type"]
            if kind in ("PlaybackFinished", "PlaybackFailed") and event["playback"]["id"] == playback_id:
                if kind == "PlaybackFailed" or event["playback"].get("state") == "failed":
                    logger.warning("could not play %s", media)
                    return False
                return True
            if interruptible and kind == "ChannelDtmfReceived":
                await self.client.stop_playback(playback_id)
                return True

    async def collect(self, *, max_digits: int, timeout: float = KEY_TIMEOUT, terminator: str = "#") -> str:
        """Digits until the terminator, `max_digits`, or `timeout` seconds without a key."""
        typed = ""
        while True:
            while self.digits:
                digit = self.digits.pop(0)
                if digit == terminator:
                    return typed
                typed += digit
                if len(typed) >= max_digits:
                    return typed
            if await self.next_event(timeout) is None:
                return typed

    async def key(self, allowed: str, timeout: float = KEY_TIMEOUT) -> str | None:
        """One key among `allowed` (others are ignored), or None after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self.digits:
                digit = self.digits.pop(0)
                if digit in allowed:
                    return digit
            left = deadline - loop.time()
            if left <= 0 or await self.next_event(left) is None:
                return None

    async def hangup(self) -> None:
        if not self.gone:
            await self.client.hangup(self.channel_id)


def _prompt(name: str) -> str:
    return f"sound:istra/{name}"


def greeting_media(mailbox: vm_queries.MailboxInfo) -> list[str]:
    """What a caller hears before the beep: their own greeting, or the standard one (name or extension)."""
    if mailbox.greeting == Greeting.FULL and mailbox.greeting_url:
        media = [f"sound:{mailbox.greeting_url}"]
    elif mailbox.greeting == Greeting.NAME and mailbox.name_url:
        media = [_prompt("vm-greeting-name"), f"sound:{mailbox.name_url}", _prompt("vm-leave")]
    else:
        media = [_prompt("vm-greeting-ext"), f"digits:{mailbox.extension}", _prompt("vm-leave")]
    return [*media, "sound:beep"]


async def deposit(session: CallSession, mailbox_id: int, *, answered: bool) -> None:
    """Let the caller leave a message in `mailbox_id`; no message is lost whoever hangs up when."""
    dialog = Dialog(session)
    mailbox = await db(vm_queries.mailbox_by_id, mailbox_id)
    client = session.client
    if mailbox is None:
        await dialog.hangup()
        return
    try:
        if not answered:
            await client.answer(dialog.channel_id)
        await dialog.play(greeting_media(mailbox), interruptible=False)
    except CallerGone:
        return  # hung up during the greeting: nothing to keep
    name = f"vm-{uuid.uuid4().hex}"
    # The record exists before Asterisk records: if we crash, reconciliation knows what to fetch.
    await db(
        vm_actions.begin_message,
        mailbox_id=mailbox_id,
        recording_name=name,
        asterisk_server=session.bridge.server_id,
        caller_number=session.caller_number,
        caller_name=session.caller_name,
        caller_user_id=session.caller_user_id,
        call_id=session.call_id if session.recorded else None,
        at=timezone.now(),
    )
    dialog.digits.clear()
    try:
        await client.record(dialog.channel_id, name=name, max_seconds=RECORDING_LIMIT)
    except AriError as exc:
        logger.warning("could not record a message for mailbox %s: %s", mailbox_id, exc)
        await db(vm_actions.discard_message, recording_name=name)
        await dialog.hangup()
        return
    duration = await _wait_recording(dialog, name)
    await session.bridge.collect_recording(name)
    if not dialog.gone:
        prompt = "vm-too-long" if duration is not None and duration >= RECORDING_LIMIT - 1 else "vm-saved"
        try:
            await dialog.play([_prompt(prompt)], interruptible=False)
        except CallerGone:
            return
        await dialog.hangup()


async def _wait_recording(dialog: Dialog, name: str) -> float | None:
    """Wait for the recording to end (key #, time limit, or hang-up); its duration in seconds if known."""
    while True:
        try:
            event = await dialog.next_event(5.0 if dialog.gone else None)
        except CallerGone:
            continue  # the recording ends with the call; keep waiting for Asterisk to say so
        if event is None:
            return None  # gone and no word from Asterisk: collect what it stored anyway
        if event["type"] in ("RecordingFinished", "RecordingFailed") and event["recording"]["name"] == name:
            duration = event["recording"].get("duration")
            return float(duration) if duration is not None else None


async def menu(session: CallSession, owner_user_id: int | None) -> str | None:
    """The voicemail service. Returns a number to call back, or None when the caller is done."""
    dialog = Dialog(session)
    client = session.client
    await client.answer(dialog.channel_id)
    try:
        mailbox = await _log_in(dialog, session, owner_user_id)
        if mailbox is None:
            await dialog.play([_prompt("vm-goodbye")], interruptible=False)
            await dialog.hangup()
            return None
        callback = await _main_menu(dialog, session, mailbox)
        if callback is None:
            await dialog.play([_prompt("vm-goodbye")], interruptible=False)
            await dialog.hangup()
        return callback
    except CallerGone:
        return None


async def _log_in(
    dialog: Dialog, session: CallSession, owner_user_id: int | None
) -> vm_queries.MailboxInfo | None:
    """The caller's own mailbox by PIN; a PIN starting with '*' asks for another mailbox's extension
    (from a colleague's phone). Three failed attempts end the call, and are logged."""
    mailbox = await db(vm_queries.mailbox_of_user, owner_user_id) if owner_user_id else None
    for attempt in range(1, MAX_PIN_ATTEMPTS + 1):
        if mailbox is None:
            await dialog.play([_prompt("vm-enter-mailbox")])
            number = await dialog.collect(max_digits=6)
            mailbox = (
                await db(vm_queries.mailbox_by_extension, session.company_id, number) if number else None
            )
            if mailbox is None:
                await dialog.play([_prompt("vm-no-mailbox")])
                continue
        await dialog.play([_prompt("vm-enter-pin")])
        pin = await dialog.collect(max_digits=8)
        if pin.startswith("*"):
            mailbox = None
            continue
        verdict = await db(
            vm_actions.try_pin,
            mailbox_id=mailbox.mailbox_id,
            pin=pin,
            own_phone=owner_user_id is not None and owner_user_id == mailbox.user_id,
            source=session.caller_number or session.caller.endpoint,
        )
        if verdict == PinVerdict.NO_PIN:
            await dialog.play([_prompt("vm-no-pin")], interruptible=False)
            return None
        if verdict == PinVerdict.LOCKED:
            # Locked after repeated wrong PINs (its owner was told): only the owner's phone opens it.
            await dialog.play([_prompt("unavailable")], interruptible=False)
            return None
        if verdict == PinVerdict.OPEN:
            return mailbox
        logger.warning(
            "voicemail: wrong PIN for mailbox %s (extension %s) from %s, attempt %d",
            mailbox.mailbox_id,
            mailbox.extension,
            session.caller.endpoint,
            attempt,
        )
        await dialog.play([_prompt("vm-wrong-pin")])
    logger.warning(
        "voicemail: %d failed logins from %s; call ended", MAX_PIN_ATTEMPTS, session.caller.endpoint
    )
    return None


async def _main_menu(dialog: Dialog, session: CallSession, mailbox: vm_queries.MailboxInfo) -> str | None:
    silent_rounds = 0
    while silent_rounds < 2:
        messages = await db(vm_queries.new_messages, mailbox.mailbox_id)
        await dialog.play(
            [
                _prompt("vm-you-have"),
                f"number:{len(messages)}",
                _prompt("vm-new-messages"),
                _prompt("vm-main-menu"),
            ]
        )
        choice = await dialog.key("123*")
        if choice is None:
            silent_rounds += 1
            continue
        silent_rounds = 0
        if choice == "*":
            return None
        if choice == "1":
            callback = await _listen(dialog, session, mailbox, messages)
            if callback:
                return callback
        elif choice == "2":
            await _greetings(dialog, session, mailbox)
        elif choice == "3":
            await _change_pin(dialog, mailbox)
    return None


async def _greetings(dialog: Dialog, session: CallSession, mailbox: vm_queries.MailboxInfo) -> None:
    """Record one's name or a whole greeting, or go back to the standard greeting (E1)."""
    await dialog.play([_prompt("vm-greetings-menu")])
    choice = await dialog.key("123#")
    if choice == "3":
        await db(vm_actions.set_greeting_by_id, mailbox_id=mailbox.mailbox_id, greeting=Greeting.DEFAULT)
        await dialog.play([_prompt("vm-greeting-standard")])
        return
    if choice not in ("1", "2"):
        return
    kind = Greeting.NAME if choice == "1" else Greeting.FULL
    await dialog.play([_prompt("vm-record-after-beep"), "sound:beep"], interruptible=False)
    name = f"greeting-{uuid.uuid4().hex}"
    dialog.digits.clear()
    await session.client.record(dialog.channel_id, name=name, max_seconds=20 if kind == Greeting.NAME else 60)
    await _wait_recording(dialog, name)
    if dialog.gone:
        await session.client.delete_stored_recording(name)
        raise CallerGone
    audio = await session.client.stored_recording(name)
    await session.client.delete_stored_recording(name)
    saved = audio is not None and await db(
        vm_actions.set_greeting_audio, mailbox_id=mailbox.mailbox_id, greeting=kind, audio=audio
    )
    await dialog.play([_prompt("vm-greeting-saved" if saved else "vm-greeting-too-short")])


async def _listen(
    dialog: Dialog,
    session: CallSession,
    mailbox: vm_queries.MailboxInfo,
    messages: list[vm_queries.MessageInfo],
) -> str | None:
    for message in messages:
        replay = True
        while True:
            if replay and await dialog.play([f"sound:{message.audio_url}"]):
                # Heard, or skipped on purpose with a key: it is no longer new.
                await db(vm_actions.mark_read_by_id, message_id=message.message_id, at=timezone.now())
            await dialog.play([_prompt("vm-message-menu")])
            choice = await dialog.key("0123#")
            replay = False
            if choice == "1":
                replay = True
            elif choice == "3":
                await db(vm_actions.delete_message_by_id, message_id=message.message_id)
                await dialog.play([_prompt("vm-deleted")])
                break
            elif choice == "0":
                if await _details(dialog, session, message) and message.caller_number:
                    return message.caller_number
            else:  # '#', '2' or nothing: next message
                break
    await dialog.play([_prompt("vm-no-more")])
    return None


async def _details(dialog: Dialog, session: CallSession, message: vm_queries.MessageInfo) -> bool:
    """Who left the message and when; True when the caller chose to call them back."""
    left_at: datetime = timezone.localtime(message.created_at, ZoneInfo(session.company_timezone))
    sender = [f"digits:{message.caller_number}"] if message.caller_number else [_prompt("vm-unknown-caller")]
    await dialog.play(
        [
            _prompt("vm-from"),
            *sender,
            _prompt("vm-received-at"),
            f"number:{left_at.hour}",
            _prompt("vm-hours"),
            f"number:{left_at.minute}",
            _prompt("vm-details-menu"),
        ]
    )
    return await dialog.key("3#") == "3"


async def _change_pin(dialog: Dialog, mailbox: vm_queries.MailboxInfo) -> None:
    await dialog.play([_prompt("vm-new-pin")])
    first = await dialog.collect(max_digits=8)
    if not (4 <= len(first) <= 8 and first.isdigit()):
        await dialog.play([_prompt("vm-pin-invalid")])
        return
    await dialog.play([_prompt("vm-pin-again")])
    second = await dialog.collect(max_digits=8)
    if first != second:
        await dialog.play([_prompt("vm-pin-mismatch")])
        return
    try:
        await db(vm_actions.set_pin_by_id, mailbox_id=mailbox.mailbox_id, pin=first)
    except ValidationError:
        await dialog.play([_prompt("vm-pin-invalid")])  # too easy to guess (1234, one's extension)
        return
    await dialog.play([_prompt("vm-pin-changed")])
