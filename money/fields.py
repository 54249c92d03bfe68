"""Money in serializers: a decimal string in (MoneyInputField, read against the currency by
parse_amount), a decimal string out with exactly the currency's minor units (AmountField)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from money.amounts import AMOUNT_PATTERN, format_amount


@extend_schema_field({"type": "string", "pattern": AMOUNT_PATTERN, "maxLength": 40, "example": "12.30"})
class MoneyInputField(serializers.Field):
    """An amount as a decimal string; checked against the currency in the serializer's
    validate() with parse_amount. JSON numbers are refused: floats are not money."""

    default_error_messages = {
        "invalid": 'Send the amount as a decimal string, e.g. "12.30".',
        "blank": "This field may not be blank.",
    }
    # Its codes beyond the ones DRF's schema tools infer, and what parse_amount() adds
    # (listed in the schema by server.openapi.AutoSchema).
    schema_error_codes = ("blank", "max_length", "min_value", "max_decimal_places", "max_value")

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not data.strip():
            self.fail("blank")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "12.30"})
class AmountField(serializers.Field):
    """Money out: a decimal string with exactly the currency's minor units, read from the
    integer ``<source>_minor`` and the object's currency. Input uses MoneyInputField."""

    def __init__(self, *, currency_from: str = "currency", **kwargs):
        self.currency_from = currency_from
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        currency = instance
        for part in self.currency_from.split("."):
            currency = getattr(currency, part)
        return format_amount(getattr(instance, f"{self.source}_minor"), currency)
