"""The API's JSON answers, encoded by orjson.

DRF's JSONRenderer encodes with the standard library's json in Python: about 0.4 ms of a
50-row page on the bench machine, ten times that for 500 rows. orjson (C) writes the same
bytes for what the API answers: compact, UTF-8 unescaped (UNICODE_JSON), keys in order,
U+2028 and U+2029 escaped as DRF escapes them, and whatever orjson does not encode as DRF
would (datetimes, dates and times, Decimal, lazy texts, other iterables) handed to DRF's
own encoder. Anything orjson refuses (an integer beyond 64 bits, nesting past 254 levels)
and the forms DRF offers besides (``indent``, ASCII-only or spaced JSON) go to DRF's
renderer. The API answers no floats: a NaN, which DRF's strict JSON refuses, would be null
here. server/tests/test_renderers.py holds the two to the same bytes.
"""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_drf_default = JSONEncoder().default


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        if indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            encoded = orjson.dumps(data, default=_drf_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        return encoded.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
