"""Serializer fields that accept exactly what the schema says they accept."""

from rest_framework import serializers


class _StringsOnly:
    """A JSON string and nothing else, no longer than the schema's maxLength as sent.

    DRF's CharField also takes a number (12 -> "12"), and checks max_length only after
    trimming whitespace, so it takes a 120-character string of which 20 are spaces; the schema
    ("type": "string", "maxLength") allows neither. Both are 400s here ("invalid",
    "max_length"); whitespace is still trimmed from what is kept."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictCharField(_StringsOnly, serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}


class StrictEmailField(_StringsOnly, serializers.EmailField):
    pass
