from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from budgets.sync import prune_tombstones


class Command(BaseCommand):
    help = (
        "Deletes the delta-sync tombstones (deleted categories and transactions) older than "
        "--older-than DAYS (default TOMBSTONE_RETENTION_DAYS). A client whose last sync of a budget "
        "is older than what was pruned gets 410 resync_required. Run it from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=None, metavar="DAYS")

    def handle(self, *args, older_than: int | None, **options):
        days = settings.TOMBSTONE_RETENTION_DAYS if older_than is None else older_than
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        deleted, budgets = prune_tombstones(older_than=timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} tombstones older than {days} days, of {budgets} budgets.")
