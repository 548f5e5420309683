"""Sources the SIP guard blocked at the network level after repeated failed requests (R3)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from directory.models import Company


class SipBlockQuerySet(models.QuerySet["SipBlock"]):
    def active(self, now: datetime) -> SipBlockQuerySet:
        """Blocks in force at `now`: not expired, not lifted."""
        return self.filter(expires_at__gt=now, lifted_at__isnull=True)

    def for_company(self, company: Company | int) -> SipBlockQuerySet:
        """Blocks of sources that tried the company's accounts (the only ones its admins see)."""
        return self.filter(companies=company)


class SipBlock(models.Model):
    """An address whose SIP requests Asterisk no longer receives, for a while, after it failed too often."""

    address = models.GenericIPAddressField(_("address"))
    # What the source did, in Asterisk's security event names: InvalidAccountID, ChallengeResponseFailed...
    reason = models.CharField(_("reason"), max_length=200)
    failures = models.PositiveIntegerField(_("failures"))
    # SIP account names the source tried (as it sent them), a few at most.
    accounts = models.JSONField(_("accounts tried"), default=list, blank=True)
    # The companies whose accounts (device SIP usernames) it tried: their admins see the block.
    companies = models.ManyToManyField(Company, related_name="sip_blocks", blank=True)
    blocked_at = models.DateTimeField(_("blocked at"))
    expires_at = models.DateTimeField(_("expires at"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SipBlockQuerySet.as_manager()

    class Meta:
        ordering = ["-blocked_at"]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.address} until {self.expires_at:%Y-%m-%d %H:%M}"

    def in_force(self, now: datetime) -> bool:
        return self.lifted_at is None and self.expires_at > now
