"""One event per changed row, with the right fields, for every write path: the API (one row,
bulk, the CSV import), the admin, cascades (a budget's and a category's deletion, an
account's), the revocations a departure makes, and writes outside any request."""

import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetUserObjectPermission, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from history.context import acting
from history.models import Event
from history.tests.helpers import events_after, mark, summary
from households.tests.factories import add_member, make_household
from transactions.models import Split, SplitShare, Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

TX = "/api/v1/transactions/"


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com")


@pytest.fixture
def budget(owner):
    return BudgetFactory(owner=owner, name="Groceries", currency="EUR")


def _tx_body(budget, **extra):
    return {"budget": budget.pk, "kind": "expense", "amount": "12.30", "date": "2026-03-01", **extra}


# --- the API, one row at a time ------------------------------------------------------------


def test_a_transaction_written_through_the_api_records_one_event_per_write(owner, budget, client_for):
    api = client_for(owner)
    start = mark()

    created = api.post(TX, _tx_body(budget, payee="Market"), format="json")
    tx_id = created.json()["id"]
    changed = api.patch(f"{TX}{tx_id}/", {"notes": "for the party", "amount": "9.99"}, format="json")
    deleted = api.delete(f"{TX}{tx_id}/")

    assert (created.status_code, changed.status_code, deleted.status_code) == (201, 200, 204)
    create, update, delete = events_after(start)
    assert summary([create, update, delete]) == [
        ("transaction", tx_id, "create"),
        ("transaction", tx_id, "update"),
        ("transaction", tx_id, "delete"),
    ]
    assert create.changes == {
        "budget": [None, budget.pk],
        "kind": [None, "expense"],
        "amount": [None, "12.30"],
        "date": [None, "2026-03-01"],
        "payee": [None, "Market"],
        "description": [None, ""],
        "notes": [None, ""],
        "created_by": [None, owner.pk],
    }
    assert update.changes == {"amount": ["12.30", "9.99"], "notes": ["", "for the party"]}
    assert delete.changes["amount"] == ["9.99", None] and delete.changes["notes"] == ["for the party", None]
    for event, response in ((create, created), (update, changed), (delete, deleted)):
        assert (event.budget_id, event.transaction_id, event.household_id) == (budget.pk, tx_id, None)
        assert (event.actor_id, event.had_actor, event.source) == (owner.pk, True, "api")
        assert event.request_id == response["X-Request-ID"]


def test_the_context_rides_on_the_budgets_lock_and_goes_alone_where_no_lock_came_first(
    owner, budget, client_for, monkeypatch
):
    """On PostgreSQL a write that locks its budget first (create, update, delete) sends the
    context's settings in the lock's statement, not in one of their own; a write with no
    lock before it still sends them alone. SQLite's triggers read the context directly."""
    from history import context

    alone = []
    send = context._send_postgresql
    monkeypatch.setattr(context, "_send_postgresql", lambda *args: (alone.append(1), send(*args)))
    api = client_for(owner)
    start = mark()
    created = api.post(TX, _tx_body(budget), format="json")
    changed = api.patch(f"{TX}{created.json()['id']}/", {"payee": "Bakery"}, format="json")
    assert (created.status_code, changed.status_code, alone) == (201, 200, [])
    with acting(source="system", actor=owner):
        Transaction.objects.filter(pk=created.json()["id"]).update(payee="Baker")
    assert alone == ([1] if connection.vendor == "postgresql" else [])
    events = events_after(start)
    assert [(e.action, e.actor_id, e.source) for e in events] == [
        ("create", owner.pk, "api"),
        ("update", owner.pk, "api"),
        ("update", owner.pk, "system"),
    ]
    assert [e.request_id for e in events[:2]] == [created["X-Request-ID"], changed["X-Request-ID"]]


def test_budgets_and_categories_written_through_the_api_record_one_event_each(owner, client_for):
    api = client_for(owner)
    start = mark()
    budget = api.post(
        "/api/v1/budgets/",
        {
            "name": "Trip",
            "amount": "1500",
            "currency": "JPY",
            "period": "monthly",
            "start_date": "2026-01-01",
        },
        format="json",
    ).json()
    api.patch(f"/api/v1/budgets/{budget['id']}/", {"name": "Japan trip"}, format="json")
    category = api.post(
        "/api/v1/categories/", {"budget": budget["id"], "name": "Food", "allocated": "300"}, format="json"
    ).json()
    api.patch(f"/api/v1/categories/{category['id']}/", {"name": "Food", "allocated": None}, format="json")
    api.delete(f"/api/v1/categories/{category['id']}/")

    events = events_after(start)
    assert summary(events) == [
        ("budget", budget["id"], "create"),
        ("budget", budget["id"], "update"),
        ("category", category["id"], "create"),
        ("category", category["id"], "update"),
        ("category", category["id"], "delete"),
    ]
    assert events[0].changes == {
        "name": [None, "Trip"],
        "owner": [None, owner.pk],
        "amount": [None, "1500"],  # JPY has no minor units
        "currency": [None, "JPY"],
        "period": [None, "monthly"],
        "start_date": [None, "2026-01-01"],
    }
    assert events[1].changes == {"name": ["Trip", "Japan trip"]}
    assert events[2].changes == {
        "budget": [None, budget["id"]],
        "name": [None, "Food"],
        "allocated": [None, "300"],
    }
    assert events[3].changes == {"allocated": ["300", None]}
    assert events[4].changes == {"budget": [budget["id"], None], "name": ["Food", None]}
    assert {(e.budget_id, e.source, e.actor_id) for e in events} == {(budget["id"], "api", owner.pk)}


def test_money_is_the_exact_string_of_the_currency(owner, client_for):
    bhd = BudgetFactory(owner=owner, currency="BHD", amount_minor=1_250)
    start = mark()
    client_for(owner).post(TX, _tx_body(bhd, amount="0.005"), format="json")
    (event,) = events_after(start)
    assert event.changes["amount"] == [None, "0.005"]
    assert events_after(0, object_type="budget", object_id=bhd.pk)[0].changes["amount"] == [None, "1.250"]


def test_a_write_that_changes_no_tracked_field_records_nothing(owner, budget, client_for):
    tx = TransactionFactory(budget=budget)
    start = mark()
    assert client_for(owner).patch(f"{TX}{tx.pk}/", {}, format="json").status_code == 200
    Transaction.objects.filter(pk=tx.pk).update(updated_at=tx.updated_at)  # version and knowledge move
    assert events_after(start) == []


def test_a_refused_or_rolled_back_write_records_nothing(owner, budget, client_for):
    tx = TransactionFactory(budget=budget)
    start = mark()
    viewer = UserFactory()
    make_household(owner, members=[viewer])
    share_user(budget, viewer, "view")
    after_share = mark()
    assert client_for(viewer).patch(f"{TX}{tx.pk}/", {"notes": "x"}, format="json").status_code == 403
    with pytest.raises(RuntimeError), transaction.atomic():
        Transaction.objects.filter(pk=tx.pk).update(notes="never")
        raise RuntimeError
    assert events_after(after_share) == []
    assert events_after(start)  # the share itself was recorded


# --- many rows at once -----------------------------------------------------------------------


def test_bulk_records_one_event_per_row_with_source_bulk(owner, budget, client_for):
    start = mark()
    response = client_for(owner).post(
        f"{TX}bulk/", [_tx_body(budget, payee=f"Shop {n}") for n in range(5)], format="json"
    )
    assert response.status_code == 201
    ids = [row["id"] for row in response.json()]
    events = events_after(start)
    assert summary(events) == [("transaction", pk, "create") for pk in ids]
    assert {(e.source, e.actor_id, e.request_id) for e in events} == {
        ("bulk", owner.pk, response["X-Request-ID"])
    }
    assert [e.changes["payee"] for e in events] == [[None, f"Shop {n}"] for n in range(5)]


def _csv(*rows: str, header="date,amount,kind,category,payee,description,notes") -> io.BytesIO:
    upload = io.BytesIO("\n".join([header, *rows]).encode())
    upload.name = "import.csv"
    return upload


def test_import_records_one_event_per_row_and_per_new_category_with_source_import(owner, budget, client_for):
    start = mark()
    response = client_for(owner).post(
        f"{TX}import/",
        {
            "budget": budget.pk,
            "create_categories": "true",
            "file": _csv(*(f"2026-02-{n + 1:02d},{n + 1}.50,expense,Food,Shop {n},," for n in range(4))),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    events = events_after(start)
    food = Category.objects.get(budget=budget, name="Food")
    rows = list(Transaction.objects.filter(budget=budget).order_by("id"))
    # The category's event comes first (its row is written first), then the rows' in id order
    # (one statement's events follow its rows' ids: history/triggers.py).
    assert summary(events) == [
        ("category", food.pk, "create"),
        *[("transaction", t.pk, "create") for t in rows],
    ]
    assert {(e.source, e.actor_id, e.request_id) for e in events} == {
        ("import", owner.pk, response["X-Request-ID"])
    }
    assert [e.changes["amount"][1] for e in events[1:]] == ["1.50", "2.50", "3.50", "4.50"]


def test_an_import_with_splits_records_the_splits_and_their_parts(owner, budget, client_for):
    partner = UserFactory(email="partner@example.com")
    home = make_household(owner, members=[partner])
    share_household(budget, home, "view")
    start = mark()
    response = client_for(owner).post(
        f"{TX}import/",
        {
            "budget": budget.pk,
            "household": home.pk,
            "file": _csv(
                "2026-02-01,10.00,expense,,Market,,,owner@example.com,",
                header="date,amount,kind,category,payee,description,notes,paid_by,split_with",
            ),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    tx = Transaction.objects.get(budget=budget)
    shares = list(SplitShare.objects.filter(split_id=tx.pk).order_by("id"))
    events = events_after(start)
    assert summary(events) == [
        ("transaction", tx.pk, "create"),
        ("split", tx.pk, "create"),
        *[("split_share", share.pk, "create") for share in shares],
    ]
    assert {(e.budget_id, e.transaction_id, e.source) for e in events} == {(budget.pk, tx.pk, "import")}
    assert {e.household_id for e in events[1:]} == {home.pk}
    assert sorted(e.changes["amount"][1] for e in events[2:]) == ["5.00", "5.00"]


def test_a_dry_run_import_records_nothing(owner, budget, client_for):
    start = mark()
    response = client_for(owner).post(
        f"{TX}import/",
        {"budget": budget.pk, "dry_run": "true", "file": _csv("2026-02-01,1.00,expense,,Shop,,")},
        format="multipart",
    )
    assert response.status_code == 200
    assert events_after(start) == []


# --- the admin -------------------------------------------------------------------------------


def _admin_client(**flags):
    staff = UserFactory(email="granter@example.com", is_staff=True, **flags)
    staff.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    client = Client()
    client.force_login(staff)
    return staff, client


def test_an_admin_grant_on_the_admin_page_records_its_rows_as_the_admins(budget):
    staff, admin = _admin_client()
    outsider = UserFactory()
    start = mark()
    url = f"/admin/budgets/budget/{budget.pk}/permissions/user-manage/{outsider.pk}/"
    saved = admin.post(url, {"permissions": ["change_budget"]})
    assert saved.status_code == 302
    rows = BudgetUserObjectPermission.objects.filter(content_object=budget, user=outsider).order_by("id")
    events = events_after(start)
    assert summary(events) == [("share", row.pk, "create") for row in rows]
    assert sorted(e.changes["permission"][1] for e in events) == ["change", "view"]
    assert {(e.budget_id, e.source, e.actor_id, str(e.changes["user"][1])) for e in events} == {
        (budget.pk, "admin", staff.pk, str(outsider.pk))
    }
    assert all(e.changes["granted_by"] == [None, "admin"] for e in events)


def test_deleting_a_household_in_the_admin_records_each_membership_and_share(owner, budget):
    _, admin = _admin_client(is_superuser=True)
    member = UserFactory()
    home = make_household(owner, members=[member])
    share_household(budget, home, "edit")
    memberships = sorted(home.memberships.values_list("pk", flat=True))
    start = mark()
    response = admin.post(f"/admin/households/household/{home.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    events = events_after(start)
    assert sorted((e.object_type, e.object_id) for e in events if e.object_type == "membership") == [
        ("membership", pk) for pk in memberships
    ]
    shares = [e for e in events if e.object_type == "share"]
    assert len(shares) == 2 and {e.action for e in shares} == {"delete"}
    assert len(events) == len(memberships) + len(shares)  # nothing else, nothing twice
    assert {e.source for e in events} <= {"admin", "system"}


def test_the_staff_grants_api_records_each_guardian_row_as_the_admins(budget, client_for):
    staff, _ = _admin_client()
    outsider = UserFactory()
    api = client_for(staff)
    start = mark()
    created = api.post(
        "/api/v1/admin/grants/",
        {"budget": budget.pk, "user": outsider.pk, "permission": "edit"},
        format="json",
    )
    assert created.status_code == 201, created.content
    rows = sorted(
        BudgetUserObjectPermission.objects.filter(content_object=budget, user=outsider).values_list(
            "pk", flat=True
        )
    )
    events = events_after(start)
    assert summary(events) == [("share", pk, "create") for pk in rows]
    assert {(e.budget_id, e.source, e.actor_id, e.request_id) for e in events} == {
        (budget.pk, "admin", staff.pk, created["X-Request-ID"])
    }

    revoked_from = mark()
    assert api.delete(f"/api/v1/admin/grants/u{rows[0]}/").status_code == 204
    gone = set(rows) - set(BudgetUserObjectPermission.objects.values_list("pk", flat=True))
    assert gone
    revoked = events_after(revoked_from)
    assert sorted(summary(revoked)) == sorted(("share", pk, "delete") for pk in gone)
    assert {(e.source, e.actor_id) for e in revoked} == {("admin", staff.pk)}


# --- cascades --------------------------------------------------------------------------------


def _stocked_budget(owner, rows: int) -> Budget:
    budget = BudgetFactory(owner=owner)
    food = CategoryFactory(budget=budget, name="Food")
    CategoryFactory(budget=budget, name="Rent")
    Transaction.objects.bulk_create(
        Transaction(
            budget=budget, category=food, kind="expense", amount_minor=100 + n, date=datetime.date(2026, 1, 2)
        )
        for n in range(rows)
    )
    return budget


def test_deleting_a_budget_records_every_rows_deletion_in_statements_that_do_not_grow_with_it(
    owner, client_for
):
    friend = UserFactory()
    home = make_household(owner, members=[friend])
    statements = {}
    for rows in (3, 40):
        budget = _stocked_budget(owner, rows)
        share_user(budget, friend, "edit")
        share_household(budget, home, "view")
        tx_ids = set(Transaction.objects.filter(budget=budget).values_list("pk", flat=True))
        category_ids = set(Category.objects.filter(budget=budget).values_list("pk", flat=True))
        share_rows = 3  # edit: view and change rows; the household's view row
        start = mark()
        with CaptureQueriesContext(connection) as captured:
            assert client_for(owner).delete(f"/api/v1/budgets/{budget.pk}/").status_code == 204
        statements[rows] = len(captured.captured_queries)
        events = events_after(start)
        assert {e.action for e in events} == {"delete"}
        assert {e.budget_id for e in events} == {budget.pk}
        assert {e.object_id for e in events if e.object_type == "transaction"} == tx_ids
        assert {e.object_id for e in events if e.object_type == "category"} == category_ids
        assert len([e for e in events if e.object_type == "share"]) == share_rows
        assert [e.object_id for e in events if e.object_type == "budget"] == [budget.pk]
        assert len(events) == len(tx_ids) + len(category_ids) + share_rows + 1
    assert statements[3] == statements[40], statements


def test_deleting_a_category_records_each_of_its_transactions_losing_it(owner, budget, client_for):
    food = CategoryFactory(budget=budget, name="Food")
    inside = [TransactionFactory(budget=budget, category=food) for _ in range(3)]
    TransactionFactory(budget=budget)  # uncategorised: untouched
    start = mark()
    assert client_for(owner).delete(f"/api/v1/categories/{food.pk}/").status_code == 204
    events = events_after(start)
    assert sorted(summary(events)) == sorted(
        [("category", food.pk, "delete"), *[("transaction", tx.pk, "update") for tx in inside]]
    )
    assert all(e.changes == {"category": [food.pk, None]} for e in events if e.object_type == "transaction")


def test_deleting_a_split_transaction_records_its_split_and_parts_in_its_budget(owner, budget, client_for):
    partner = UserFactory()
    home = make_household(owner, members=[partner])
    share_household(budget, home, "view")
    created = client_for(owner).post(
        TX,
        _tx_body(budget, split={"household": home.pk, "paid_by": owner.pk, "mode": "equal", "shares": []}),
        format="json",
    )
    assert created.status_code == 201, created.content
    tx_id = created.json()["id"]
    share_ids = set(SplitShare.objects.filter(split_id=tx_id).values_list("pk", flat=True))
    start = mark()
    assert client_for(owner).delete(f"{TX}{tx_id}/").status_code == 204
    events = events_after(start)
    assert sorted(summary(events)) == sorted(
        [
            ("transaction", tx_id, "delete"),
            ("split", tx_id, "delete"),
            *[("split_share", pk, "delete") for pk in share_ids],
        ]
    )
    # The split went with its transaction, in the same statement: its events still name the budget.
    assert {(e.budget_id, e.transaction_id) for e in events} == {(budget.pk, tx_id)}
    assert not Split.objects.filter(pk=tx_id).exists()


def test_a_deleted_account_leaves_its_events_without_an_actor(owner, budget, client_for):
    editor = UserFactory()
    make_household(owner, members=[editor])
    share_user(budget, editor, "edit")
    client_for(editor).post(TX, _tx_body(budget, payee="By the editor"), format="json")
    (event,) = Event.objects.filter(object_type="transaction", actor_id=editor.pk)
    editor_id = editor.pk
    start = mark()
    editor.delete()
    event.refresh_from_db()
    assert (event.actor_id, event.had_actor) == (None, True)
    # The account's own cascade (its shares, its transactions' recorder) is recorded too.
    later = events_after(start)
    assert {(e.object_type, e.action) for e in later} == {
        ("membership", "delete"),
        ("share", "delete"),
        ("transaction", "update"),
    }
    assert [e.changes for e in later if e.object_type == "transaction"] == [{"created_by": [editor_id, None]}]
    assert not Event.objects.filter(actor_id=editor_id).exists()


def test_a_user_deleting_their_own_budgets_leaves_no_actor_behind(owner, budget):
    """The events a deletion's own cascade writes name the deleted account until the database
    clears them in the same transaction (no foreign key to fail at commit)."""
    TransactionFactory(budget=budget)
    owner_id = owner.pk
    with acting(actor=owner, source="api"):
        owner.delete()
    assert Event.objects.filter(budget_id=budget.pk, action="delete").exists()
    assert not Event.objects.filter(actor_id=owner_id).exists()


# --- memberships and what they carry -------------------------------------------------------


def test_leaving_a_household_records_the_membership_and_the_revoked_shares(owner, budget, client_for):
    leaver = UserFactory()
    home = make_household(owner, members=[leaver])
    share_user(budget, leaver, "edit")
    membership = home.memberships.get(user=leaver)
    start = mark()
    response = client_for(leaver).post(f"/api/v1/households/{home.pk}/leave/")
    assert response.status_code == 204
    events = events_after(start)
    (left,) = [e for e in events if e.object_type == "membership"]
    assert (left.object_id, left.action, left.household_id, left.source) == (
        membership.pk,
        "delete",
        home.pk,
        "api",
    )
    assert left.changes == {"user": [leaver.pk, None], "role": ["member", None]}
    revoked = [e for e in events if e.object_type == "share"]
    assert len(revoked) == 2  # the edit share's two rows
    assert {(e.action, e.source, e.actor_id, e.budget_id) for e in revoked} == {
        ("delete", "system", leaver.pk, budget.pk)
    }
    assert all(e.request_id == response["X-Request-ID"] for e in events)


def test_removing_a_member_records_the_membership_and_the_shares_it_revokes_once_each(
    owner, budget, client_for
):
    removed = UserFactory()
    home = make_household(owner, members=[removed])
    share_user(budget, removed, "edit")
    membership = home.memberships.get(user=removed)
    share_rows = sorted(BudgetUserObjectPermission.objects.filter(user=removed).values_list("pk", flat=True))
    start = mark()
    response = client_for(owner).delete(f"/api/v1/households/{home.pk}/members/{removed.pk}/")
    assert response.status_code == 204, response.content
    events = events_after(start)
    assert sorted(summary(events)) == sorted(
        [("membership", membership.pk, "delete"), *[("share", pk, "delete") for pk in share_rows]]
    )
    (ended,) = [e for e in events if e.object_type == "membership"]
    assert (ended.source, ended.actor_id, ended.household_id) == ("api", owner.pk, home.pk)
    assert {(e.source, e.actor_id, e.budget_id) for e in events if e.object_type == "share"} == {
        ("system", owner.pk, budget.pk)
    }


def test_joining_changing_a_role_and_settling_up_are_recorded(owner, client_for):
    member = UserFactory()
    home = make_household(owner)
    start = mark()
    membership = add_member(home, member)
    api = client_for(owner)
    assert (
        api.patch(
            f"/api/v1/households/{home.pk}/members/{member.pk}/", {"role": "admin"}, format="json"
        ).status_code
        == 200
    )
    paid = api.post(
        f"/api/v1/households/{home.pk}/settlements/",
        {"from": owner.pk, "to": member.pk, "amount": "7.25", "currency": "EUR", "date": "2026-03-01"},
        format="json",
    )
    assert paid.status_code == 201
    events = events_after(start)
    assert summary(events) == [
        ("membership", membership.pk, "create"),
        ("membership", membership.pk, "update"),
        ("settlement", paid.json()["id"], "create"),
    ]
    assert events[1].changes == {"role": ["member", "admin"]}
    assert events[2].changes == {
        "kind": [None, "payment"],
        "from": [None, owner.pk],
        "to": [None, member.pk],
        "amount": [None, "7.25"],
        "currency": [None, "EUR"],
        "date": [None, "2026-03-01"],
        "note": [None, ""],
        "recorded_by": [None, owner.pk],
    }
    assert {e.household_id for e in events} == {home.pk}
    assert {e.budget_id for e in events} == {None}


# --- outside the services -----------------------------------------------------------------


def test_queryset_update_and_the_shell_are_recorded_as_the_system(owner, budget):
    rows = [TransactionFactory(budget=budget, notes="") for _ in range(3)]
    start = mark()
    Transaction.objects.filter(budget=budget).update(notes="checked")
    events = events_after(start)
    assert sorted(summary(events)) == sorted(("transaction", tx.pk, "update") for tx in rows)
    assert {(e.source, e.actor_id, e.had_actor, e.request_id) for e in events} == {
        ("system", None, False, None)
    }


def test_a_context_changed_inside_a_transaction_is_recorded_as_it_was_at_each_write(owner, budget):
    tx = TransactionFactory(budget=budget)
    start = mark()
    with transaction.atomic(), acting(source="api", actor=owner, request_id="outer"):
        Transaction.objects.filter(pk=tx.pk).update(notes="one")
        with acting(source="system"):
            Transaction.objects.filter(pk=tx.pk).update(notes="two")
        try:
            with transaction.atomic():
                Transaction.objects.filter(pk=tx.pk).update(notes="rolled back")
                raise ValueError
        except ValueError:
            pass
        Transaction.objects.filter(pk=tx.pk).update(notes="three")
    events = events_after(start)
    assert [(e.changes["notes"][1], e.source, e.actor_id, e.request_id) for e in events] == [
        ("one", "api", owner.pk, "outer"),
        ("two", "system", owner.pk, "outer"),
        ("three", "api", owner.pk, "outer"),
    ]


def test_a_clients_request_id_names_its_answer_and_the_changes_it_made(owner, budget, client_for):
    start = mark()
    response = client_for(owner).post(TX, _tx_body(budget), format="json", HTTP_X_REQUEST_ID="app-7f3a.2")
    assert response["X-Request-ID"] == "app-7f3a.2"
    assert [e.request_id for e in events_after(start)] == ["app-7f3a.2"]
    unusable = client_for(owner).get("/api/v1/budgets/", HTTP_X_REQUEST_ID="no spaces please")
    assert unusable["X-Request-ID"] != "no spaces please" and len(unusable["X-Request-ID"]) == 32
