from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import demo
from budgets.demo import remove_budgets, seed_budgets
from households.demo import remove_households, seed_households
from transactions.demo import seed_splits, seed_transactions

# Run in this order; each step may use what the earlier ones built (DemoData.users, ...).
SEED_STEPS = (demo.seed_users, seed_households, seed_budgets, seed_transactions, seed_splits)


class Command(BaseCommand):
    help = (
        "Creates demo data with known passwords and prints the logins. Idempotent: a second run "
        "changes nothing, and existing accounts keep their passwords. --reset rebuilds it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even though DJANGO_DEBUG is off (the demo admin has a published password).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=(
                "First delete every budget and household the demo accounts own (with their "
                "transactions, categories, shares, members and invitations), then seed again, "
                "dated from today. The accounts themselves and other people's data stay."
            ),
        )

    def handle(self, *args, allow_without_debug=False, reset=False, **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "seed_demo creates a superuser with a published password; it runs only with "
                "DJANGO_DEBUG=1 (or pass --allow-without-debug)."
            )
        data = demo.DemoData()
        with transaction.atomic():
            if reset:
                self._reset()
            for step in SEED_STEPS:
                step(data)
        self._report(data)

    def _reset(self) -> None:
        users = demo.existing_demo_users()
        # Budgets first: a household's deletion would otherwise revoke their household shares
        # one by one, for nothing.
        budgets = remove_budgets(users)
        households = remove_households(users)
        self.stdout.write(f"Demo data removed: {budgets} budgets, {households} households.")

    def _report(self, data: demo.DemoData) -> None:
        for verb, counts in (("created", data.created), ("filled in blank fields of", data.updated)):
            if counts:
                summary = ", ".join(f"{count} {label}" for label, count in sorted(counts.items()))
                self.stdout.write(self.style.SUCCESS(f"Demo data {verb}: {summary}."))
        if not (data.created or data.updated):
            self.stdout.write("Demo data already present; nothing changed.")

        rows = [("Email", "Password", "Role")]
        for login in data.logins:
            password = login.password if login.password_works else "(changed since seeding)"
            rows.append((login.email, password, login.role))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
        lines.insert(1, "-+-".join("-" * width for width in widths))

        self.stdout.write("")
        self.stdout.write("Demo logins (POST /api/v1/auth/token/; the admin also signs in at /admin/):")
        for line in lines:
            self.stdout.write("  " + line.rstrip())
