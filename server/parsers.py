"""Request body parsing with the limits Django applies to form data, for JSON too."""

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from server.exceptions import PayloadTooLarge


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser reads the stream without Django's size check; this adds it.

    It also turns a too-deeply nested document (RecursionError) into a 400.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge()
        if not raw:
            raise ParseError("The request body is empty; send a JSON document.")
        try:
            return json.loads(raw.decode(self.charset if hasattr(self, "charset") else "utf-8"))
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
