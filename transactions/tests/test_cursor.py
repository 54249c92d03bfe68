"""?cursor= on the transaction list: keyset pages with no count, stable under inserts, and a
cursor that never shows anyone a row outside their own scope (transactions/pagination.py)."""

import datetime
import random
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from accounts.tests.factories import UserFactory
from budgets import services
from budgets.tests.factories import BudgetFactory, share_user
from households.tests.factories import make_household
from server.tests.helpers import assert_error
from transactions.models import Transaction
from transactions.pagination import encode_cursor
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import relative, walk

pytestmark = pytest.mark.django_db

LIST = "/api/v1/transactions/"
ORDER_FOR = {
    "": ("-date", "-id"),
    "-date": ("-date", "-id"),
    "date": ("date", "id"),
    "amount": ("amount_minor", "id"),
    "-amount": ("-amount_minor", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


@pytest.fixture
def member():
    """A member who sees their own budget and two a housemate shares (one of them later
    revoked in a test); a stranger's budget beside them. Dates repeat, so ties are broken
    by id."""
    member, partner = UserFactory(), UserFactory()
    make_household(partner, members=[member])
    budgets = [BudgetFactory(owner=member), BudgetFactory(owner=partner), BudgetFactory(owner=partner)]
    share_user(budgets[1], member, "view")
    share_user(budgets[2], member, "edit")
    rng = random.Random(16)
    Transaction.objects.bulk_create(
        Transaction(
            budget=budgets[i % 3],
            created_by=member,
            kind="income" if i % 5 == 0 else "expense",
            amount_minor=rng.randint(1, 300),
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(20)),
            payee=rng.choice(["Rail", "Bakery"]),
        )
        for i in range(120)
    )
    stranger_budget = BudgetFactory()
    TransactionFactory.create_batch(6, budget=stranger_budget, date=datetime.date(2026, 1, 10))
    member.budgets_seen = budgets
    return member


def visible_ids(user, ordering="", **filters) -> list[int]:
    rows = Transaction.objects.visible_to(user).filter(**filters)
    return list(rows.order_by(*ORDER_FOR[ordering]).values_list("id", flat=True))


@pytest.mark.parametrize("ordering", sorted(ORDER_FOR))
@pytest.mark.parametrize("limit", [1, 7, 500])
def test_a_walk_gives_every_visible_row_once_in_order(client_for, member, ordering, limit):
    ids, bodies = walk(client_for(member), {"ordering": ordering, "limit": limit})
    assert ids == visible_ids(member, ordering)
    assert len(bodies) == -(-120 // limit)  # the last page says it is the last
    for body in bodies:
        assert set(body) == {"next", "previous", "results"}  # no count
        assert body["previous"] is None


@pytest.mark.parametrize(
    ("params", "filters"),
    [
        ({"kind": "income"}, {"kind": "income"}),
        ({"amount_min": "1.50", "ordering": "amount"}, {"amount_minor__gte": 150}),
        ({"search": "rail", "ordering": "-amount"}, {"payee": "Rail"}),
        (
            {"date_after": "2026-01-05", "date_before": "2026-01-12"},
            {"date__range": ("2026-01-05", "2026-01-12")},
        ),
    ],
)
def test_a_walk_follows_the_filters(client_for, member, params, filters):
    ids, _ = walk(client_for(member), {**params, "limit": 9})
    assert ids == visible_ids(member, params.get("ordering", ""), **filters)


def test_a_walk_of_one_budget(client_for, member):
    budget = member.budgets_seen[1]
    ids, _ = walk(client_for(member), {"budget": budget.pk, "limit": 11})
    assert ids == visible_ids(member, budget=budget)


def test_the_next_link_keeps_the_query_and_drops_nothing_else(client_for, member):
    body = (
        client_for(member)
        .get(LIST, {"cursor": "start", "limit": 5, "ordering": "amount", "kind": "expense"})
        .json()
    )
    query = parse_qs(urlsplit(body["next"]).query)
    assert {name: values for name, values in query.items() if name != "cursor"} == {
        "limit": ["5"],
        "ordering": ["amount"],
        "kind": ["expense"],
    }
    assert query["cursor"][0] not in ("", "start")


def test_nothing_to_walk(client_for):
    body = client_for(UserFactory()).get(LIST, {"cursor": "start"}).json()
    assert body == {"next": None, "previous": None, "results": []}


def test_rows_added_during_a_walk_never_repeat_or_hide_the_others(client_for, member):
    """Keyset, not offset: rows added before the position (newer ones, in the default order)
    shift nothing; rows added after it are met later in the walk."""
    client = client_for(member)
    before = visible_ids(member)
    first = client.get(LIST, {"cursor": "start", "limit": 30}).json()
    seen = [row["id"] for row in first["results"]]
    budget = member.budgets_seen[0]
    newer = TransactionFactory.create_batch(5, budget=budget, date=datetime.date(2026, 6, 1))
    older = TransactionFactory.create_batch(3, budget=budget, date=datetime.date(2025, 12, 1))
    url = relative(first["next"])
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"] and relative(body["next"])
    assert len(seen) == len(set(seen))
    assert not {tx.pk for tx in newer} & set(seen)
    assert seen == before + sorted((tx.pk for tx in older), reverse=True)


def test_a_share_revoked_during_a_walk_shows_none_of_its_rows_after(client_for, member):
    client = client_for(member)
    revoked = member.budgets_seen[1]
    first = client.get(LIST, {"cursor": "start", "limit": 10}).json()
    services.share_revoke_user(budget=revoked, grantee_id=member.pk)
    url, later = relative(first["next"]), []
    while url:
        body = client.get(url).json()
        later += [row["id"] for row in body["results"]]
        url = body["next"] and relative(body["next"])
    revoked_ids = set(Transaction.objects.filter(budget=revoked).values_list("id", flat=True))
    assert later and not revoked_ids & set(later)
    assert set(later) <= set(visible_ids(member))


# --- cursors that are not the caller's own ----------------------------------------------------


def test_another_users_cursor_is_refused(client_for, member):
    """A cursor is signed for the caller it was given to: the housemate who sees the same
    budgets, and a stranger, both get a 400 for it, showing nothing."""
    mine = client_for(member).get(LIST, {"cursor": "start", "limit": 5}).json()["next"]
    housemate = member.budgets_seen[1].owner
    for other in (housemate, UserFactory()):
        response = client_for(other).get(relative(mine))
        assert_error(response, 400, code="invalid", attr="cursor")


def test_an_altered_or_made_up_cursor_is_refused(client_for, member):
    client = client_for(member)
    token = parse_qs(urlsplit(client.get(LIST, {"cursor": "start", "limit": 5}).json()["next"]).query)[
        "cursor"
    ][0]
    payload, signature = token.rsplit(":", 1)
    forged = [
        "garbage",
        "x" * 5000,
        payload + ":" + signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"),
        signing.Signer(salt="transactions.list.cursor:0").sign_object(["-date", "2026-01-01", 1]),
        signing.Signer(salt="another salt").sign_object(["-date", "2026-01-01", 1]),
        "\x00",
    ]
    for cursor in forged:
        assert_error(client.get(LIST, {"cursor": cursor}), 400, code="invalid", attr="cursor")


@pytest.mark.parametrize(
    "position",
    [
        ["-date", "2026-01-01", 0],
        ["-date", "2026-01-01", -5],
        ["-date", "2026-01-01", "5"],
        ["-date", "2026-01-01", 2**63],
        ["-date", "not a date", 5],
        ["-date", 20260101, 5],
        ["amount_minor", "12", 5],
        ["amount_minor", 2**64, 5],
        ["created_at", "2026-01-01T10:00:00", 5],  # no time zone
        ["budget_id", 5, 5],
        ["-date", "2026-01-01"],
        {"a": 1},
    ],
)
def test_a_signed_cursor_holding_anything_but_a_position_in_the_order_is_refused(
    client_for, member, position
):
    """Even signed with the right key for the caller, a cursor must be a position in the
    request's order: (the order, a value of its field, an id), nothing else."""
    token = signing.Signer(salt=f"transactions.list.cursor:{member.pk}").sign_object(position)
    ordering = {"amount_minor": "amount", "created_at": "created_at"}.get(
        position[0] if isinstance(position, list) else "", ""
    )
    response = client_for(member).get(LIST, {"cursor": token, "ordering": ordering})
    assert_error(response, 400, code="invalid", attr="cursor")


def test_a_cursor_for_another_ordering_is_refused(client_for, member):
    client = client_for(member)
    by_date = client.get(LIST, {"cursor": "start", "limit": 5}).json()["next"]
    cursor = parse_qs(urlsplit(by_date).query)["cursor"][0]
    assert_error(
        client.get(LIST, {"cursor": cursor, "ordering": "amount"}), 400, code="invalid", attr="cursor"
    )


def test_a_position_past_anyone_elses_rows_still_shows_only_the_callers(client_for, member):
    """A cursor carries a position and nothing that widens the scope: placed before every row
    (so every row of the table comes after it) and naming a stranger's row, a valid cursor
    still walks only the caller's rows."""
    stranger_row = Transaction.objects.exclude(id__in=visible_ids(member)).first()
    token = encode_cursor(member, ("-date", "-id"), datetime.date(9999, 12, 31), stranger_row.pk)
    client = client_for(member)
    url, seen = f"{LIST}?cursor={token}&limit=50", []
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"] and relative(body["next"])
    assert seen == visible_ids(member)


def test_cursor_and_offset_do_not_mix(client_for, member):
    response = client_for(member).get(LIST, {"cursor": "start", "offset": 10})
    assert_error(response, 400, code="invalid", attr="offset")


def test_a_cursor_pages_one_ordering_field(client_for, member):
    response = client_for(member).get(LIST, {"cursor": "start", "ordering": "date,amount"})
    assert_error(response, 400, code="invalid", attr="cursor")


def test_an_empty_cursor_is_a_parameter_left_out(client_for, member):
    body = client_for(member).get(LIST, {"cursor": "", "limit": 5}).json()
    assert body["count"] == 120


def test_limits_still_apply_to_a_cursor(client_for, member):
    client = client_for(member)
    assert_error(client.get(LIST, {"cursor": "start", "limit": "0"}), 400, code="min_value", attr="limit")
    body = client.get(LIST, {"cursor": "start", "limit": "100000"}).json()
    assert len(body["results"]) == 120 and body["next"] is None
