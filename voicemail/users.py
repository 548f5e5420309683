"""Deleting a user, which takes their voicemail with them: it lives here, above telephony in the stack
(directory <- telephony <- voicemail), beside `actions.create_user_with_mailbox`."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import User
from telephony import provisioning
from telephony.choices import DeviceKind
from telephony.models import Device, Extension, ForwardingRule, PhoneNumber

from .models import Message


@dataclass(frozen=True)
class DeletionSummary:
    """What deleting a user takes with them, said before it is done."""

    extension: str
    phones: int
    public_numbers: tuple[str, ...]
    forwarding_rules: int
    messages: int
    receptionist: bool


def deletion_summary(user: User) -> DeletionSummary:
    assert user.company is not None
    extension = Extension.objects.filter(user=user).values_list("number", flat=True).first()
    sites = user.company.sites.filter(receptionist=user).exists()
    return DeletionSummary(
        extension=extension or "",
        phones=Device.objects.filter(user=user).count(),
        public_numbers=tuple(PhoneNumber.objects.filter(user=user).values_list("number", flat=True)),
        forwarding_rules=ForwardingRule.objects.filter(user=user).count(),
        messages=Message.objects.filter(mailbox__user=user).count(),
        receptionist=user.company.receptionist_id == user.pk or sites,
    )


@transaction.atomic
def delete_user(*, user: User, by: User) -> None:
    """Delete a user and what is theirs: extension (free again), phones (removed from Asterisk after
    commit), public numbers, forwarding rules, call settings, mailbox and messages (audio files
    removed after commit). Their calls stay in colleagues' history, without the name link."""
    if user.pk == by.pk:
        raise ValidationError(_("You cannot delete your own account."))
    sip_usernames = list(
        Device.objects.filter(user=user, kind=DeviceKind.SIP).values_list("sip_username", flat=True)
    )
    audio = [message.audio for message in Message.objects.filter(mailbox__user=user) if message.audio]
    user.delete()

    def clean_up() -> None:
        for username in sip_usernames:
            provisioning.remove_endpoint(username)
        for recording in audio:
            recording.delete(save=False)

    transaction.on_commit(clean_up)
