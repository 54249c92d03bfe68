"""Two or more requests at once, against a live server: every write keeps its invariant after
any interleaving, and no race ends in a 5xx.

Each test runs its race TRIALS times (server/tests/races.py), on fresh rows each time, and
checks the database and the API after every trial: no lost field, no resurrected row, no
share without a household in common, at most one 200 per refresh token. The lock order
these rely on is in docs/architecture.md.
"""

import pytest
from django.core.cache import cache
from django.db import connection

from accounts.models import User
from accounts.services import token_pair_for
from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_user
from households.models import Household, Invitation, Membership
from households.tests.factories import InvitationFactory, make_household
from money.amounts import format_amount, parse_amount
from server.tests.races import TRIALS, Call, race, send
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def token(user) -> str:
    return token_pair_for(user)["access"]


@pytest.fixture
def server(live_server):
    return live_server


def at(*rules: tuple[str, float]) -> dict[str, float]:
    """Pauses for race(): ("INSERT INTO budgets_category", 0.03) holds each server statement
    starting 'INSERT INTO "budgets_category"' for 30 ms. Pausing one request's write and
    the other's a little makes the second finish inside the first's check-to-write window."""
    return {f'{verb} "{table}"': seconds for rule, seconds in rules for verb, table in [rule.rsplit(" ", 1)]}


def _trials():
    for trial in range(TRIALS):
        cache.clear()  # throttle counters: each trial starts with none
        yield trial


# Sharing and membership ---------------------------------------------------------------------


@pytest.mark.parametrize("departure", ["leave", "removed"])
def test_share_with_member_racing_their_departure_never_outlives_membership(server, departure):
    for _ in _trials():
        owner, member = UserFactory(), UserFactory()
        household = make_household(owner, members=[member])
        budget = BudgetFactory(owner=owner)
        if departure == "leave":
            depart = Call("POST", f"/households/{household.pk}/leave/", token=token(member))
        else:
            depart = Call("DELETE", f"/households/{household.pk}/members/{member.pk}/", token=token(owner))
        share, gone = race(
            server,
            [
                Call(
                    "PUT",
                    f"/budgets/{budget.pk}/shares/users/{member.pk}/",
                    {"permission": "edit"},
                    token(owner),
                ),
                depart,
            ],
            pauses=at(
                ("DELETE FROM households_membership", 0.015),
                ("INSERT INTO budgets_budgetuserobjectpermission", 0.04),
            ),
        )
        print("OUTCOME", share.status, gone.status)
        assert gone.status == 204, gone
        assert share.status in (200, 201) or share.codes == ["no_common_household"], share
        assert not Membership.objects.filter(user=member, household=household).exists()
        assert not BudgetUserObjectPermission.objects.filter(content_object=budget, user=member).exists()
        patch = send(server, Call("PATCH", f"/budgets/{budget.pk}/", {"name": "mine now"}, token(member)))
        assert patch.status == 404, patch


def test_share_with_household_racing_the_owner_leaving_it(server):
    for _ in _trials():
        keeper, owner, other = UserFactory(), UserFactory(), UserFactory()
        household = make_household(keeper, members=[owner, other])
        budget = BudgetFactory(owner=owner)
        share, leave = race(
            server,
            [
                Call(
                    "PUT",
                    f"/budgets/{budget.pk}/shares/households/{household.pk}/",
                    {"permission": "view"},
                    token(owner),
                ),
                Call("POST", f"/households/{household.pk}/leave/", token=token(owner)),
            ],
            pauses=at(
                ("DELETE FROM households_membership", 0.015),
                ("INSERT INTO budgets_budgetgroupobjectpermission", 0.04),
            ),
        )
        assert leave.status == 204, leave
        assert share.status in (200, 201) or share.codes == ["not_a_member"], share
        assert not BudgetGroupObjectPermission.objects.filter(
            content_object=budget, group=household.group
        ).exists()
        assert send(server, Call("GET", f"/budgets/{budget.pk}/", token=token(other))).status == 404


def test_household_rename_racing_its_delete(server):
    for trial in _trials():
        owner, admin = UserFactory(), UserFactory()
        household = make_household(owner, admins=[admin])
        rename, delete = race(
            server,
            [
                Call("PATCH", f"/households/{household.pk}/", {"name": f"Renamed {trial}"}, token(admin)),
                Call("DELETE", f"/households/{household.pk}/", token=token(owner)),
            ],
            pauses=at(("UPDATE households_household", 0.03)),
        )
        assert delete.status == 204, delete
        assert rename.status in (200, 404), rename
        if rename.status == 200:
            assert rename.body["name"] == f"Renamed {trial}"
        assert not Household.objects.filter(pk=household.pk).exists()


def test_share_racing_its_revocation_answers_what_it_wrote(server):
    """The share's answer is read under the share's own locks: a revoke queues behind it."""
    for _ in _trials():
        owner, member = UserFactory(), UserFactory()
        make_household(owner, members=[member])
        budget = BudgetFactory(owner=owner)
        share_user(budget, member, "view")
        path = f"/budgets/{budget.pk}/shares/users/{member.pk}/"
        share, revoke = race(
            server,
            [
                Call("PUT", path, {"permission": "edit"}, token(owner)),
                Call("DELETE", path, token=token(owner)),
            ],
            pauses=at(("INSERT INTO budgets_budgetuserobjectpermission", 0.03)),
        )
        assert share.status in (200, 201) and revoke.status in (204, 404), (share, revoke)
        if share.status == 200:
            assert share.body["permission"] == "edit"
        left = BudgetUserObjectPermission.objects.filter(content_object=budget, user=member).count()
        assert left in (0, 2)
        assert (left == 2) == (revoke.status == 404 or share.status == 201), (share, revoke, left)


def test_invitation_accept_racing_household_delete_leaves_no_member_behind(server):
    for _ in _trials():
        owner, invitee = UserFactory(), UserFactory()
        household = make_household(owner)
        invitation = InvitationFactory(household=household, email=invitee.email)
        accept, delete = race(
            server,
            [
                Call("POST", f"/invitations/{invitation.pk}/accept/", token=token(invitee)),
                Call("DELETE", f"/households/{household.pk}/", token=token(owner)),
            ],
            pauses=at(
                ("INSERT INTO households_membership", 0.03), ("DELETE FROM households_membership", 0.01)
            ),
        )
        assert delete.status == 204, delete
        assert accept.status in (200, 404), accept
        assert not Household.objects.filter(pk=household.pk).exists()
        assert not Membership.objects.filter(user=invitee).exists()
        assert not invitee.groups.exists()


def test_concurrent_invitations_of_one_email_make_one(server):
    for trial in _trials():
        owner, admin = UserFactory(), UserFactory()
        household = make_household(owner, admins=[admin])
        email = f"invited-{trial}@example.com"
        answers = race(
            server,
            [
                Call("POST", f"/households/{household.pk}/invitations/", {"email": email}, token(owner)),
                Call(
                    "POST", f"/households/{household.pk}/invitations/", {"email": email.upper()}, token(admin)
                ),
                Call("POST", f"/households/{household.pk}/invitations/", {"email": email}, token(admin)),
            ],
            pauses=at(("INSERT INTO households_invitation", 0.03)),
        )
        assert sorted(a.status for a in answers) == [201, 400, 400], answers
        assert all(a.codes == ["already_invited"] for a in answers if a.status == 400), answers
        assert Invitation.objects.filter(household=household, email=email).count() == 1


# Accounts -----------------------------------------------------------------------------------


def test_concurrent_refreshes_of_one_token_succeed_once(server):
    for _ in _trials():
        user = UserFactory()
        refresh = token_pair_for(user)["refresh"]
        answers = race(
            server,
            [Call("POST", "/auth/token/refresh/", {"refresh": refresh})] * 4,
            pauses=at(("INSERT INTO token_blacklist_blacklistedtoken", 0.03)),
        )
        assert sorted(a.status for a in answers) == [200, 401, 401, 401], answers
        winner = next(a for a in answers if a.status == 200)
        again = send(server, Call("POST", "/auth/token/refresh/", {"refresh": winner.body["refresh"]}))
        assert again.status == 200, again


def test_logout_racing_refresh_of_one_token_lets_one_win(server):
    for _ in _trials():
        user = UserFactory()
        refresh = token_pair_for(user)["refresh"]
        renewed, logout = race(
            server,
            [
                Call("POST", "/auth/token/refresh/", {"refresh": refresh}),
                Call("POST", "/auth/logout/", {"refresh": refresh}),
            ],
            pauses=at(("INSERT INTO token_blacklist_blacklistedtoken", 0.03)),
        )
        assert sorted([renewed.status, logout.status]) in ([200, 401], [204, 401]), (renewed, logout)
        if logout.status == 204:
            assert renewed.status == 401
        again = send(server, Call("POST", "/auth/token/refresh/", {"refresh": refresh}))
        assert again.status == 401


def test_concurrent_registrations_of_one_email_make_one_account(server):
    for trial in _trials():
        email = f"newcomer-{trial}@example.com"
        bodies = [{"email": e, "password": "a-long-enough-secret-9"} for e in (email, email.upper(), email)]
        answers = race(
            server,
            [Call("POST", "/auth/register/", body) for body in bodies],
            pauses=at(("INSERT INTO accounts_user", 0.03)),
        )
        assert sorted(a.status for a in answers) == [201, 400, 400], answers
        assert all(a.codes == ["unique"] for a in answers if a.status == 400), answers
        assert User.objects.filter(email=email).count() == 1


# Field-level writes -------------------------------------------------------------------------


def _editors_of(budget, count=2):
    editors = [UserFactory() for _ in range(count)]
    make_household(budget.owner, members=editors)
    for editor in editors:
        share_user(budget, editor, "edit")
    return editors


def test_two_editors_patching_different_fields_of_a_transaction_both_land(server):
    for trial in _trials():
        budget = BudgetFactory()
        tx = TransactionFactory(budget=budget, amount_minor=1000, notes="")
        first, second = _editors_of(budget)
        notes, amount = race(
            server,
            [
                Call("PATCH", f"/transactions/{tx.pk}/", {"notes": f"note {trial}"}, token(first)),
                Call("PATCH", f"/transactions/{tx.pk}/", {"amount": "99.99"}, token(second)),
            ],
            pauses=at(("UPDATE transactions_transaction", 0.03)),
        )
        assert (notes.status, amount.status) == (200, 200), (notes, amount)
        tx.refresh_from_db()
        assert (tx.notes, tx.amount_minor) == (f"note {trial}", 9999)


def test_two_editors_patching_different_fields_of_a_budget_both_land(server):
    for trial in _trials():
        budget = BudgetFactory(amount_minor=50_000)
        first, second = _editors_of(budget)
        name, amount = race(
            server,
            [
                Call("PATCH", f"/budgets/{budget.pk}/", {"name": f"renamed {trial}"}, token(first)),
                Call("PATCH", f"/budgets/{budget.pk}/", {"amount": "777.00"}, token(second)),
            ],
            pauses=at(("UPDATE budgets_budget", 0.03)),
        )
        assert (name.status, amount.status) == (200, 200), (name, amount)
        budget.refresh_from_db()
        assert (budget.name, budget.amount_minor) == (f"renamed {trial}", 77_700)


@pytest.mark.parametrize("kind", ["transactions", "budgets", "categories"])
def test_two_editors_sending_the_etag_they_read_one_lands_and_one_gets_412(server, kind):
    """If-Match: both read the same version and change the same field; exactly one change lands,
    the other is refused with the version it lost to, whatever the interleaving."""
    field, table = {
        "transactions": ("notes", "transactions_transaction"),
        "budgets": ("name", "budgets_budget"),
        "categories": ("name", "budgets_category"),
    }[kind]
    for trial in _trials():
        budget = BudgetFactory()
        if kind == "budgets":
            obj = budget
        elif kind == "transactions":
            obj = TransactionFactory(budget=budget)
        else:
            obj = CategoryFactory(budget=budget)
        editors = _editors_of(budget)
        obj.refresh_from_db()  # sharing the budget made it a new version
        read = obj.version
        tag = {"If-Match": f'"{obj.pk}-{read}"'}
        answers = race(
            server,
            [
                Call("PATCH", f"/{kind}/{obj.pk}/", {field: f"by {n} in {trial}"}, token(editor), tag)
                for n, editor in enumerate(editors)
            ],
            pauses=at((f"UPDATE {table}", 0.03)),
        )
        assert sorted(answer.status for answer in answers) == [200, 412], answers
        won = next(n for n, answer in enumerate(answers) if answer.status == 200)
        lost = answers[1 - won]
        assert lost.codes == ["precondition_failed"], lost
        obj.refresh_from_db()
        assert (getattr(obj, field), obj.version) == (f"by {won} in {trial}", read + 1)
        assert answers[won].body["version"] == read + 1


def test_a_role_change_and_a_removal_sent_with_one_members_etag_one_lands(server):
    """Both read the member at one version; whichever lands first, the other is refused whole:
    a 412 naming the newer version, or a 404 when the member is gone."""
    for _ in _trials():
        owner, member = UserFactory(), UserFactory()
        home = make_household(owner, members=[member])
        membership = Membership.objects.get(household=home, user=member)
        tag = {"If-Match": f'"{membership.pk}-{membership.version}"'}
        path = f"/households/{home.pk}/members/{member.pk}/"
        promote, remove = race(
            server,
            [
                Call("PATCH", path, {"role": "admin"}, token(owner), tag),
                Call("DELETE", path, token=token(owner), headers=tag),
            ],
            pauses=at(("UPDATE households_membership", 0.03), ("DELETE FROM households_membership", 0.03)),
        )
        left = Membership.objects.filter(household=home, user=member).first()
        if promote.status == 200:
            assert remove.status == 412 and remove.codes == ["precondition_failed"], (promote, remove)
            assert left is not None and left.role == "admin"
        else:
            assert remove.status == 204, (promote, remove)
            assert promote.status in (404, 412), promote
            assert left is None


def test_a_level_change_and_a_revocation_sent_with_one_shares_etag_one_lands(server):
    """A share is replaced on every write, so its tag changes with it: of a PUT and a DELETE
    holding the same tag, exactly one lands and the other is a 412 (a share that no longer
    exists matches no tag)."""
    for _ in _trials():
        owner, member = UserFactory(), UserFactory()
        make_household(owner, members=[member])
        budget = BudgetFactory(owner=owner)
        share_user(budget, member, "view")
        version = (
            BudgetUserObjectPermission.objects.filter(content_object=budget, user=member)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        tag = {"If-Match": f'"user{member.pk}-{version}"'}
        path = f"/budgets/{budget.pk}/shares/users/{member.pk}/"
        change, revoke = race(
            server,
            [
                Call("PUT", path, {"permission": "edit"}, token(owner), tag),
                Call("DELETE", path, token=token(owner), headers=tag),
            ],
            pauses=at(
                ("INSERT INTO budgets_budgetuserobjectpermission", 0.03),
                ("DELETE FROM budgets_budgetuserobjectpermission", 0.03),
            ),
        )
        assert sorted((change.status, revoke.status)) in ([200, 412], [204, 412]), (change, revoke)
        refused = change if change.status == 412 else revoke
        assert refused.codes == ["precondition_failed"], refused
        rows = BudgetUserObjectPermission.objects.filter(content_object=budget, user=member).count()
        assert rows == (2 if change.status == 200 else 0), (change, revoke, rows)


def test_twenty_retries_at_once_with_one_idempotency_key_write_one_transaction(server):
    """The same POST sent 20 times at once with one key: one execution, one row; every
    answer is that execution's 201 (first or replayed, byte for byte) or a 409 while it runs."""
    for trial in _trials():
        budget = BudgetFactory()
        body = {"budget": budget.pk, "kind": "expense", "amount": "12.30", "date": "2026-11-30"}
        headers = {"Idempotency-Key": f"retry-{trial}"}
        answers = race(
            server,
            [Call("POST", "/transactions/", body, token(budget.owner), headers) for _ in range(20)],
            pauses=at(("INSERT INTO transactions_transaction", 0.03)),
        )
        assert Transaction.objects.filter(budget=budget).count() == 1
        created = [answer for answer in answers if answer.status == 201]
        assert created, answers
        assert all(answer.body == created[0].body for answer in created), answers
        assert all(
            answer.status == 201 or (answer.status == 409 and answer.codes == ["idempotency_key_in_use"])
            for answer in answers
        ), answers


def test_two_editors_patching_a_category_name_and_allocation_both_land(server):
    for trial in _trials():
        category = CategoryFactory(allocated_minor=100)
        first, second = _editors_of(category.budget)
        name, allocated = race(
            server,
            [
                Call("PATCH", f"/categories/{category.pk}/", {"name": f"Food {trial}"}, token(first)),
                Call("PATCH", f"/categories/{category.pk}/", {"allocated": "12.00"}, token(second)),
            ],
            pauses=at(("UPDATE budgets_category", 0.03)),
        )
        assert (name.status, allocated.status) == (200, 200), (name, allocated)
        category.refresh_from_db()
        assert (category.name, category.allocated_minor) == (f"Food {trial}", 1200)


# Deletes racing edits: the row stays deleted -------------------------------------------------


def _row_for(kind):
    budget = BudgetFactory()
    if kind == "transactions":
        row = TransactionFactory(budget=budget)
        return budget, row, {"notes": "edited"}
    if kind == "categories":
        return budget, CategoryFactory(budget=budget), {"name": "Edited"}
    return budget, budget, {"name": "Edited"}


@pytest.mark.parametrize("kind", ["transactions", "categories", "budgets"])
def test_delete_racing_an_edit_is_never_undone(server, kind):
    model = {"transactions": Transaction, "categories": Category, "budgets": Budget}[kind]
    for _ in _trials():
        budget, row, change = _row_for(kind)
        (editor,) = _editors_of(budget, 1)
        delete, patch = race(
            server,
            [
                Call("DELETE", f"/{kind}/{row.pk}/", token=token(budget.owner)),
                Call("PATCH", f"/{kind}/{row.pk}/", change, token(editor)),
            ],
            pauses=at((f"UPDATE {model._meta.db_table}", 0.03)),
        )
        assert delete.status == 204, delete
        assert patch.status in (200, 404), patch
        assert not model.objects.filter(pk=row.pk).exists()


# Transactions and their budget ---------------------------------------------------------------


def _new_transaction(budget_id, **extra):
    return {"budget": budget_id, "kind": "expense", "amount": "12", "date": "2026-03-01", **extra}


@pytest.mark.parametrize("path", ["single", "bulk"])
def test_currency_change_racing_a_first_transaction(server, path):
    """Either the transaction is recorded in EUR and the currency stays, or the currency
    changes and nothing was recorded, or (on a busy machine) the change landed before the
    write even read the budget, which then records 12 JPY as JPY: never 12 EUR read as
    12 JPY, whatever the order."""
    for _ in _trials():
        budget = BudgetFactory(currency="EUR")
        owner = token(budget.owner)
        if path == "single":
            write = Call("POST", "/transactions/", _new_transaction(budget.pk), owner)
        else:
            write = Call("POST", "/transactions/bulk/", [_new_transaction(budget.pk)] * 2, owner)
        created, patched = race(
            server,
            [write, Call("PATCH", f"/budgets/{budget.pk}/", {"currency": "JPY"}, owner)],
            pauses=at(("INSERT INTO transactions_transaction", 0.01), ("UPDATE budgets_budget", 0.03)),
        )
        budget.refresh_from_db()
        amounts = set(Transaction.objects.filter(budget=budget).values_list("amount_minor", flat=True))
        recorded = bool(amounts)
        # Every row's amount is "12" in the currency the budget has now.
        assert amounts <= {parse_amount("12", budget.currency)}, (amounts, budget.currency)
        if created.status == 201:  # and the answer shows each as that currency writes it
            rows = created.body if isinstance(created.body, list) else [created.body]
            shown = {row["amount"] for row in rows}
            assert shown == {format_amount(minor, budget.currency) for minor in amounts}, (shown, created)
        if created.status == 201 and patched.status == 200:
            assert budget.currency == "JPY" and amounts == {12}, (created, patched)  # change first
        elif created.status == 201:
            assert patched.status == 400 and patched.codes == ["currency_locked"], patched
        else:
            assert created.status == 409 and created.codes == ["currency_changed"], created
            assert patched.status == 200 and not recorded


def test_an_amount_bounded_count_racing_a_bulk_create_sees_all_of_it_or_none(server):
    """A list narrowed by one amount bound may count a budget as its total (the counters) less
    its rows outside the bound (transactions/pagination.py complement_count_sql, chosen here:
    most amounts are above the bound and PostgreSQL has their statistics). Both are read by
    one statement, so a bulk create of 8 rows above the bound and 2 below is counted whole or
    not at all: never its 8 without its 2, nor the other way."""
    owner = UserFactory()
    budget = BudgetFactory(owner=owner, currency="EUR")
    for amount_minor in [15_000] * 40 + [500] * 10:
        TransactionFactory(budget=budget, created_by=owner, amount_minor=amount_minor)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE transactions_transaction")
    access = token(owner)
    items = [_new_transaction(budget.pk, amount="150")] * 8 + [_new_transaction(budget.pk, amount="5")] * 2
    for _ in _trials():
        before = Transaction.objects.filter(budget=budget, amount_minor__gte=10_000).count()
        created, listed = race(
            server,
            [
                Call("POST", "/transactions/bulk/", items, access),
                Call("GET", "/transactions/?amount_min=100&limit=1", token=access),
            ],
            # The count waits about as long as the insert: it runs before the commit in some
            # trials, after it in others.
            pauses={
                **at(("INSERT INTO transactions_transaction", 0.01)),
                "SELECT scope.id, matching.n": 0.012,
            },
        )
        assert created.status == 201, created
        assert listed.status == 200, listed
        assert listed.body["count"] in (before, before + 8), (before, listed.body["count"])


def test_a_list_racing_a_bulk_create_counts_and_shows_it_whole_or_not_at_all(server):
    """On PostgreSQL an unfiltered list's count and rows are of one moment, one statement
    (transactions/pagination.py compiled_counted_page): a bulk create of 10 rows that commits
    while the list runs is in both the count and the rows, or in neither; never counted and
    not shown, nor shown and not counted. The pauses hold the list's statements (the
    counters', the page's) and the insert about as long, so the commit falls before, between
    or after them across the trials. SQLite reads the count and the page in two statements
    (a transaction there would take the write lock: server/env.py), so each is whole: the
    create's 10 rows or none, in the count as in the rows."""
    owner = UserFactory()
    budgets = [BudgetFactory(owner=owner, currency="EUR") for _ in range(3)]
    for budget in budgets:
        for _ in range(4):
            TransactionFactory(budget=budget, created_by=owner)
    access = token(owner)
    items = [_new_transaction(budgets[0].pk)] * 10
    before = Transaction.objects.filter(budget__owner=owner).count()
    for _ in _trials():
        Transaction.objects.filter(budget__owner=owner, payee="", notes="", amount_minor=1200).delete()
        created, listed = race(
            server,
            [
                Call("POST", "/transactions/bulk/", items, access),
                Call("GET", "/transactions/?limit=1000", token=access),
            ],
            pauses={
                **at(("INSERT INTO transactions_transaction", 0.01)),
                "transactions_budgettransactioncount": 0.006,
                '"transactions_transaction"."id" AS "id"': 0.012,
            },
        )
        assert created.status == 201, created
        assert listed.status == 200, listed
        count, shown = listed.body["count"], len(listed.body["results"])
        assert count in (before, before + 10), (before, count)
        assert shown in (before, before + 10), (before, shown)
        if connection.vendor == "postgresql":
            assert count == shown, (before, count, shown)


def test_transaction_create_racing_budget_delete(server):
    for _ in _trials():
        budget = BudgetFactory()
        owner = token(budget.owner)
        created, deleted = race(
            server,
            [
                Call("POST", "/transactions/", _new_transaction(budget.pk), owner),
                Call("DELETE", f"/budgets/{budget.pk}/", token=owner),
            ],
            pauses=at(("INSERT INTO transactions_transaction", 0.03)),
        )
        assert deleted.status == 204, deleted
        assert created.status == 201 or created.codes == ["does_not_exist"], created
        assert not Transaction.objects.filter(budget_id=budget.pk).exists()


def test_transaction_create_racing_its_category_delete(server):
    for _ in _trials():
        category = CategoryFactory()
        owner = token(category.budget.owner)
        created, deleted = race(
            server,
            [
                Call(
                    "POST",
                    "/transactions/",
                    _new_transaction(category.budget_id, category=category.pk),
                    owner,
                ),
                Call("DELETE", f"/categories/{category.pk}/", token=owner),
            ],
            pauses=at(("INSERT INTO transactions_transaction", 0.03)),
        )
        assert deleted.status == 204, deleted
        assert created.status == 201 or created.codes == ["does_not_exist"], created
        assert not Transaction.objects.filter(category_id=category.pk).exists()


def test_concurrent_categories_of_one_name_make_one(server):
    for trial in _trials():
        budget = BudgetFactory()
        (editor,) = _editors_of(budget, 1)
        name = f"Groceries {trial}"
        answers = race(
            server,
            [
                Call("POST", "/categories/", {"budget": budget.pk, "name": name}, token(budget.owner)),
                Call("POST", "/categories/", {"budget": budget.pk, "name": name.upper()}, token(editor)),
                Call("POST", "/categories/", {"budget": budget.pk, "name": name.lower()}, token(editor)),
            ],
            pauses=at(("INSERT INTO budgets_category", 0.03)),
        )
        assert sorted(a.status for a in answers) == [201, 400, 400], answers
        assert all(a.codes == ["unique"] for a in answers if a.status == 400), answers
        assert Category.objects.filter(budget=budget).count() == 1


def test_concurrent_imports_of_one_file_record_each_row_once(server, settings):
    settings.IMPORT_MAX_CONCURRENT = 2  # both run; the budget's lock orders them
    csv_text = "date,amount,kind,category,payee,description,notes\n" + "".join(
        f"2026-02-{day:02d},{day}.50,expense,,Shop {day},,\n" for day in range(1, 11)
    )
    for _ in _trials():
        budget = BudgetFactory()
        (editor,) = _editors_of(budget, 1)
        answers = _race_imports(server, budget, [budget.owner, editor], csv_text)
        assert sorted(a.status for a in answers) == [201, 201], answers
        assert sorted(a.body["created"] for a in answers) == [0, 10], answers
        assert Transaction.objects.filter(budget=budget).count() == 10


def _race_imports(server, budget, users, csv_text):
    """Multipart bodies, which Call does not speak: built here and sent raw."""
    boundary = "race-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="budget"\r\n\r\n{budget.pk}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{csv_text}\r\n--{boundary}--\r\n"
    )
    return race(
        server,
        [
            Call(
                "POST",
                "/transactions/import/",
                body.encode(),
                token(user),
                {"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            for user in users
        ],
        pauses=at(("INSERT INTO transactions_transaction", 0.03)),
    )


def _import_call(budget, user, csv_text, **fields) -> Call:
    boundary = "race-boundary"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in {"budget": budget.pk, **fields}.items()
    )
    body = (
        f'{parts}--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{csv_text}\r\n--{boundary}--\r\n"
    )
    return Call(
        "POST",
        "/transactions/import/",
        body.encode(),
        token(user),
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


# Sixteen rows in four batches of four, each batch in a month of its own: each reads the
# budget's rows on its dates (the duplicate check) before it is written, and the pause on that
# read holds the import, its budget locked, across four writes.
_BATCHED_FILE = "date,amount,kind,category,payee,description,notes\n" + "".join(
    f"2026-{month:02d}-{day:02d},{month}.{day:02d},expense,Food,Shop {month}-{day},,\n"
    for month in range(1, 5)
    for day in range(1, 5)
)
_BATCH_PAUSES = at(("FROM transactions_transaction", 0.02))


@pytest.fixture
def batches_of_four(monkeypatch):
    from transactions import imports

    monkeypatch.setattr(imports, "BATCH_ROWS", 4)


def test_import_racing_the_revocation_of_the_importers_share(server, batches_of_four):
    """An editor imports a file in several batches while the owner revokes their share. The
    import locks the budget before its first batch and checks the editor's right under that
    lock; the revocation takes the same lock. So either the whole file lands and the share
    goes after it, or the share went first and nothing is recorded: never part of the file,
    never a row written by someone who had lost the right."""
    for _ in _trials():
        budget = BudgetFactory()
        CategoryFactory(budget=budget, name="Food")
        (editor,) = _editors_of(budget, 1)
        imported, revoked = race(
            server,
            [
                _import_call(budget, editor, _BATCHED_FILE),
                Call("DELETE", f"/budgets/{budget.pk}/shares/users/{editor.pk}/", token=token(budget.owner)),
            ],
            pauses={**_BATCH_PAUSES, **at(("DELETE FROM budgets_budgetuserobjectpermission", 0.03))},
        )
        assert revoked.status == 204, revoked
        recorded = Transaction.objects.filter(budget=budget)
        if imported.status == 201:
            assert imported.body["created"] == 16 and recorded.count() == 16, imported
            assert set(recorded.values_list("created_by_id", flat=True)) == {editor.pk}
        else:
            assert imported.codes in (["does_not_exist"], ["permission_denied"]), imported
            assert not recorded.exists()


@pytest.mark.parametrize("create_categories", [False, True])
def test_import_racing_the_delete_of_a_category_it_names(server, batches_of_four, create_categories):
    """Every row names "Food" while the owner deletes that category. The import reads the
    budget's categories under the budget's lock, which the delete also takes: either every
    row lands in Food and the delete then leaves them uncategorised (SET NULL), or Food was
    gone first and the file is refused (unknown_category), or, with create_categories, lands
    in a new Food. Never a row naming a category that no longer exists, never a 5xx."""
    for _ in _trials():
        budget = BudgetFactory()
        food = CategoryFactory(budget=budget, name="Food")
        extra = {"create_categories": "true"} if create_categories else {}
        imported, deleted = race(
            server,
            [
                _import_call(budget, budget.owner, _BATCHED_FILE, **extra),
                Call("DELETE", f"/categories/{food.pk}/", token=token(budget.owner)),
            ],
            pauses={**_BATCH_PAUSES, **at(("DELETE FROM budgets_category", 0.03))},
        )
        assert deleted.status == 204, deleted
        recorded = Transaction.objects.filter(budget=budget)
        categories = set(recorded.values_list("category_id", flat=True))
        if imported.status == 201 and imported.body["categories_created"]:
            assert create_categories and imported.body["categories_created"] == ["Food"], imported
            (new_food,) = Category.objects.filter(budget=budget, name="Food")
            assert recorded.count() == 16 and categories == {new_food.pk}
        elif imported.status == 201:
            assert recorded.count() == 16 and categories == {None}, imported
        else:
            assert not create_categories, imported
            assert set(imported.codes) == {"unknown_category"} and len(imported.codes) == 16, imported
            assert not recorded.exists()


def test_import_racing_its_budget_delete(server, batches_of_four):
    """The budget deleted while a file is imported into it: the import is recorded whole
    before the delete (which then takes the rows with it), or refused; never a 5xx, never
    rows left behind."""
    for _ in _trials():
        budget = BudgetFactory()
        CategoryFactory(budget=budget, name="Food")
        imported, deleted = race(
            server,
            [
                _import_call(budget, budget.owner, _BATCHED_FILE),
                Call("DELETE", f"/budgets/{budget.pk}/", token=token(budget.owner)),
            ],
            pauses={**_BATCH_PAUSES, **at(("DELETE FROM budgets_budget", 0.03))},
        )
        assert deleted.status == 204, deleted
        assert imported.status == 201 or imported.codes == ["does_not_exist"], imported
        assert not Transaction.objects.filter(budget_id=budget.pk).exists()


# Folding one way: the check and the constraint agree ----------------------------------------


@pytest.mark.parametrize("first, second", [("x\u212a", "xk"), ("\u0130x", "ix"), ("\u1e9e", "\u00df")])
def test_category_names_fold_like_their_constraint(server, first, second):
    budget = BudgetFactory()
    owner = token(budget.owner)
    created = send(server, Call("POST", "/categories/", {"budget": budget.pk, "name": first}, owner))
    assert created.status == 201, created
    with connection.cursor() as cursor:
        cursor.execute("SELECT lower(%s) = lower(%s)", [first, second])
        same = bool(cursor.fetchone()[0])
    again = send(server, Call("POST", "/categories/", {"budget": budget.pk, "name": second}, owner))
    if same:
        assert (again.status, again.codes) == (400, ["unique"]), again
    else:
        assert again.status == 201, again


# Shared costs ----------------------------------------------------------------------------------


def test_split_naming_a_member_racing_their_departure_never_leaves_them_a_balance(server):
    """A split that names Carol and Carol leaving, at once: the split's write and the
    departure both lock the household first, so either the split lands and Carol, now owing
    her share, is refused (409 balance_outstanding), or she is gone and the split is refused
    (400 not_a_member). Never a former member with a balance."""
    from transactions.models import SplitShare
    from transactions.splits.selectors import member_nets

    for _ in _trials():
        alice, carol = UserFactory(), UserFactory()
        household = make_household(alice, members=[carol])
        budget = BudgetFactory(owner=alice)
        from budgets.tests.factories import share_household

        share_household(budget, household, "view")
        body = {
            "budget": budget.pk,
            "kind": "expense",
            "amount": "10.00",
            "date": "2026-11-30",
            "split": {
                "household": household.pk,
                "paid_by": alice.pk,
                "mode": "equal",
                "shares": [{"user": alice.pk}, {"user": carol.pk}],
            },
        }
        created, left = race(
            server,
            [
                Call("POST", "/transactions/", body, token(alice)),
                Call("POST", f"/households/{household.pk}/leave/", token=token(carol)),
            ],
            pauses=at(
                ("DELETE FROM households_membership", 0.015),
                ("INSERT INTO transactions_splitshare", 0.04),
            ),
        )
        still_member = Membership.objects.filter(household=household, user=carol).exists()
        nets = member_nets(household.pk).get("EUR", {})
        if created.status == 201:
            assert left.status == 409 and left.codes == ["balance_outstanding"], left
            assert still_member and nets == {alice.pk: 500, carol.pk: -500}
        else:
            assert created.status == 400 and created.codes == ["not_a_member"], created
            assert left.status == 204 and not still_member
            assert not SplitShare.objects.filter(household=household).exists()
            assert not Transaction.objects.filter(budget=budget).exists()


def test_split_racing_the_revocation_of_a_members_view_of_the_budget(server):
    """A split among Alice and Carol while Alice stops sharing the budget with the household:
    both lock the household, then the budget, so the split is checked either before the
    revocation (201) or after it (400 cannot_view_budget); a split is never made for someone
    who could not see the transaction when it was made."""
    from budgets.tests.factories import share_household
    from transactions.models import Split

    for _ in _trials():
        alice, carol = UserFactory(), UserFactory()
        household = make_household(alice, members=[carol])
        budget = BudgetFactory(owner=alice)
        share_household(budget, household, "view")
        body = {
            "budget": budget.pk,
            "kind": "expense",
            "amount": "4.00",
            "date": "2026-11-30",
            "split": {"household": household.pk, "paid_by": alice.pk, "mode": "equal", "shares": []},
        }
        created, revoked = race(
            server,
            [
                Call("POST", "/transactions/", body, token(alice)),
                Call("DELETE", f"/budgets/{budget.pk}/shares/households/{household.pk}/", token=token(alice)),
            ],
            pauses=at(
                ("DELETE FROM budgets_budgetgroupobjectpermission", 0.015),
                ("INSERT INTO transactions_splitshare", 0.04),
            ),
        )
        assert revoked.status == 204, revoked
        if created.status == 201:
            assert Split.objects.filter(household=household).count() == 1
        else:
            assert created.status == 400 and created.codes == ["cannot_view_budget"], created
            assert not Split.objects.filter(household=household).exists()


# Delta sync --------------------------------------------------------------------------------


def _knowledge(answer) -> int:
    """A write's own Server-Knowledge for its one budget ("12=481")."""
    (pair,) = answer.headers["Server-Knowledge"].split(", ")
    return int(pair.split("=")[1])


def test_concurrent_writes_to_one_budget_each_raise_its_knowledge_once_in_order(server):
    """Writers of one budget serialise on it: each write's knowledge is its own (no two
    alike, none skipped), each row keeps the knowledge of its last write, each answer's
    Server-Knowledge is at least its own write's (read after the commit, it may already count
    a writer that committed next: README, step 3 holds either way), and a client that synced
    before the race gets exactly the rows the race wrote, deleted ones as tombstones."""
    from budgets.models import BudgetKnowledge, Tombstone

    for trial in _trials():
        budget = BudgetFactory()
        first, second = _editors_of(budget)
        patched = TransactionFactory(budget=budget, notes="")
        doomed = TransactionFactory(budget=budget)
        owner = token(budget.owner)
        since = send(server, Call("GET", f"/budgets/{budget.pk}/changes/", token=owner)).body[
            "server_knowledge"
        ]
        answers = race(
            server,
            [
                Call("POST", "/transactions/", _new_transaction(budget.pk), token(first)),
                Call("POST", "/transactions/", _new_transaction(budget.pk, amount="3"), token(second)),
                Call("PATCH", f"/transactions/{patched.pk}/", {"notes": f"trial {trial}"}, owner),
                Call("DELETE", f"/transactions/{doomed.pk}/", token=owner),
                Call("POST", "/categories/", {"budget": budget.pk, "name": f"Race {trial}"}, token(first)),
                Call("PATCH", f"/budgets/{budget.pk}/", {"name": f"Raced {trial}"}, token(second)),
            ],
            pauses=at(
                ("INSERT INTO transactions_transaction", 0.02),
                ("UPDATE transactions_transaction", 0.02),
                ("INSERT INTO budgets_category", 0.02),
            ),
        )
        assert [a.status for a in answers] == [201, 201, 200, 204, 201, 200], answers
        assert BudgetKnowledge.objects.get(budget_id=budget.pk).server_knowledge == since + 6
        created = [answers[0].body["id"], answers[1].body["id"]]
        written = dict(Transaction.objects.filter(budget=budget).values_list("id", "knowledge"))
        # Each write's own knowledge, as its rows keep it; the budget's PATCH keeps none of its own.
        own = [
            written[created[0]],
            written[created[1]],
            written[patched.pk],
            Tombstone.objects.get(
                budget_id=budget.pk, object_type="transaction", object_id=doomed.pk
            ).knowledge,
            Category.objects.get(pk=answers[4].body["id"]).knowledge,
        ]
        assert len(set(own)) == 5 and set(own) < set(range(since + 1, since + 7)), (since, own)
        (own_of_budget_patch,) = set(range(since + 1, since + 7)) - set(own)
        own.append(own_of_budget_patch)
        headers = [_knowledge(a) for a in answers]
        assert all(mine <= told <= since + 6 for mine, told in zip(own, headers, strict=True)), (own, headers)
        body = send(
            server,
            Call("GET", f"/budgets/{budget.pk}/changes/?last_knowledge_of_server={since}", token=owner),
        ).body
        assert body["server_knowledge"] == since + 6
        assert body["budget"]["name"] == f"Raced {trial}"
        assert sorted((row["id"], row["deleted"]) for row in body["transactions"]) == sorted(
            [(created[0], False), (created[1], False), (patched.pk, False), (doomed.pk, True)]
        )
        assert [(row["id"], row["deleted"]) for row in body["categories"]] == [(answers[4].body["id"], False)]


def test_a_create_racing_the_revocation_of_the_editors_share(server):
    """An editor records a transaction while the owner revokes their share, which holds the
    budget's lock across its delete (the pause). The create's right travels with its lock in
    one round trip but is read once the lock is held: either the create took the lock first
    (its change-log event comes before the revocation's) or it is refused and nothing is
    recorded; never a row written after the revocation by someone who had lost the right."""
    from history.models import Event

    for _ in _trials():
        budget = BudgetFactory()
        (editor,) = _editors_of(budget, 1)
        created, revoked = race(
            server,
            [
                Call("POST", "/transactions/", _new_transaction(budget.pk), token(editor)),
                Call("DELETE", f"/budgets/{budget.pk}/shares/users/{editor.pk}/", token=token(budget.owner)),
            ],
            pauses=at(("DELETE FROM budgets_budgetuserobjectpermission", 0.03)),
        )
        assert revoked.status == 204, revoked
        recorded = Transaction.objects.filter(budget=budget)
        if created.status == 201:
            events = Event.objects.filter(budget_id=budget.pk, action__in=["create", "delete"])
            created_at = events.get(object_type="transaction", action="create").pk
            revoked_at = events.filter(object_type="share", action="delete").order_by("pk").last().pk
            assert recorded.count() == 1 and created_at < revoked_at, (created_at, revoked_at)
        else:
            assert created.codes in (["does_not_exist"], ["permission_denied"]), created
            assert not recorded.exists()
