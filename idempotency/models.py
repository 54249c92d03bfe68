from django.db import models


class IdempotencyRecord(models.Model):
    """The answer to the first request sent with an Idempotency-Key, replayed to its retries
    until ``expires_at`` (idempotency/middleware.py)."""

    # sha256 of (principal, method, path, key): one record per key per caller and route.
    lookup = models.CharField(max_length=64, unique=True)
    principal = models.CharField(max_length=80, help_text='"user:<id>", or "ip:<address>" when anonymous')
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the request's body, canonical")
    status = models.PositiveSmallIntegerField()
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["principal", "expires_at"], name="idempotency_principal_idx"),
            models.Index(fields=["expires_at"], name="idempotency_expiry_idx"),
        ]

    def __str__(self):
        return f"{self.principal} {self.status} until {self.expires_at:%Y-%m-%d %H:%M}"
