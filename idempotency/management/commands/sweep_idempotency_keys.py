from django.core.management.base import BaseCommand
from django.utils import timezone

from idempotency.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Deletes the answers kept for Idempotency-Key retries whose time (IDEMPOTENCY_TTL_HOURS) is up."

    def handle(self, *args, **options):
        deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
        self.stdout.write(f"Deleted {deleted} expired idempotency records.")
