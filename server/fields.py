"""Serializer fields that accept exactly what the schema says they accept."""

from rest_framework import serializers


class _StringsOnly:
    """A JSON string and nothing else. DRF's CharField also takes a number (12 -> "12"),
    which the schema ("type": "string") does not allow; that is a 400 "invalid" here."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_StringsOnly, serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}


class StrictEmailField(_StringsOnly, serializers.EmailField):
    pass
