from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "idempotency"
    verbose_name = "Idempotency keys"

    def ready(self):
        from idempotency.middleware import EXEMPT_PATHS, HEADER, REPLAYED
        from server.openapi import document_error_codes, document_method_header

        document_error_codes(409, "idempotency_key_in_use")
        document_error_codes(422, "idempotency_key_reused")
        document_method_header(
            method="POST",
            parameter={
                "name": HEADER,
                "in": "header",
                "required": False,
                "description": "A unique value per change (1-255 printable characters). A retry with the "
                "same key and body gets the first answer again, and nothing is written twice; "
                "another body is a 422, a retry while the first runs a 409 (README, Safe retries).",
                "schema": {"type": "string", "minLength": 1, "maxLength": 257},
            },
            exempt_paths=EXEMPT_PATHS,
            error_statuses=(409, 422),
            parse_codes=("invalid_idempotency_key", "idempotency_key_required"),
            response_headers={
                REPLAYED: {
                    "description": '"true" when this is the kept answer to an earlier request with the '
                    "same Idempotency-Key.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        )
