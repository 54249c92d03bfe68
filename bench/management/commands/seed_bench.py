"""A deterministic data set for the benchmark: users, households, shared budgets, transactions.

Default scale: 10,000 users, 3,000 households of 2-5 members, 20,000 budgets (40% shared
with a household, 20% with a single member), 1,000,000 transactions over three years, 10% of
them split equally among the members of the household their budget is shared with.
Two known people anchor the measurements:

- bench-recent@bench.example: a household member who sees about ten shared budgets with
  recent transactions, one of them holding about 50,000 rows;
- bench-old@bench.example: the same shape, but every row of their visible budgets is
  more than two years old.

And the users that expose issue 16's slow cases (bench/run.py's "h." cases):

- bench-adviser-500@bench.example and bench-adviser-2000@bench.example: an adviser with admin
  "view" grants (what the staff grants API writes: one view_budget guardian row per budget,
  source "admin", granted by bench-staff@bench.example) on 500 and on 2,000 busy budgets, the
  500 among the 2,000. The busy budgets hold 44% of the transactions between them (220 rows
  each at 1,000,000), so the 500-budget adviser sees 110,000 rows and the other 440,000;
- bench-households@bench.example: a member of five households, the five with the most budgets
  shared with them (among those with room for a sixth member).
"""

import datetime
import random
import sys
import time

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count

from accounts.models import User
from budgets.models import (
    Budget,
    BudgetGroupObjectPermission,
    BudgetUserObjectPermission,
    Category,
    GrantSource,
)
from budgets.shares import CHANGE_CODENAME, VIEW_CODENAME, codename_id
from households.models import Household, Membership, Role
from transactions.models import Transaction

SPLIT_SHARE = 0.10  # of all transactions
SPLITS_SQL = """
INSERT INTO transactions_split (transaction_id, household_id, paid_by_id, mode, currency, created_at)
SELECT t.id, h.id, b.owner_id, 'equal', b.currency, t.created_at
FROM transactions_transaction t
JOIN budgets_budget b ON b.id = t.budget_id
JOIN budgets_budgetgroupobjectpermission g ON g.content_object_id = t.budget_id AND g.permission_id = %s
JOIN households_household h ON h.group_id = g.group_id
WHERE t.id %% %s = 0
"""
SHARES_SQL = """
INSERT INTO transactions_splitshare
    (split_id, household_id, currency, user_id, payer_id, amount_minor, weight)
SELECT s.transaction_id, s.household_id, s.currency, m.user_id, s.paid_by_id,
       (CASE WHEN t.kind = 'income' THEN -1 ELSE 1 END)
       * (t.amount_minor / m.members + CASE WHEN m.place <= t.amount_minor %% m.members THEN 1 ELSE 0 END),
       NULL
FROM transactions_split s
JOIN transactions_transaction t ON t.id = s.transaction_id
JOIN (
    SELECT household_id, user_id,
           ROW_NUMBER() OVER (PARTITION BY household_id ORDER BY user_id) AS place,
           COUNT(*) OVER (PARTITION BY household_id) AS members
    FROM households_membership
) m ON m.household_id = s.household_id
"""

SCALES = {
    "default": {"users": 10_000, "households": 3_000, "budgets": 20_000, "transactions": 1_000_000},
    "small": {"users": 200, "households": 60, "budgets": 400, "transactions": 5_000},
}
BENCH_PASSWORD = "bench-password-2026"
DOMAIN = "bench.example"
TODAY = datetime.date(2026, 11, 1)
DAYS = 3 * 365
ANCHOR_SHARED_BUDGETS = 10
BIG_BUDGET_ROWS = 50_000
# Issue 16's users (see the module's docstring).
ADVISER_BUDGETS = (500, 2_000)
BUSY_BUDGETS = max(ADVISER_BUDGETS)
BUSY_SHARE = 0.44  # of all transactions, spread evenly over the busy budgets
MULTI_HOUSEHOLDS = 5
ADVISER_EMAIL = "bench-adviser-{}@" + DOMAIN
STAFF_EMAIL = f"bench-staff@{DOMAIN}"
MULTI_EMAIL = f"bench-households@{DOMAIN}"
PAYEES = ("Supermarket", "Rail", "Bookshop", "Garage", "Landlord", "Power Co", "Cafe", "Pharmacy", "Bakery")


class Progress:
    def __init__(self, label: str, total: int, stream):
        self.label, self.total, self.stream, self.done = label, total, stream, 0
        self.started = time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        self.stream.write(
            f"\r  {self.label:<13} [{'#' * filled}{'.' * (width - filled)}] {self.done:>9,}/{self.total:,}"
            f"  {time.monotonic() - self.started:6.1f}s"
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Seeds the benchmark data set (deterministic by --seed). Refuses a database with users in it."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="default")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--transactions", type=int, help="Override the number of transactions.")
        parser.add_argument("--quiet", action="store_true", help="No progress bars.")

    def handle(self, *args, scale, seed, transactions=None, quiet=False, **options):
        if User.objects.exists():
            raise CommandError("seed_bench needs an empty database (migrate a fresh one first).")
        sizes = dict(SCALES[scale])
        if transactions is not None:
            sizes["transactions"] = transactions
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.stream = open("/dev/null", "w") if quiet else sys.stderr  # noqa: SIM115
        started = time.monotonic()
        with transaction.atomic():
            users = self._users(sizes["users"])
            households = self._households(users, sizes["households"])
            budgets = self._budgets(users, households, sizes["budgets"])
            categories = self._categories(budgets)
            # The busy budgets: every ninth of those that are neither anchor, as many as the
            # larger adviser's grants (fewer at --scale small).
            others = budgets[2 * ANCHOR_SHARED_BUDGETS :]
            busy = others[::9][:BUSY_BUDGETS]
            extra_users = self._issue16_users(busy)
        self._transactions(budgets, categories, sizes["transactions"], busy)
        with transaction.atomic():
            self._splits(sizes["transactions"])
        if connection.vendor == "postgresql":
            # Fresh statistics, and a visibility map so counts are index-only scans
            # (what autovacuum gives a long-lived database). VACUUM cannot run in a transaction.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(
            f"Seeded {len(users):,} users, {len(households):,} households, {len(budgets):,} budgets, "
            f"{sizes['transactions']:,} transactions in {time.monotonic() - started:.0f}s. "
            f"Bench logins: bench-recent@{DOMAIN}, bench-old@{DOMAIN}, "
            f"{', '.join(u.email for u in extra_users)} / {BENCH_PASSWORD}"
        )

    # People and households ------------------------------------------------------------

    def _users(self, count: int) -> list[User]:
        password = make_password(BENCH_PASSWORD)
        progress = Progress("users", count, self.stream)
        rows = []
        for i in range(count):
            email = {0: f"bench-recent@{DOMAIN}", 1: f"bench-old@{DOMAIN}"}.get(i, f"user{i}@{DOMAIN}")
            rows.append(User(email=email, password=password, first_name=f"User{i}"))
        created = User.objects.bulk_create(rows, batch_size=5000)
        progress.advance(count)
        return created

    def _households(self, users: list[User], count: int) -> list[Household]:
        progress = Progress("households", count, self.stream)
        groups = Group.objects.bulk_create(
            [Group(name=f"household:bench:{i}") for i in range(count)], batch_size=5000
        )
        households = Household.objects.bulk_create(
            [Household(name=f"Household {i}", group=g) for i, g in enumerate(groups)], batch_size=5000
        )
        for household, group in zip(households, groups, strict=True):
            group.name = Household.group_name_for(household.pk)
        Group.objects.bulk_update(groups, ["name"], batch_size=5000)

        memberships, group_rows = [], []
        through = User.groups.through
        # The two anchors each get a household of five: themselves and four budget owners.
        pool = users[2:]
        cursor = 0
        self.members_of: dict[int, list[User]] = {}
        for index, household in enumerate(households):
            if index < 2:
                members = [users[index], *pool[cursor : cursor + 4]]
                cursor += 4
            else:
                members = self.rng.sample(pool, self.rng.randint(2, 5))
            self.members_of[household.pk] = members
            for position, user in enumerate(members):
                role = Role.OWNER if position == 0 else (Role.ADMIN if position == 1 else Role.MEMBER)
                memberships.append(Membership(household=household, user=user, role=role))
                group_rows.append(through(user_id=user.pk, group_id=household.group_id))
        Membership.objects.bulk_create(memberships, batch_size=5000)
        through.objects.bulk_create(group_rows, batch_size=5000)
        progress.advance(count)
        return households

    # Budgets and shares -----------------------------------------------------------------

    def _budgets(self, users, households, count: int) -> list[Budget]:
        progress = Progress("budgets", count, self.stream)
        view_id, change_id = codename_id(VIEW_CODENAME), codename_id(CHANGE_CODENAME)
        # (budget, share): share is None, ("household", household) or ("user", household, owner)
        specs = []
        # Anchors: each anchor's four housemates own budgets shared with that household.
        for anchor_index in (0, 1):
            household = households[anchor_index]
            housemates = self.members_of[household.pk][1:]
            for j in range(ANCHOR_SHARED_BUDGETS):
                owner = housemates[j % len(housemates)]
                specs.append(
                    (Budget(owner=owner, name=f"Anchor {anchor_index} budget {j}"), ("household", household))
                )
        # The anchors' households hold only the anchor budgets, so their shape is exact.
        member_households = households[2:]
        while len(specs) < count:
            household = self.rng.choice(member_households)
            owner = self.rng.choice(self.members_of[household.pk])
            roll = self.rng.random()
            share = (
                ("household", household) if roll < 0.4 else ("user", household, owner) if roll < 0.6 else None
            )
            specs.append((Budget(owner=owner, name=f"Budget {len(specs)}"), share))
        for budget, _ in specs:
            budget.amount_minor = self.rng.randint(100, 5000) * 100
            budget.currency = "EUR"
            budget.period = "monthly"
            budget.start_date = TODAY - datetime.timedelta(days=DAYS)
        budgets = Budget.objects.bulk_create([b for b, _ in specs], batch_size=5000)

        user_rows, group_rows = [], []
        for budget, share in specs:
            if share is None:
                continue
            level = [view_id] if self.rng.random() < 0.5 else [view_id, change_id]
            if share[0] == "household":
                for perm in level:
                    group_rows.append(
                        BudgetGroupObjectPermission(
                            content_object=budget,
                            group_id=share[1].group_id,
                            permission_id=perm,
                            source=GrantSource.OWNER,
                            granted_by=budget.owner,
                        )
                    )
            else:
                mates = [u for u in self.members_of[share[1].pk] if u.pk != budget.owner_id]
                grantee = self.rng.choice(mates)
                for perm in level:
                    user_rows.append(
                        BudgetUserObjectPermission(
                            content_object=budget,
                            user=grantee,
                            permission_id=perm,
                            source=GrantSource.OWNER,
                            granted_by=budget.owner,
                        )
                    )
        BudgetUserObjectPermission.objects.bulk_create(user_rows, batch_size=5000)
        BudgetGroupObjectPermission.objects.bulk_create(group_rows, batch_size=5000)
        progress.advance(count)
        return budgets

    def _categories(self, budgets) -> dict[int, list[int]]:
        progress = Progress("categories", len(budgets) * 5, self.stream)
        rows = [
            Category(budget=b, name=name, allocated_minor=10_000)
            for b in budgets
            for name in ("Food", "Transport", "Home", "Fun", "Health")
        ]
        created = Category.objects.bulk_create(rows, batch_size=5000)
        progress.advance(len(rows))
        by_budget: dict[int, list[int]] = {}
        for category in created:
            by_budget.setdefault(category.budget_id, []).append(category.pk)
        return by_budget

    # Issue 16's users: advisers and a member of five households ---------------------------

    def _issue16_users(self, busy: list[Budget]) -> list[User]:
        """The advisers' admin grants, set-based: the rows the staff grants API writes for a
        "view" grant (budgets.services.grant_to_user: one view_budget row, source admin,
        granted_by the staff member), bulk-inserted instead of one service call per budget.
        The member of five households joins them as the invitations would (a membership and
        the household group's row)."""
        progress = Progress("advisers", 1, self.stream)
        password = make_password(BENCH_PASSWORD)
        staff = User(email=STAFF_EMAIL, password=password, first_name="Staff", is_staff=True)
        advisers = [
            User(email=ADVISER_EMAIL.format(n), password=password, first_name=f"Adviser{n}")
            for n in ADVISER_BUDGETS
        ]
        multi = User(email=MULTI_EMAIL, password=password, first_name="Many")
        created = User.objects.bulk_create([staff, *advisers, multi])
        staff.user_permissions.add(
            Permission.objects.get(content_type__app_label="budgets", codename="manage_grants")
        )
        view_id = codename_id(VIEW_CODENAME)
        BudgetUserObjectPermission.objects.bulk_create(
            [
                BudgetUserObjectPermission(
                    content_object=budget,
                    user=adviser,
                    permission_id=view_id,
                    source=GrantSource.ADMIN,
                    granted_by=staff,
                )
                for adviser, n in zip(advisers, ADVISER_BUDGETS, strict=True)
                for budget in busy[:n]
            ],
            batch_size=5000,
        )
        # The five households (past the anchors') with the most budgets shared with them and
        # fewer than five members, fewest ids first among equals.
        members = dict(Membership.objects.order_by().values_list("household_id").annotate(n=Count("id")))
        anchors = set(Household.objects.order_by("pk").values_list("pk", flat=True)[:2])
        ranked = (
            BudgetGroupObjectPermission.objects.filter(permission_id=view_id, group__household__isnull=False)
            .order_by()
            .values_list("group__household")
            .annotate(n=Count("id"))
            .order_by("-n", "group__household")
        )
        chosen = [h for h, _ in ranked if h not in anchors and members.get(h, 0) < 5][:MULTI_HOUSEHOLDS]
        homes = Household.objects.filter(pk__in=chosen)
        Membership.objects.bulk_create([Membership(household=h, user=multi, role=Role.MEMBER) for h in homes])
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=multi.pk, group_id=h.group_id) for h in homes]
        )
        progress.advance(1)
        return created[1:]

    # Transactions -------------------------------------------------------------------------

    def _transactions(self, budgets, categories, count: int, busy: list[Budget]) -> None:
        progress = Progress("transactions", count, self.stream)
        rng = self.rng
        recent_anchor = budgets[:ANCHOR_SHARED_BUDGETS]
        old_anchor = budgets[ANCHOR_SHARED_BUDGETS : 2 * ANCHOR_SHARED_BUDGETS]
        busy_ids = {b.pk for b in busy}
        others = [b for b in budgets[2 * ANCHOR_SHARED_BUDGETS :] if b.pk not in busy_ids]
        big = min(BIG_BUDGET_ROWS, count // 20)
        anchor_rows = min(count // 50, 2_000)  # per anchor budget besides the big one

        def plan():
            yield recent_anchor[0], big, 0, 365  # the ~50,000-row budget, recent
            for budget in recent_anchor[1:]:
                yield budget, anchor_rows, 0, 365
            for budget in old_anchor:
                yield budget, anchor_rows, 2 * 365 + 1, DAYS  # every row over two years old
            remaining = count - big - anchor_rows * (len(recent_anchor) - 1) - anchor_rows * len(old_anchor)
            # The busy budgets' share (220 rows each at 1M), then the rest evenly.
            per_busy = min(int(count * BUSY_SHARE), max(remaining, 0)) // max(len(busy), 1)
            for budget in busy:
                yield budget, per_busy, 0, DAYS
            remaining -= per_busy * len(busy)
            per, extra = divmod(max(remaining, 0), len(others))
            for index, budget in enumerate(others):
                yield budget, per + (1 if index < extra else 0), 0, DAYS

        batch: list[Transaction] = []
        for budget, rows, newest, oldest in plan():
            cats = categories[budget.pk]
            for _ in range(rows):
                income = rng.random() < 0.08
                batch.append(
                    Transaction(
                        budget_id=budget.pk,
                        category_id=None if income or rng.random() < 0.1 else rng.choice(cats),
                        created_by_id=budget.owner_id,
                        kind="income" if income else "expense",
                        amount_minor=rng.randint(100, 50_000),
                        date=TODAY - datetime.timedelta(days=rng.randint(newest, oldest - 1)),
                        payee=rng.choice(PAYEES),
                        description="",
                    )
                )
                if len(batch) == 10_000:
                    self._flush(batch, progress)
        self._flush(batch, progress)

    # Shared costs ----------------------------------------------------------------------------

    def _splits(self, count: int) -> None:
        """10% of all transactions split, set-based: every transaction of a budget shared with
        a household whose id falls on the step, paid by the budget's owner (a member) and
        divided equally among the members; remainders to the lowest user ids, as allocate()
        gives them. Two INSERT ... SELECT statements, whatever the scale."""
        progress = Progress("splits", 1, self.stream)
        shared = Transaction.objects.filter(
            budget__in=BudgetGroupObjectPermission.objects.filter(
                permission_id=codename_id(VIEW_CODENAME)
            ).values("content_object_id")
        ).count()
        step = max(1, round(shared / max(count * SPLIT_SHARE, 1)))
        view_id = codename_id(VIEW_CODENAME)
        with connection.cursor() as cursor:
            cursor.execute(SPLITS_SQL, [view_id, step])
            cursor.execute(SHARES_SQL, [])  # (a parameter list: %% reads as %)
        progress.advance(1)

    def _flush(self, batch: list, progress: Progress) -> None:
        if batch:
            Transaction.objects.bulk_create(batch, batch_size=10_000)
            progress.advance(len(batch))
            batch.clear()
