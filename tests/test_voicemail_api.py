"""The voicemail API: each user reaches their own messages and mailbox, and nobody else's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from voicemail.choices import Greeting, Notify
from voicemail.models import Mailbox, Message

from .personas import Person
from .voicemails import T0, Recorder, leave_message, tone_wav


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def mwi(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr("voicemail.mwi.publish", recorder)
    return recorder


@pytest.fixture(autouse=True)
def notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("voicemail.tasks.notify_new_message", Recorder())


def _api(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def _mailbox(person: Person) -> Mailbox:
    return Mailbox.objects.get(user=person.user)


# --- Messages -------------------------------------------------------------------------------------


def test_carol_lists_her_messages_newest_first(bob: Person, carol: Person) -> None:
    # given
    older = leave_message(carol, seconds=2, at=T0)
    newer = leave_message(carol, seconds=3, at=T0.replace(hour=10))
    leave_message(bob)

    # when
    response = _api(carol).get(reverse("api:voicemail-message-list"))

    # then
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == [str(newer.id), str(older.id)]
    assert results[0]["caller_number"] == "0612345678"
    assert results[0]["caller_name"] == "Dan Durand"
    assert results[0]["duration_seconds"] == 3
    assert results[0]["read"] is False
    assert results[0]["audio_url"].endswith(f"/api/voicemail/messages/{newer.id}/audio/")


def test_carol_downloads_the_audio_of_her_message(carol: Person) -> None:
    # given
    message = leave_message(carol, seconds=2)

    # when
    response = _api(carol).get(reverse("api:voicemail-message-audio", args=[message.id]))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content) == tone_wav(2)  # type: ignore[attr-defined]


@pytest.mark.parametrize("intruder", ["bob", "gus"])
@pytest.mark.parametrize(
    ("method", "view"),
    [
        ("get", "api:voicemail-message-detail"),
        ("get", "api:voicemail-message-audio"),
        ("post", "api:voicemail-message-read"),
        ("delete", "api:voicemail-message-detail"),
    ],
)
def test_carols_message_is_404_to_a_colleague_and_to_another_company(
    carol: Person, bob: Person, gus: Person, intruder: str, method: str, view: str
) -> None:
    # given
    message = leave_message(carol)
    person = {"bob": bob, "gus": gus}[intruder]

    # when
    response = getattr(_api(person), method)(reverse(view, args=[message.id]))

    # then
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_others_messages_are_not_in_my_list(carol: Person, bob: Person, gus: Person) -> None:
    # given
    leave_message(carol)

    # when / then
    for person in (bob, gus):
        assert _api(person).get(reverse("api:voicemail-message-list")).json()["results"] == []


def test_carol_marks_her_message_read(
    carol: Person, mwi: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    message = leave_message(carol)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _api(carol).post(reverse("api:voicemail-message-read", args=[message.id]))

    # then
    assert response.status_code == 200
    assert response.json()["read"] is True
    assert Message.objects.get(pk=message.pk).read_at is not None
    assert mwi.calls == [(("102@acme",), {"new": 0, "old": 1})]


def test_carol_deletes_her_message(carol: Person) -> None:
    # given
    message = leave_message(carol)

    # when
    response = _api(carol).delete(reverse("api:voicemail-message-detail", args=[message.id]))

    # then
    assert response.status_code == 204
    assert not Message.objects.filter(pk=message.pk).exists()


def test_the_voicemail_api_needs_a_login(carol: Person) -> None:
    message = leave_message(carol)
    client = APIClient()
    assert client.get(reverse("api:voicemail-message-list")).status_code in (401, 403)
    assert client.get(reverse("api:voicemail-message-detail", args=[message.id])).status_code in (401, 403)
    assert client.get(reverse("api:voicemail-mailbox")).status_code in (401, 403)
    assert client.post(reverse("api:voicemail-pin"), {"pin": "1234"}).status_code in (401, 403)


# --- Mailbox --------------------------------------------------------------------------------------


def test_carol_reads_her_mailbox_without_any_pin_hash(carol: Person) -> None:
    # given
    mailbox = _mailbox(carol)
    mailbox.set_pin("4821")
    mailbox.save()

    # when
    response = _api(carol).get(reverse("api:voicemail-mailbox"))

    # then
    assert response.json() == {
        "enabled": True,
        "notify": "none",
        "sms_number": "",
        "greeting": "default",
        "has_pin": True,
        "has_name_audio": False,
        "has_greeting_audio": False,
    }
    assert mailbox.pin_hash not in response.content.decode()


def test_carol_patches_her_notification_settings(carol: Person, bob: Person) -> None:
    # when
    response = _api(carol).patch(
        reverse("api:voicemail-mailbox"),
        {"notify": Notify.EMAIL_AUDIO, "sms_number": "+33 6 12 34 56 78", "enabled": False},
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["sms_number"] == "+33612345678"
    mailbox = _mailbox(carol)
    assert (mailbox.notify, mailbox.sms_number, mailbox.enabled) == (
        Notify.EMAIL_AUDIO,
        "+33612345678",
        False,
    )
    # and bob's mailbox is untouched
    assert _mailbox(bob).notify == Notify.NONE


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sms_number": "06-12-AB"}, "sms_number"),
        ({"notify": "pigeon"}, "notify"),
        ({"greeting": Greeting.FULL}, "greeting"),
    ],
)
def test_a_refused_mailbox_patch_says_which_field(carol: Person, data: dict[str, str], field: str) -> None:
    # when
    response = _api(carol).patch(reverse("api:voicemail-mailbox"), data, format="json")

    # then
    assert response.status_code == 400
    assert field in response.json()
    assert _mailbox(carol).greeting == Greeting.DEFAULT


def test_the_pin_hash_cannot_be_written_through_the_mailbox(carol: Person) -> None:
    # when
    _api(carol).patch(reverse("api:voicemail-mailbox"), {"pin_hash": "x"}, format="json")

    # then
    assert _mailbox(carol).pin_hash == ""


# --- PIN ------------------------------------------------------------------------------------------


def test_carol_sets_her_pin(carol: Person) -> None:
    # when
    response = _api(carol).post(reverse("api:voicemail-pin"), {"pin": "482193"}, format="json")

    # then
    assert response.status_code == 204
    assert _mailbox(carol).check_pin("482193")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", ""])
def test_a_bad_pin_is_a_400_that_says_why(carol: Person, pin: str) -> None:
    # when
    response = _api(carol).post(reverse("api:voicemail-pin"), {"pin": pin}, format="json")

    # then
    assert response.status_code == 400
    message = response.json()["pin"][0]
    assert message in ("A voicemail PIN is 4 to 8 digits.", "This field may not be blank.")
    assert _mailbox(carol).pin_hash == ""
