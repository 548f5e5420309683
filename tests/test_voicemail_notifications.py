"""A new message reaches its owner: by e-mail through a real SMTP server (with the message as MP3 when
asked), by SMS through the configured backend, on the phone's lamp; retried until it goes, sent once."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from config.celery import app as celery_app
from voicemail import actions
from voicemail.choices import Notify
from voicemail.models import Mailbox, Message
from voicemail.tasks import notify_new_message

from .personas import Person
from .voicemails import T0, Recorder, leave_message, media_duration

SENT_SMS: list[tuple[str, str]] = []
SMS_FAILURES: list[Exception] = []


def sms_gateway(number: str, text: str) -> None:
    """The SMS backend of these tests (settings.VOICEMAIL_SMS_BACKEND): fails while told to, else notes."""
    if SMS_FAILURES:
        raise SMS_FAILURES.pop(0)
    SENT_SMS.append((number, text))


class Inbox:
    """An aiosmtpd handler keeping what it receives; it refuses recipients while `refuse` says so."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on the loopback, which a test can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages


def _free_port() -> int:
    # Not the test settings' fixed 8025: another suite (the e2e one) may run an SMTP server there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    """Django sends through the real SMTP backend to this server; started, unless a test stops it."""
    server = SmtpServer(_free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def sms(settings: Any) -> Iterator[list[tuple[str, str]]]:
    settings.VOICEMAIL_SMS_BACKEND = "tests.test_voicemail_notifications.sms_gateway"
    SENT_SMS.clear()
    SMS_FAILURES.clear()
    yield SENT_SMS
    SENT_SMS.clear()
    SMS_FAILURES.clear()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def mwi(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr("voicemail.mwi.publish", recorder)
    return recorder


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """notify_new_message.delay() runs the job right here, as a worker would once the message is stored."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Jobs queued but not run: the test runs them itself, attempt by attempt."""
    recorder = Recorder()
    monkeypatch.setattr("voicemail.tasks.notify_new_message", recorder)
    return recorder


def _wants(person: Person, notify: str, *, email: str = "carol@acme.test", sms_number: str = "") -> None:
    person.user.email = email
    person.user.save(update_fields=["email"])
    Mailbox.objects.filter(user=person.user).update(notify=notify, sms_number=sms_number)


def _store(person: Person, capture: Any, *, seconds: float = 5) -> Message:
    """A 5 s message from Dan Durand, left at 10:00 Paris time, committed (its on-commit hooks run)."""
    with capture(execute=True):
        message = leave_message(
            person, seconds=seconds, caller_name="Dan Durand", caller_number="0612345678", at=T0
        )
    return message


def _attachments(email: EmailMessage) -> list[Any]:
    return list(email.iter_attachments())


# --- E-mail ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_celery")
def test_carol_gets_an_email_with_the_message_as_mp3_when_she_asked_for_it(
    smtp: SmtpServer, carol: Person, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    # given
    _wants(carol, Notify.EMAIL_AUDIO)

    # when a 5 s message is stored (and its notification job runs)
    message = _store(carol, django_capture_on_commit_callbacks)

    # then one e-mail arrived, saying who called, when (Paris time) and for how long
    assert len(smtp.messages) == 1
    email = smtp.messages[0]
    assert email["To"] == "carol@acme.test"
    assert email["From"] == "voicemail@istra.invalid"
    assert email["Subject"] == "New voicemail message from Dan Durand (0612345678)"
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "New voicemail message from Dan Durand (0612345678), 5 s, left on 03/10/2025 10:00." in text
    assert "The message is attached to this e-mail." in text
    # with the message as a real MP3 of the same length
    (attachment,) = _attachments(email)
    assert attachment.get_content_type() == "audio/mpeg"
    assert attachment.get_filename() == "voicemail-20250310-100000.mp3"
    mp3 = attachment.get_content()
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF
    assert media_duration(mp3, tmp_path, ".mp3") == pytest.approx(5, abs=0.3)
    # and the message is noted as notified
    assert Message.objects.get(pk=message.pk).notified_at is not None


@pytest.mark.usefixtures("eager_celery")
def test_an_email_only_notification_has_no_attachment(
    smtp: SmtpServer, carol: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    _wants(carol, Notify.EMAIL)

    # when
    _store(carol, django_capture_on_commit_callbacks)

    # then
    (email,) = smtp.messages
    assert _attachments(email) == []
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    assert "attached" not in body.get_content()


@pytest.mark.usefixtures("eager_celery")
def test_no_notification_sends_nothing(
    smtp: SmtpServer, sms: list[tuple[str, str]], carol: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    _wants(carol, Notify.NONE)

    # when
    _store(carol, django_capture_on_commit_callbacks)

    # then
    assert smtp.messages == []
    assert sms == []


@pytest.mark.usefixtures("eager_celery")
def test_a_user_without_an_email_address_gets_no_email(
    smtp: SmtpServer, carol: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    _wants(carol, Notify.EMAIL_AUDIO, email="")

    # when
    _store(carol, django_capture_on_commit_callbacks)

    # then
    assert smtp.messages == []


@pytest.mark.usefixtures("eager_celery")
def test_a_french_speaker_gets_her_email_in_french(
    smtp: SmtpServer, carol: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    carol.user.language = "fr"
    carol.user.save(update_fields=["language"])
    _wants(carol, Notify.EMAIL)

    # when
    _store(carol, django_capture_on_commit_callbacks)

    # then
    (email,) = smtp.messages
    assert email["Subject"] == "Nouveau message vocal de Dan Durand (0612345678)"
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    assert "10/03/2025 10:00" in body.get_content()


# --- When it does not go through ------------------------------------------------------------------


def test_while_the_mail_server_is_down_the_job_fails_to_be_retried_then_delivers_once(
    smtp: SmtpServer,
    carol: Person,
    queued: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a stored message, whose job was queued on commit
    _wants(carol, Notify.EMAIL_AUDIO)
    message = _store(carol, django_capture_on_commit_callbacks)
    assert queued.calls == [((str(message.id),), {})]
    # and the mail server down
    smtp.stop()

    # when the job runs, it raises (which a Celery worker turns into a retry)
    with pytest.raises(ConnectionRefusedError):
        notify_new_message(str(message.id))
    # and run eagerly through a few retries, it ends failed
    monkeypatch.setattr(notify_new_message, "max_retries", 2)
    result = notify_new_message.apply(args=[str(message.id)])
    assert result.state == "FAILURE"
    assert isinstance(result.result, ConnectionRefusedError)
    # then nothing was sent, nor noted as sent
    assert Message.objects.get(pk=message.pk).notified_at is None

    # when the server is back, the next attempt delivers it
    smtp.start()
    assert notify_new_message.apply(args=[str(message.id)]).get() is True
    # and any later run sends nothing more
    assert notify_new_message.apply(args=[str(message.id)]).get() is False
    assert len(smtp.messages) == 1
    assert Message.objects.get(pk=message.pk).notified_at is not None


def test_a_failed_sms_is_retried_without_sending_the_email_twice(
    smtp: SmtpServer,
    sms: list[tuple[str, str]],
    carol: Person,
    queued: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given e-mail and SMS wanted, and an SMS gateway failing once
    _wants(carol, Notify.EMAIL, sms_number="+33612345678")
    message = _store(carol, django_capture_on_commit_callbacks)
    SMS_FAILURES.append(ConnectionResetError("gateway hung up"))

    # when the job runs (and retries, eagerly)
    result = notify_new_message.apply(args=[str(message.id)])

    # then both went, once each
    assert result.state == "SUCCESS"
    assert len(smtp.messages) == 1
    assert len(sms) == 1


def test_a_recipient_refused_for_good_is_not_retried(
    smtp: SmtpServer, carol: Person, queued: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    # given a mail server that does not know carol's address
    _wants(carol, Notify.EMAIL)
    message = _store(carol, django_capture_on_commit_callbacks)
    smtp.inbox.refuse = "550 5.1.1 No such user"

    # when
    result = notify_new_message.apply(args=[str(message.id)])

    # then the job gives up at once (retrying would not change the answer)
    assert result.state == "SUCCESS"
    assert result.result is True
    assert smtp.messages == []
    assert Message.objects.get(pk=message.pk).notified_at is not None


def test_a_message_deleted_before_its_notification_is_not_notified(
    smtp: SmtpServer, carol: Person, queued: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    _wants(carol, Notify.EMAIL)
    message = _store(carol, django_capture_on_commit_callbacks)
    message_id = str(message.id)
    actions.delete_message(message=message)

    # when
    result = notify_new_message.apply(args=[message_id])

    # then
    assert result.result is False
    assert smtp.messages == []


def test_an_unknown_message_id_is_ignored(db: None) -> None:
    assert notify_new_message.apply(args=[str(uuid.uuid4())]).result is False


# --- SMS ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_celery")
def test_the_sms_backend_gets_the_number_and_the_text(
    sms: list[tuple[str, str]], carol: Person, django_capture_on_commit_callbacks: Any
) -> None:
    # given no e-mail, an SMS number
    _wants(carol, Notify.NONE, sms_number="+33612345678")

    # when
    _store(carol, django_capture_on_commit_callbacks)

    # then
    assert sms == [
        ("+33612345678", "New voicemail message from Dan Durand (0612345678), 5 s, left on 03/10/2025 10:00.")
    ]


# --- The phone's lamp and the MyIstra badge -------------------------------------------------------


def test_storing_a_message_lights_carols_lamp_and_badge_and_deleting_it_turns_them_off(
    carol: Person,
    mwi: Recorder,
    queued: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    events = Recorder()
    monkeypatch.setattr("telephony.events.send_now", events)

    # when
    message = _store(carol, django_capture_on_commit_callbacks)

    # then
    assert mwi.calls == [(("102@acme",), {"new": 1, "old": 0})]
    assert events.calls[-1][0] == (
        carol.user.pk,
        {"type": "live.event", "event": {"type": "voicemail.count", "unread": 1}},
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_message(message=message)

    # then
    assert mwi.calls[-1] == (("102@acme",), {"new": 0, "old": 0})
    assert events.calls[-1][0][1]["event"] == {"type": "voicemail.count", "unread": 0}
