"""Exact money: Decimal in the API, integer minor units in the database.

Storing minor units keeps every sum exact on SQLite (which has no true decimal
type) and PostgreSQL alike; the API still speaks decimal strings ("12.30").
"""

from decimal import Decimal, InvalidOperation

from rest_framework import serializers

from budgets.currencies import minor_units

# Largest amount we accept: 10^15 major units keeps every sum of a million rows
# far inside a 64-bit integer of minor units.
MAX_MAJOR_DIGITS = 15


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)))


def from_minor(value: int | None, currency: str) -> Decimal | None:
    if value is None:
        return None
    places = minor_units(currency)
    return (Decimal(value).scaleb(-places)).quantize(Decimal(1).scaleb(-places))


def format_amount(value: int | None, currency: str) -> str | None:
    amount = from_minor(value, currency)
    return None if amount is None else f"{amount:f}"


def parse_amount(raw, currency: str, *, allow_zero: bool = False) -> int:
    """A decimal string (or int) in ``currency`` -> minor units; ValidationError otherwise."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise serializers.ValidationError(
            'Send the amount as a decimal string, e.g. "12.30".', code="invalid"
        )
    text = str(raw).strip()
    if len(text) > 40:
        raise serializers.ValidationError("The amount is too long.", code="max_length")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise serializers.ValidationError("A valid number is required.", code="invalid") from None
    if not amount.is_finite():
        raise serializers.ValidationError("A valid number is required.", code="invalid")
    if amount < 0 or (amount == 0 and not allow_zero):
        qualifier = "zero or more" if allow_zero else "greater than zero"
        raise serializers.ValidationError(f"The amount must be {qualifier}.", code="min_value")
    places = minor_units(currency)
    exponent = amount.normalize().as_tuple().exponent if amount else 0
    if isinstance(exponent, int) and -exponent > places:
        raise serializers.ValidationError(
            f"{currency} amounts have at most {places} decimal places.", code="max_decimal_places"
        )
    if amount >= Decimal(10) ** MAX_MAJOR_DIGITS:
        raise serializers.ValidationError(
            f"The amount must be less than 10^{MAX_MAJOR_DIGITS}.", code="max_value"
        )
    return to_minor(amount, currency)
