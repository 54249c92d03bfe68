"""Request body parsing with the limits Django applies to form data, for JSON too."""

import codecs

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from server.exceptions import PayloadTooLarge


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded and with every failure a 400 parse_error.

    - Size: DRF 3.17 hands JSON parsers `request.body`, which Django size-checks
      (RequestDataTooBig, a 413 in server/exception_handler.py); the parser checks
      again so that any stream it is given is read at most once past the limit.
    - A too-deeply nested document (RecursionError) is a 400, not a 500.
    - DRF's strictness stays (STRICT_JSON: NaN and Infinity are refused).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge()
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(codecs.decode(raw, encoding), parse_constant=parse_constant)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
