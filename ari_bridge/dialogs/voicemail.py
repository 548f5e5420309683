"""Voicemail on the phone: leaving a message (E1, E10) and the voicemail service menu (E2, E3, E4).

Dialogs (dialogs/base.py) on the caller's channel: prompts played, keys pressed, recordings
finished, read from the call's queue until they are done.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from voicemail import actions as vm_actions
from voicemail import queries as vm_queries
from voicemail.actions import MAX_MESSAGE_SECONDS, PinVerdict
from voicemail.choices import Greeting

from ..client import AriError
from ..orm import db
from ..recordings import collect_recording
from .base import CallerGone, Dialog, DialogChannel, prompt

logger = logging.getLogger(__name__)

MAX_PIN_ATTEMPTS = 3
# Asterisk stops about a second after its limit: ask for one less so a message never passes 2 minutes.
RECORDING_LIMIT = MAX_MESSAGE_SECONDS - 1


def greeting_media(mailbox: vm_queries.MailboxInfo) -> list[str]:
    """What a caller hears before the beep: their own greeting, or the standard one (name or extension)."""
    if mailbox.greeting == Greeting.FULL and mailbox.greeting_url:
        media = [f"sound:{mailbox.greeting_url}"]
    elif mailbox.greeting == Greeting.NAME and mailbox.name_url:
        media = [prompt("vm-greeting-name"), f"sound:{mailbox.name_url}", prompt("vm-leave")]
    else:
        media = [prompt("vm-greeting-ext"), f"digits:{mailbox.extension}", prompt("vm-leave")]
    return [*media, "sound:beep"]


async def deposit(
    channel: DialogChannel,
    mailbox_id: int,
    *,
    answered: bool,
    asterisk_server: str,
    call_id: uuid.UUID | None,
) -> None:
    """Let the caller leave a message in `mailbox_id`; no message is lost whoever hangs up when.

    `call_id` is the call record the message belongs to, if there is one."""
    dialog = Dialog(channel)
    mailbox = await db(vm_queries.mailbox_by_id, mailbox_id)
    client = channel.client
    caller = channel.caller
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
        asterisk_server=asterisk_server,
        caller_number=caller.number,
        caller_name=caller.name,
        caller_user_id=caller.user_id,
        call_id=call_id,
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
    await collect_recording(client, name)
    if not dialog.gone:
        said = "vm-too-long" if duration is not None and duration >= RECORDING_LIMIT - 1 else "vm-saved"
        try:
            await dialog.play([prompt(said)], interruptible=False)
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


async def menu(channel: DialogChannel, owner_user_id: int | None) -> str | None:
    """The voicemail service. Returns a number to call back, or None when the caller is done."""
    dialog = Dialog(channel)
    client = channel.client
    await client.answer(dialog.channel_id)
    try:
        mailbox = await _log_in(dialog, owner_user_id)
        if mailbox is None:
            await dialog.play([prompt("vm-goodbye")], interruptible=False)
            await dialog.hangup()
            return None
        callback = await _main_menu(dialog, mailbox)
        if callback is None:
            await dialog.play([prompt("vm-goodbye")], interruptible=False)
            await dialog.hangup()
        return callback
    except CallerGone:
        return None


async def _log_in(dialog: Dialog, owner_user_id: int | None) -> vm_queries.MailboxInfo | None:
    """The caller's own mailbox by PIN; a PIN starting with '*' asks for another mailbox's extension
    (from a colleague's phone). Three failed attempts end the call, and are logged."""
    mailbox: vm_queries.MailboxInfo | None = (
        await db(vm_queries.mailbox_of_user, owner_user_id) if owner_user_id else None
    )
    for attempt in range(1, MAX_PIN_ATTEMPTS + 1):
        if mailbox is None:
            await dialog.play([prompt("vm-enter-mailbox")])
            number = await dialog.collect(max_digits=6)
            mailbox = (
                await db(vm_queries.mailbox_by_extension, dialog.channel.caller.company_id, number)
                if number
                else None
            )
            if mailbox is None:
                await dialog.play([prompt("vm-no-mailbox")])
                continue
        await dialog.play([prompt("vm-enter-pin")])
        pin = await dialog.collect(max_digits=8)
        if pin.startswith("*"):
            mailbox = None
            continue
        caller = dialog.channel.caller
        verdict = await db(
            vm_actions.try_pin,
            mailbox_id=mailbox.mailbox_id,
            pin=pin,
            own_phone=owner_user_id is not None and owner_user_id == mailbox.user_id,
            source=caller.number or caller.endpoint,
        )
        if verdict == PinVerdict.NO_PIN:
            await dialog.play([prompt("vm-no-pin")], interruptible=False)
            return None
        if verdict == PinVerdict.LOCKED:
            # Locked after repeated wrong PINs (its owner was told): only the owner's phone opens it.
            await dialog.play([prompt("unavailable")], interruptible=False)
            return None
        if verdict == PinVerdict.OPEN:
            return mailbox
        logger.warning(
            "voicemail: wrong PIN for mailbox %s (extension %s) from %s, attempt %d",
            mailbox.mailbox_id,
            mailbox.extension,
            dialog.channel.caller.endpoint,
            attempt,
        )
        await dialog.play([prompt("vm-wrong-pin")])
    logger.warning(
        "voicemail: %d failed logins from %s; call ended", MAX_PIN_ATTEMPTS, dialog.channel.caller.endpoint
    )
    return None


async def _main_menu(dialog: Dialog, mailbox: vm_queries.MailboxInfo) -> str | None:
    silent_rounds = 0
    while silent_rounds < 2:
        messages = await db(vm_queries.new_messages, mailbox.mailbox_id)
        await dialog.play(
            [
                prompt("vm-you-have"),
                f"number:{len(messages)}",
                prompt("vm-new-messages"),
                prompt("vm-main-menu"),
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
            callback = await _listen(dialog, mailbox, messages)
            if callback:
                return callback
        elif choice == "2":
            await _greetings(dialog, mailbox)
        elif choice == "3":
            await _change_pin(dialog, mailbox)
    return None


async def _greetings(dialog: Dialog, mailbox: vm_queries.MailboxInfo) -> None:
    """Record one's name or a whole greeting, or go back to the standard greeting (E1)."""
    await dialog.play([prompt("vm-greetings-menu")])
    choice = await dialog.key("123#")
    if choice == "3":
        await db(vm_actions.set_greeting_by_id, mailbox_id=mailbox.mailbox_id, greeting=Greeting.DEFAULT)
        await dialog.play([prompt("vm-greeting-standard")])
        return
    if choice not in ("1", "2"):
        return
    kind = Greeting.NAME if choice == "1" else Greeting.FULL
    await dialog.play([prompt("vm-record-after-beep"), "sound:beep"], interruptible=False)
    name = f"greeting-{uuid.uuid4().hex}"
    dialog.digits.clear()
    await dialog.client.record(dialog.channel_id, name=name, max_seconds=20 if kind == Greeting.NAME else 60)
    await _wait_recording(dialog, name)
    if dialog.gone:
        await dialog.client.delete_stored_recording(name)
        raise CallerGone
    audio = await dialog.client.stored_recording(name)
    await dialog.client.delete_stored_recording(name)
    saved = audio is not None and await db(
        vm_actions.set_greeting_audio, mailbox_id=mailbox.mailbox_id, greeting=kind, audio=audio
    )
    await dialog.play([prompt("vm-greeting-saved" if saved else "vm-greeting-too-short")])


async def _listen(
    dialog: Dialog,
    mailbox: vm_queries.MailboxInfo,
    messages: list[vm_queries.MessageInfo],
) -> str | None:
    for message in messages:
        replay = True
        while True:
            if replay and await dialog.play([f"sound:{message.audio_url}"]):
                # Heard, or skipped on purpose with a key: it is no longer new.
                await db(vm_actions.mark_read_by_id, message_id=message.message_id, at=timezone.now())
            await dialog.play([prompt("vm-message-menu")])
            choice = await dialog.key("0123#")
            replay = False
            if choice == "1":
                replay = True
            elif choice == "3":
                await db(vm_actions.delete_message_by_id, message_id=message.message_id)
                await dialog.play([prompt("vm-deleted")])
                break
            elif choice == "0":
                if await _details(dialog, message) and message.caller_number:
                    return message.caller_number
            else:  # '#', '2' or nothing: next message
                break
    await dialog.play([prompt("vm-no-more")])
    return None


async def _details(dialog: Dialog, message: vm_queries.MessageInfo) -> bool:
    """Who left the message and when; True when the caller chose to call them back."""
    left_at: datetime = timezone.localtime(message.created_at, ZoneInfo(dialog.channel.caller.timezone))
    sender = [f"digits:{message.caller_number}"] if message.caller_number else [prompt("vm-unknown-caller")]
    await dialog.play(
        [
            prompt("vm-from"),
            *sender,
            prompt("vm-received-at"),
            f"number:{left_at.hour}",
            prompt("vm-hours"),
            f"number:{left_at.minute}",
            prompt("vm-details-menu"),
        ]
    )
    return await dialog.key("3#") == "3"


async def _change_pin(dialog: Dialog, mailbox: vm_queries.MailboxInfo) -> None:
    await dialog.play([prompt("vm-new-pin")])
    first = await dialog.collect(max_digits=8)
    if not (4 <= len(first) <= 8 and first.isdigit()):
        await dialog.play([prompt("vm-pin-invalid")])
        return
    await dialog.play([prompt("vm-pin-again")])
    second = await dialog.collect(max_digits=8)
    if first != second:
        await dialog.play([prompt("vm-pin-mismatch")])
        return
    try:
        await db(vm_actions.set_pin_by_id, mailbox_id=mailbox.mailbox_id, pin=first)
    except ValidationError:
        await dialog.play([prompt("vm-pin-too-easy")])  # 1234, 1111, one's extension...
        return
    await dialog.play([prompt("vm-pin-changed")])
