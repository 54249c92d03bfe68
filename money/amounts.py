"""Exact money: Decimal in the API, integer minor units in the database.

Storing minor units keeps every sum exact on SQLite (which has no true decimal
type) and PostgreSQL alike; the API still speaks decimal strings ("12.30").
"""

import re
from decimal import Decimal

from rest_framework import serializers

from money.currencies import minor_units

# Largest amount we accept, in minor units (exclusive): 10^12 is ten billion EUR or a
# trillion JPY, and a sum of nine million such rows still fits a signed 64-bit integer,
# which is what both databases sum into.
MAX_MINOR = 10**12
# Plain decimal notation only: no sign, exponent, NaN or Infinity.
AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
# What parse_amount_fast() reads: digits, and a fraction whose digits past the currency's
# places are zeros (group 2 is the fraction without its trailing zeros).
_PLAIN_AMOUNT = re.compile(r"([0-9]+)(?:\.(?=[0-9])([0-9]*?)0*)?")


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)))


def from_minor(value: int | None, currency: str) -> Decimal | None:
    if value is None:
        return None
    places = minor_units(currency)
    return (Decimal(value).scaleb(-places)).quantize(Decimal(1).scaleb(-places))


def format_amount(value: int | None, currency: str) -> str | None:
    """The API's decimal string of ``value`` minor units: f"{from_minor(value, currency):f}",
    in integer arithmetic (a 500-row page formats 500 amounts; the Decimal took twice as
    long). test_csv_fast_path.py holds the two to the same strings."""
    if value is None:
        return None
    places = minor_units(currency)
    if not places:
        return str(value)
    whole, part = divmod(abs(value), 10**places)
    return f"{'-' if value < 0 else ''}{whole}.{part:0{places}d}"


def parse_amount_fast(text: str, places: int) -> int | None:
    """parse_amount(text, <a currency of ``places``>) for a text it certainly accepts (a
    positive plain decimal, no whitespace, within its places and MAX_MINOR), without
    Decimal; None for anything else, which parse_amount() then answers (many rows at once:
    the import, bulk/). transactions/tests/test_csv_fast_path.py holds the two to the same results."""
    if len(text) > 40:
        return None
    match = _PLAIN_AMOUNT.fullmatch(text)
    if match is None:
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > places:
        return None
    minor = int(whole) * 10**places + (int(fraction.ljust(places, "0")) if places else 0)
    return minor if 0 < minor < MAX_MINOR else None


def parse_amount(raw, currency: str, *, allow_zero: bool = False) -> int:
    """A decimal string in ``currency`` -> minor units; ValidationError otherwise."""
    if not isinstance(raw, str):
        raise serializers.ValidationError(
            'Send the amount as a decimal string, e.g. "12.30".', code="invalid"
        )
    text = raw.strip()
    if len(text) > 40:
        raise serializers.ValidationError("The amount is too long.", code="max_length")
    if text.startswith("-") and _AMOUNT.match(text[1:]):
        raise serializers.ValidationError("The amount must not be negative.", code="min_value")
    if not _AMOUNT.match(text):
        raise serializers.ValidationError(
            'Write the amount as a plain decimal number, e.g. "12.30".', code="invalid"
        )
    amount = Decimal(text)
    if amount == 0 and not allow_zero:
        raise serializers.ValidationError("The amount must be greater than zero.", code="min_value")
    places = minor_units(currency)
    exponent = amount.normalize().as_tuple().exponent if amount else 0
    if -exponent > places:
        raise serializers.ValidationError(
            f"{currency} amounts have at most {places} decimal places.", code="max_decimal_places"
        )
    if amount.scaleb(places) >= MAX_MINOR:
        limit = format_amount(MAX_MINOR, currency)
        raise serializers.ValidationError(
            f"The amount must be less than {limit} {currency}.", code="max_value"
        )
    return to_minor(amount, currency)
