from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from history.models import Event


def prune_events(*, before):
    """Deletes the events written before ``before``. Events are numbered as they are written,
    so the first one written since marks the boundary: found from the oldest along the
    primary key (what an earlier prune left is short to walk), then one range delete below
    it. An event of a transaction that began earlier but wrote later stays until next time."""
    boundary = (
        Event.objects.filter(created_at__gte=before).order_by("id").values_list("id", flat=True).first()
    )
    older = Event.objects.filter(created_at__lt=before)
    if boundary is not None:
        older = Event.objects.filter(id__lt=boundary)
    return older.delete()


class Command(BaseCommand):
    help = (
        "Deletes the change log's events older than --older-than DAYS (budgets', categories', "
        "transactions', shares', memberships' and shared costs' history). Run it from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    def handle(self, *args, older_than: int, **options):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        cutoff = timezone.now() - timedelta(days=older_than)
        deleted, _ = prune_events(before=cutoff)
        self.stdout.write(f"Deleted {deleted} history events older than {older_than} days.")
