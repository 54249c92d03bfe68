"""Money in the Django admin."""

from money.amounts import format_amount


def money(value_minor: int | None, currency: str) -> str | None:
    """ "12.30 EUR": exactly the currency's minor units, never a float."""
    amount = format_amount(value_minor, currency)
    return None if amount is None else f"{amount} {currency}"
