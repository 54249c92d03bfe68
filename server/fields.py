"""Serializer fields that accept exactly what the schema says they accept, and say what
they accept when refused."""

import datetime
import functools
import re
from collections.abc import Iterable

from django.utils import timezone
from rest_framework import serializers

# An invalid_choice error lists at most this many valid choices; a longer enum (currencies)
# is named by its size, and the OpenAPI schema lists it whole.
MAX_LISTED_CHOICES = 20


def invalid_choice_message(value, choices: Iterable) -> str:
    """The detail of every invalid_choice error the API gives, for a serializer field
    (ChoiceField below) and for a query filter (server/filters.py) alike:
    '"change" is not a valid choice. Valid choices: "view", "edit".'"""
    valid = list(dict.fromkeys(str(choice) for choice in choices))
    listed = ", ".join(f'"{choice}"' for choice in valid[:MAX_LISTED_CHOICES])
    if len(valid) > MAX_LISTED_CHOICES:
        listed += f", ... ({len(valid)} in all, every one in the OpenAPI schema)"
    return f'"{value}" is not a valid choice. Valid choices: {listed}.'


class _ListsValidChoices:
    def fail(self, key, **kwargs):
        if key == "invalid_choice":
            message = invalid_choice_message(kwargs["input"], self.choice_strings_to_values)
            raise serializers.ValidationError(message, code=key)
        super().fail(key, **kwargs)


class ChoiceField(_ListsValidChoices, serializers.ChoiceField):
    """DRF's ChoiceField, whose invalid_choice error also lists the valid choices. Use it
    for every choice a client sends (server/tests/test_choices.py checks)."""


class MultipleChoiceField(_ListsValidChoices, serializers.MultipleChoiceField):
    pass


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


# How the schema's integer is written in a query: digits, perhaps after a minus sign. Python's
# int() and DRF's and Django's integer fields also take "1.0", " 1", "+1" and "1_000".
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def is_whole_number(value) -> bool:
    return not isinstance(value, str) or _WHOLE_NUMBER.fullmatch(value) is not None


class WholeNumberField(serializers.IntegerField):
    """An integer query parameter that takes only what the schema's integer allows: "0.0"
    is a 400 ("invalid"), not 0."""

    def to_internal_value(self, data):
        if not is_whole_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


@functools.cache
def _api_timezone():
    return timezone.get_default_timezone()


def iso_datetime(value: datetime.datetime | None) -> str | None:
    """What DRF's DateTimeField answers for an aware datetime (ISO 8601, UTC as "Z"),
    without looking up the active time zone per value (most of a 50-row page's
    serialisation): the API never activates a zone other than settings.TIME_ZONE."""
    if value is None:
        return None
    if value.tzinfo is datetime.UTC and _api_zone_is_utc():
        # As read from the database (its session zone is UTC): no conversion to make.
        return value.isoformat()[:-6] + "Z"
    text = value.astimezone(_api_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@functools.cache
def _api_zone_is_utc() -> bool:
    zone = _api_timezone()
    return zone is datetime.UTC or getattr(zone, "key", None) in {"UTC", "Etc/UTC"}
