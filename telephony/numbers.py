"""Numbers as people type them and as they are compared: pure functions, no database."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def to_e164(number: str, country_code: str) -> str:
    """An outside number (or the beginning of one) as +<country><number>.

    0612345678 -> +33612345678; 0044207... -> +44207...; +1555... stays; short national numbers
    without a leading 0 (112, 3615) stay as they are."""
    if number.startswith("+"):
        return number
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("0"):
        return f"+{country_code}{number[1:]}"
    return number


def public_number(number: str, country_code: str) -> str:
    """A public number (a DID, a company's or a site's number, a carrier's called number) in E.164,
    however it is written: in France 01 50 00 01 00, 0033150000100, 33150000100 and +33150000100
    are all +33150000100. Digits without a leading 0 or + are a number with its country code (as
    carriers send E.164 without its +). Anything but digits is left as it is."""
    number = "".join(number.split()).replace(".", "").replace("-", "")
    if not number.removeprefix("+").isdigit():
        return number
    return to_e164(number, country_code) if number.startswith(("+", "0")) else "+" + number


# Countries whose national numbers are written with a leading 0 (the trunk prefix: 01 40 00 00 00,
# 06 12 34 56 78). There, an outside number that starts with neither 0 (national) nor 00 or +
# (international) can only be a short service number (112, 3615); a longer one does not exist. It is
# nearly always a national number whose outside prefix was forgotten: with prefix 0, 0612345678 would
# go out as 612345678. Such a number is refused as unknown at once, rather than sent to the carrier.
TRUNK_ZERO_COUNTRIES = frozenset({"31", "32", "33", "41", "43", "44", "49"})
SHORT_NUMBER_MAX_DIGITS = 6


def dialable(number: str, country_code: str) -> bool:
    """Whether an outside number as dialled after the prefix (or written in a setting) can exist."""
    if number.startswith(("0", "+")) or len(number) <= SHORT_NUMBER_MAX_DIGITS:
        return True
    return country_code not in TRUNK_ZERO_COUNTRIES


def canonical(number: str, country_code: str) -> str:
    """How a number is compared: an extension (up to 6 digits) as is, an outside number in E.164."""
    return _canonical(number, country_code)


@lru_cache(maxsize=4096)
def _canonical(number: str, country_code: str) -> str:
    # Cached: a call's decision needs its caller's number in this form several times.
    number = number.strip().replace(" ", "")
    if len(number) <= 6 and not number.startswith("+"):
        return number
    return to_e164(number, country_code)


# Separators people type in phone numbers: "06 12 34 56 78", "06.12.34.56.78", "(0)6-12...".
NUMBER_SEPARATORS = re.compile(r"[\s.\-/()]")


def tidy_number(number: str) -> str:
    """A typed phone number without its separators; what is left is checked by the caller."""
    return NUMBER_SEPARATORS.sub("", number or "")


def tidy_numbers(numbers: Iterable[str]) -> list[str]:
    """Typed numbers, tidied, without blanks or repeats, in the order given."""
    seen: dict[str, None] = {}
    for number in numbers:
        tidy = tidy_number(number)
        if tidy:
            seen.setdefault(tidy, None)
    return list(seen)
