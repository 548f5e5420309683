"""Reads of the SIP guard's blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from directory.models import Company
from telephony.models import Device

from .models import SipBlock


def enforced_blocks(now: datetime) -> dict[str, datetime]:
    """Every address that must be blocked at `now`, with when its block ends (the latest, if several)."""
    wanted: dict[str, datetime] = {}
    for address, expires_at in SipBlock.objects.active(now).values_list("address", "expires_at"):
        if address not in wanted or expires_at > wanted[address]:
            wanted[address] = expires_at
    return wanted


@dataclass(frozen=True)
class CompanyBlock:
    """A block as a company's administrator sees it: only the accounts of their own company."""

    id: int
    address: str
    reason: str
    failures: int
    accounts: tuple[str, ...]
    blocked_at: datetime
    expires_at: datetime


def company_blocks(company: Company | int, now: datetime) -> list[CompanyBlock]:
    """The blocks in force of sources that tried this company's accounts, newest first."""
    blocks = list(SipBlock.objects.for_company(company).active(now).order_by("-blocked_at"))
    tried = {account for block in blocks for account in block.accounts}
    own = set(
        Device.objects.filter(company=company, sip_username__in=tried).values_list("sip_username", flat=True)
    )
    return [
        CompanyBlock(
            id=block.pk,
            address=block.address,
            reason=block.reason,
            failures=block.failures,
            accounts=tuple(a for a in block.accounts if a in own),
            blocked_at=block.blocked_at,
            expires_at=block.expires_at,
        )
        for block in blocks
    ]


def company_block(company: Company | int, block_id: int, now: datetime) -> SipBlock | None:
    """One block in force that the company's administrator may lift; None if not theirs or over."""
    return SipBlock.objects.for_company(company).active(now).filter(pk=block_id).first()


# A source blocked again within a day of its last block is blocked twice as long, up to a week: the
# scanners that come back as soon as a block ends get less and less of a chance.
REPEAT_WITHIN = timedelta(days=1)
LONGEST_BLOCK = 7 * 24 * 3600


def block_seconds(address: str, base: int, now: datetime) -> int:
    """How long to block `address` now: `base`, or twice its last block's length if that ended (or
    was set) within a day."""
    last = (
        SipBlock.objects.filter(address=address, expires_at__gt=now - REPEAT_WITHIN)
        .order_by("-blocked_at")
        .values_list("blocked_at", "expires_at")
        .first()
    )
    if last is None:
        return base
    previous = int((last[1] - last[0]).total_seconds())
    return min(max(base, 2 * previous), LONGEST_BLOCK)
