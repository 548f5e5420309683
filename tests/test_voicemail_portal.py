"""MyIstra's voicemail as a browser sees it: the messages, their audio, the badge, and the settings."""

from __future__ import annotations

import io
import uuid
import wave
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse

from voicemail import actions, media
from voicemail.choices import Greeting, Notify
from voicemail.models import Mailbox, Message

from .personas import Person
from .voicemails import T0, Recorder, leave_message, tone_ogg, tone_wav

# How live.js posts: it swaps the answer (the fresh list) in.
FETCH = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def mwi(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The phone lamps, which are Asterisk's (ARI over HTTP): noted, not sent."""
    recorder = Recorder()
    monkeypatch.setattr("voicemail.mwi.publish", recorder)
    return recorder


@pytest.fixture(autouse=True)
def notifications(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The Celery notification job: noted, not queued (tests/test_voicemail_notifications.py runs it)."""
    recorder = Recorder()
    monkeypatch.setattr("voicemail.tasks.notify_new_message", recorder)
    return recorder


@pytest.fixture
def live_events(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr("telephony.events.send_now", recorder)
    return recorder


def _logged_in(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


def _mailbox(person: Person) -> Mailbox:
    return Mailbox.objects.get(user=person.user)


def _badge(html: str) -> str:
    start = html.index('id="voicemail-badge"')
    return html[start : html.index("</span>", start)]


# --- The list --------------------------------------------------------------------------------------


def test_carol_sees_her_message_with_its_caller_time_in_her_company_zone_and_duration(
    client: Client, carol: Person
) -> None:
    # given a 5 s message left at 09:00 UTC, which is 10:00 in Paris
    message = leave_message(carol, seconds=5, at=T0)

    # when
    response = _logged_in(client, carol).get(reverse("portal:voicemail"))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-message-id="{message.id}"' in html
    assert 'class="voicemail-row unread"' in html
    assert "Dan Durand" in html
    assert "0612345678" in html
    assert 'datetime="2025-03-10T10:00:00+01:00"' in html
    assert ">10 Mar 2025, 10:00</time>" in html  # day first, 24 h: no US order for a Paris company
    assert '<td class="duration" data-label="Duration">00:05</td>' in html
    assert f'class="button listen" href="/me/voicemail/{message.id}/audio/"' in html


def test_a_message_still_being_recorded_is_not_listed(client: Client, carol: Person) -> None:
    # given a recording Asterisk has not handed over yet
    actions.begin_message(
        mailbox_id=_mailbox(carol).pk, recording_name="vm-in-progress", asterisk_server="ast-test",
        caller_number="0612345678", caller_name="", caller_user_id=None, call_id=None, at=T0,
    )  # fmt: skip

    # when
    html = _logged_in(client, carol).get(reverse("portal:voicemail_list")).content.decode()

    # then
    assert "voicemail-row" not in html
    assert "No messages." in html


def test_carol_sees_only_her_own_messages(client: Client, bob: Person, carol: Person) -> None:
    # given
    bobs = leave_message(bob)
    carols = leave_message(carol)

    # when
    html = _logged_in(client, carol).get(reverse("portal:voicemail")).content.decode()

    # then
    assert str(carols.id) in html
    assert str(bobs.id) not in html


def test_the_list_costs_the_same_queries_however_many_messages(
    client: Client, carol: Person, django_assert_max_num_queries: Any
) -> None:
    # given
    for minute in range(6):
        leave_message(carol, seconds=2, caller_number=f"06000000{minute:02d}")
    _logged_in(client, carol)

    # when / then
    with django_assert_max_num_queries(6):
        response = client.get(reverse("portal:voicemail_list"))
    assert response.content.decode().count("voicemail-row") == 6


def test_the_badge_counts_unread_messages_on_every_portal_page(client: Client, carol: Person) -> None:
    # given
    leave_message(carol)
    leave_message(carol)
    _logged_in(client, carol)

    # when / then
    for page in ("portal:myistra", "portal:voicemail"):
        badge = _badge(client.get(reverse(page)).content.decode())
        assert badge.endswith(">2")
        assert "hidden" not in badge


def test_the_badge_is_hidden_and_says_0_without_unread_messages(client: Client, carol: Person) -> None:
    # when
    badge = _badge(_logged_in(client, carol).get(reverse("portal:myistra")).content.decode())

    # then
    assert "hidden" in badge
    assert badge.endswith(">0")


def test_the_unread_count_is_json_for_live_js_and_401_when_logged_out(client: Client, carol: Person) -> None:
    # given
    leave_message(carol)

    # when / then
    assert client.get(reverse("portal:voicemail_unread")).status_code == 401
    assert _logged_in(client, carol).get(reverse("portal:voicemail_unread")).json() == {"unread": 1}


def test_the_voicemail_page_needs_a_login(client: Client, db: None) -> None:
    # when
    response = client.get(reverse("portal:voicemail"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


# --- Listening ------------------------------------------------------------------------------------


def test_carol_streams_her_message_as_wav(client: Client, carol: Person) -> None:
    # given
    message = leave_message(carol, seconds=3)

    # when
    response = _logged_in(client, carol).get(reverse("portal:voicemail_audio", args=[message.id]))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body == tone_wav(3)


@pytest.mark.parametrize("intruder", ["bob", "gus"])
def test_nobody_else_gets_carols_audio_not_even_a_colleague(
    client: Client, carol: Person, bob: Person, gus: Person, intruder: str
) -> None:
    # given
    message = leave_message(carol)
    person = {"bob": bob, "gus": gus}[intruder]

    # when
    response = _logged_in(client, person).get(reverse("portal:voicemail_audio", args=[message.id]))

    # then
    assert response.status_code == 404


def test_an_unknown_message_is_404(client: Client, carol: Person) -> None:
    response = _logged_in(client, carol).get(reverse("portal:voicemail_audio", args=[uuid.uuid4()]))
    assert response.status_code == 404


def test_playing_a_message_marks_it_read_and_tells_her_browsers_and_phones(
    client: Client,
    carol: Person,
    mwi: Recorder,
    live_events: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    message = leave_message(carol)
    _logged_in(client, carol)

    # when live.js posts on the audio's "play" event
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:voicemail_read", args=[message.id]), headers=FETCH)

    # then it is read, and the answer is the fresh list
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="voicemail-list"' in html
    assert 'data-unread="0"' in html
    assert 'class="voicemail-row"' in html
    assert Message.objects.get(pk=message.pk).read_at is not None
    # and the badge and the lamp follow
    assert live_events.calls == [
        ((carol.user.pk, {"type": "live.event", "event": {"type": "voicemail.count", "unread": 0}}), {})
    ]
    assert mwi.calls == [(("102@acme",), {"new": 0, "old": 1})]


def test_mark_as_read_without_script_redirects_to_the_page(client: Client, carol: Person) -> None:
    # given
    message = leave_message(carol)

    # when
    response = _logged_in(client, carol).post(reverse("portal:voicemail_read", args=[message.id]))

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:voicemail")
    assert Message.objects.get(pk=message.pk).read_at is not None


def test_marking_read_needs_a_post(client: Client, carol: Person) -> None:
    message = leave_message(carol)
    response = _logged_in(client, carol).get(reverse("portal:voicemail_read", args=[message.id]))
    assert response.status_code == 405


@pytest.mark.parametrize("view", ["portal:voicemail_read", "portal:voicemail_delete"])
def test_bob_can_neither_read_nor_delete_carols_message(
    client: Client, bob: Person, carol: Person, view: str
) -> None:
    # given
    message = leave_message(carol)

    # when
    response = _logged_in(client, bob).post(reverse(view, args=[message.id]))

    # then
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


# --- Deleting -------------------------------------------------------------------------------------


def test_deleting_a_message_updates_the_list_the_badge_and_the_lamp(
    client: Client,
    carol: Person,
    mwi: Recorder,
    live_events: Recorder,
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given two unread messages
    kept = leave_message(carol, caller_number="0600000001")
    gone = leave_message(carol, caller_number="0600000002")
    audio_path = Path(gone.audio.path)
    _logged_in(client, carol)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:voicemail_delete", args=[gone.id]), headers=FETCH)

    # then
    html = response.content.decode()
    assert str(kept.id) in html
    assert str(gone.id) not in html
    assert 'data-unread="1"' in html
    assert not Message.objects.filter(pk=gone.pk).exists()
    assert not audio_path.exists()
    assert live_events.calls[-1][0][1]["event"] == {"type": "voicemail.count", "unread": 1}
    assert mwi.calls == [(("102@acme",), {"new": 1, "old": 0})]
    assert _badge(client.get(reverse("portal:myistra")).content.decode()).endswith(">1")


def test_deleting_without_script_redirects_with_a_confirmation(client: Client, carol: Person) -> None:
    # given
    message = leave_message(carol)

    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_delete", args=[message.id]), follow=True
    )

    # then
    assert response.redirect_chain[-1][0] == reverse("portal:voicemail")
    assert "Message deleted." in response.content.decode()
    assert "voicemail-row" not in response.content.decode()


# --- Settings -------------------------------------------------------------------------------------


def test_carol_chooses_e_mail_with_audio_and_an_sms_number(client: Client, carol: Person) -> None:
    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_settings"),
        {"enabled": "on", "notify": Notify.EMAIL_AUDIO, "sms_number": "+33 6 12 34 56 78"},
    )

    # then
    assert response.status_code == 302
    mailbox = _mailbox(carol)
    assert mailbox.notify == Notify.EMAIL_AUDIO
    assert mailbox.sms_number == "+33612345678"
    assert mailbox.enabled is True


def test_carol_turns_her_voicemail_off(client: Client, carol: Person) -> None:
    # when
    _logged_in(client, carol).post(
        reverse("portal:voicemail_settings"), {"notify": Notify.NONE, "sms_number": ""}
    )

    # then
    assert _mailbox(carol).enabled is False


@pytest.mark.parametrize("number", ["06 12 AB 56 78", "++33612345678", "33+612345678", "12"])
def test_an_sms_number_is_digits_with_an_optional_leading_plus(
    client: Client, carol: Person, number: str
) -> None:
    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_settings"), {"enabled": "on", "notify": Notify.EMAIL, "sms_number": number}
    )

    # then
    assert response.status_code == 400
    assert "Enter a phone number: digits only, with an optional leading +." in response.content.decode()
    assert _mailbox(carol).sms_number == ""


def test_carol_sets_her_pin_and_never_sees_it_again(client: Client, carol: Person) -> None:
    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_pin"), {"pin": "4821", "pin_again": "4821"}, follow=True
    )

    # then
    html = response.content.decode()
    assert "Your voicemail PIN is changed." in html
    mailbox = _mailbox(carol)
    assert mailbox.check_pin("4821")
    assert "4821" not in html
    assert mailbox.pin_hash not in html


@pytest.mark.parametrize(
    ("pin", "again", "error"),
    [
        ("123", "123", "A voicemail PIN is 4 to 8 digits."),
        ("123456789", "123456789", "A voicemail PIN is 4 to 8 digits."),
        ("12ab", "12ab", "A voicemail PIN is 4 to 8 digits."),
        ("4821", "4812", "The two PINs differ: type the same PIN twice."),
        ("", "", "This field is required."),
    ],
)
def test_a_refused_pin_says_why_and_changes_nothing(
    client: Client, carol: Person, pin: str, again: str, error: str
) -> None:
    # given a PIN already set
    actions.set_pin(mailbox=_mailbox(carol), pin="7395")

    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_pin"), {"pin": pin, "pin_again": again}
    )

    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert f'value="{pin}"' not in html or not pin  # a PIN is never echoed back
    assert _mailbox(carol).check_pin("7395")


def test_an_uploaded_name_becomes_phone_audio_and_can_be_chosen(client: Client, carol: Person) -> None:
    # given a recording as a browser would give it (Ogg Vorbis, 44.1 kHz)
    upload = io.BytesIO(tone_ogg(2))
    upload.name = "my-name.ogg"

    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_greeting"), {"greeting": Greeting.NAME, "name_audio": upload}
    )

    # then
    assert response.status_code == 302
    mailbox = _mailbox(carol)
    assert mailbox.greeting == Greeting.NAME
    with mailbox.name_audio.open("rb") as handle, wave.open(handle) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert abs(wav.getnframes() / 8000 - 2) < 0.1
    # and she can listen to it
    recording = client.get(reverse("portal:voicemail_recording", args=["name"]))
    assert recording["Content-Type"] == "audio/wav"


def test_a_new_greeting_replaces_the_old_file(
    client: Client, carol: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    _logged_in(client, carol)
    client.post(
        reverse("portal:voicemail_greeting"), {"greeting": Greeting.FULL, "greeting_audio": _wav_upload(3)}
    )
    old_path = Path(_mailbox(carol).greeting_audio.path)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("portal:voicemail_greeting"),
            {"greeting": Greeting.FULL, "greeting_audio": _wav_upload(4)},
        )

    # then
    new_path = Path(_mailbox(carol).greeting_audio.path)
    assert new_path.exists()
    assert new_path != old_path
    assert not old_path.exists()


def _wav_upload(seconds: float) -> io.BytesIO:
    upload = io.BytesIO(tone_wav(seconds, rate=16000))
    upload.name = "greeting.wav"
    return upload


def test_a_text_file_is_refused_as_greeting_with_a_clear_error(client: Client, carol: Person) -> None:
    # given
    upload = io.BytesIO(b"Hello, this is not a recording at all.\n")
    upload.name = "greeting.txt"

    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_greeting"), {"greeting": Greeting.FULL, "greeting_audio": upload}
    )

    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert "This file is not a recording we can read." in html
    mailbox = _mailbox(carol)
    assert not mailbox.greeting_audio
    assert mailbox.greeting == Greeting.DEFAULT


def test_a_greeting_too_long_is_refused(client: Client, carol: Person) -> None:
    # when a "name" of 12 seconds
    upload = _wav_upload(12)
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_greeting"), {"greeting": Greeting.DEFAULT, "name_audio": upload}
    )

    # then
    assert response.status_code == 400
    assert "This recording is too long: 10 seconds at most." in response.content.decode()


def test_her_own_greeting_cannot_be_chosen_before_it_is_uploaded(client: Client, carol: Person) -> None:
    # when
    response = _logged_in(client, carol).post(
        reverse("portal:voicemail_greeting"), {"greeting": Greeting.FULL}
    )

    # then
    assert response.status_code == 400
    assert "Upload your greeting to use it." in response.content.decode()
    assert _mailbox(carol).greeting == Greeting.DEFAULT


def test_bob_cannot_hear_carols_recorded_name(client: Client, bob: Person, carol: Person) -> None:
    # given carol recorded her name; bob has none
    _logged_in(client, carol).post(
        reverse("portal:voicemail_greeting"), {"greeting": Greeting.NAME, "name_audio": _wav_upload(2)}
    )

    # when
    response = _logged_in(Client(), bob).get(reverse("portal:voicemail_recording", args=["name"]))

    # then
    assert response.status_code == 404


# --- What Asterisk fetches ------------------------------------------------------------------------


def test_asterisk_fetches_a_message_with_a_signed_url_and_no_login(client: Client, carol: Person) -> None:
    # given
    message = leave_message(carol, seconds=2)
    url = media.media_url("message", message.id)
    path = url.split(settings.PLATFORM_INTERNAL_URL, 1)[1]

    # when
    response = client.get(path)

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Content-Length"] == str(len(tone_wav(2)))  # Asterisk's media cache is told the size
    assert b"".join(response.streaming_content) == tone_wav(2)  # type: ignore[attr-defined]


def test_asterisk_fetches_a_recorded_greeting(client: Client, carol: Person) -> None:
    # given
    _logged_in(client, carol).post(
        reverse("portal:voicemail_greeting"), {"greeting": Greeting.FULL, "greeting_audio": _wav_upload(3)}
    )
    token = signing.dumps({"k": "greeting", "id": str(_mailbox(carol).pk)}, salt=media.SALT, compress=True)

    # when
    response = Client().get(f"/internal/media/{token}.wav")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"


def test_a_forged_or_expired_media_token_is_404(
    client: Client, carol: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    message = leave_message(carol)
    token = signing.dumps({"k": "message", "id": str(message.id)}, salt=media.SALT, compress=True)
    forged = signing.dumps({"k": "message", "id": str(message.id)}, salt="another-salt", compress=True)

    # when / then
    assert client.get(f"/internal/media/{forged}.wav").status_code == 404
    assert client.get("/internal/media/not-a-token.wav").status_code == 404
    monkeypatch.setattr(media, "MAX_AGE", -1)  # every token is now older than allowed
    assert client.get(f"/internal/media/{token}.wav").status_code == 404


def test_the_media_url_of_a_deleted_message_is_404(client: Client, carol: Person) -> None:
    # given
    message = leave_message(carol)
    token = signing.dumps({"k": "message", "id": str(message.id)}, salt=media.SALT, compress=True)
    actions.delete_message(message=message)

    # when / then
    assert client.get(f"/internal/media/{token}.wav").status_code == 404


def test_a_french_speaker_reads_her_voicemail_page_in_french(client: Client, carol: Person) -> None:
    # given
    carol.user.language = "fr"
    carol.user.save(update_fields=["language"])
    leave_message(carol)

    # when
    html = _logged_in(client, carol).get(reverse("portal:voicemail")).content.decode()

    # then
    assert "Ma messagerie vocale" in html
    assert "Marquer comme lu" in html
    assert "Notification par e-mail" in html
    assert "E-mail avec le message vocal joint" in html
    assert "Depuis votre téléphone, appelez le 555 pour écouter vos messages." in html
