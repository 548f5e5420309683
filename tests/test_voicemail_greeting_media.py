"""What callers hear before the beep, for each greeting choice (E1)."""

from __future__ import annotations

from ari_bridge.dialogs.voicemail import greeting_media
from voicemail.choices import Greeting
from voicemail.queries import MailboxInfo


def mailbox(greeting: str, *, name_url: str | None = None, greeting_url: str | None = None) -> MailboxInfo:
    return MailboxInfo(
        mailbox_id=1,
        user_id=2,
        company_id=3,
        extension="102",
        name="Carol",
        greeting=greeting,
        name_url=name_url,
        greeting_url=greeting_url,
    )


def test_the_standard_greeting_names_the_extension() -> None:
    assert greeting_media(mailbox(Greeting.DEFAULT)) == [
        "sound:istra/vm-greeting-ext",
        "digits:102",
        "sound:istra/vm-leave",
        "sound:beep",
    ]


def test_a_recorded_name_replaces_the_extension() -> None:
    media = greeting_media(mailbox(Greeting.NAME, name_url="http://web/internal/media/n.wav"))

    assert media == [
        "sound:istra/vm-greeting-name",
        "sound:http://web/internal/media/n.wav",
        "sound:istra/vm-leave",
        "sound:beep",
    ]


def test_a_whole_greeting_is_played_alone_before_the_beep() -> None:
    media = greeting_media(mailbox(Greeting.FULL, greeting_url="http://web/internal/media/g.wav"))

    assert media == ["sound:http://web/internal/media/g.wav", "sound:beep"]


def test_a_chosen_greeting_without_audio_falls_back_to_the_standard_one() -> None:
    assert greeting_media(mailbox(Greeting.FULL))[0] == "sound:istra/vm-greeting-ext"
    assert greeting_media(mailbox(Greeting.NAME))[0] == "sound:istra/vm-greeting-ext"
