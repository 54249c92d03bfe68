"""?search= keeps the contract's meaning, "payee, description or notes contain the term,
case-insensitively" (Django's icontains on each column), whichever SQL serves it.

On PostgreSQL the filter searches the three columns as one text joined by the unit
separator, under a trigram index (transactions/filters.py, migration 0006); these tests hold
its rows to the three plain icontains, on terms that are easy to get wrong: LIKE's own
characters, backslashes, case, non-ASCII letters whose case maps oddly, a term that would
match across two columns, and the separator itself.
"""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory
from transactions.filters import SEARCH_SEPARATOR, TransactionFilter, walked_search
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import EXPORT, LIST, csv_rows

pytestmark = pytest.mark.django_db

US = SEARCH_SEPARATOR
TEXTS = [
    ("50% off", "", ""),
    ("5000 off", "", ""),
    ("a_b", "", ""),
    ("axb", "", ""),
    ("C:\\dir\\file", "", ""),
    ("back\\\\slash", "", ""),
    ("Rail", "RAILCARD", "rail pass"),
    ("", "Mixed CaSe", ""),
    ("École", "", "Straße"),
    ("STRASSE", "", ""),
    ("ΣΊΣΥΦΟΣ", "σίσυφος", "ς"),
    ("İstanbul", "ıi", ""),  # noqa: RUF001
    ("ends with abc", "def starts", ""),
    (f"has{US}unit", "", ""),
    ("", "", f"tail{US}"),
    ("emoji ☕ cafe", "", ""),
    ("", "", ""),
]
TERMS = [
    "%",
    "_",
    "\\",
    "\\\\",
    "50%",
    "0%",
    "a_b",
    "_b",
    "C:\\dir",
    "rail",
    "RAIL",
    "rAiL pA",
    "mixed case",
    "école",
    "ÉCOLE",
    "straße",
    "STRASSE",
    "ss",
    "σ",  # noqa: RUF001
    "Σ",
    "ς",
    "σίσυφος",
    "İ",
    "i",
    "ı",  # noqa: RUF001
    "abc",
    "abcdef",
    "abc def",
    f"abc{US}def",
    US,
    f"s{US}u",
    f"tail{US}",
    "☕",
    " ",
    "nothing like it",
]


@pytest.fixture
def owner_rows(db):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    foreign = BudgetFactory()
    rows = [
        TransactionFactory(budget=budget, payee=payee, description=description, notes=notes)
        for payee, description, notes in TEXTS
    ]
    for payee, description, notes in TEXTS:  # a stranger's twins: never found
        TransactionFactory(budget=foreign, payee=payee, description=description, notes=notes)
    return owner, budget, rows


def plain_icontains(budget, term: str) -> set[int]:
    """What the filter did before the index: the three icontains, one per column, on the
    term as the form cleans it (surrounding whitespace stripped, the unit separator
    included; nothing left, no filter)."""
    term = term.strip()
    rows = Transaction.objects.filter(budget=budget)
    if term:
        rows = rows.filter(
            Q(payee__icontains=term) | Q(description__icontains=term) | Q(notes__icontains=term)
        )
    return set(rows.values_list("pk", flat=True))


def searched(client, term: str) -> set[int]:
    response = client.get(LIST, {"search": term, "limit": 500})
    assert response.status_code == 200, response.json()
    return {item["id"] for item in response.json()["results"]}


@pytest.mark.parametrize("term", TERMS)
def test_search_finds_exactly_what_the_three_icontains_find(owner_rows, client_for, term):
    owner, budget, _ = owner_rows
    assert searched(client_for(owner), term) == plain_icontains(budget, term)


def test_a_term_never_matches_across_two_columns(owner_rows, client_for):
    owner, _, rows = owner_rows
    client = client_for(owner)
    ends_abc = next(row for row in rows if row.payee == "ends with abc")
    assert searched(client, "abc") == {ends_abc.pk}
    assert searched(client, "abcdef") == set()
    assert searched(client, f"abc{US}def") == set()
    assert searched(client, "abc def") == set()


def test_the_separator_inside_a_term_finds_the_column_that_holds_it(owner_rows, client_for):
    owner, _, rows = owner_rows
    holding = next(row for row in rows if row.payee == f"has{US}unit")
    assert searched(client_for(owner), f"s{US}u") == {holding.pk}
    # Alone, or at either end, it is whitespace to the form: stripped like a space.
    assert len(searched(client_for(owner), US)) == len(rows)


def test_export_searches_as_the_list_does(owner_rows, client_for):
    owner, budget, _ = owner_rows
    client = client_for(owner)
    for term in ("rail", "%", "ς", "abc"):
        exported = {int(row[0]) for row in csv_rows(client.get(EXPORT, {"search": term}))[1:]}
        assert exported == plain_icontains(budget, term)


_ALPHABET = st.sampled_from([*"aAbB%_\\ sSßσςΣİıiIéÉ☕", US])  # noqa: RUF001 - look-alikes on purpose


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.tuples(*(st.text(_ALPHABET, max_size=8) for _ in range(3))), min_size=1, max_size=6),
    term=st.text(_ALPHABET, min_size=1, max_size=4),
)
def test_any_term_on_any_text_finds_what_the_three_icontains_find(texts, term):
    budget = BudgetFactory()
    for payee, description, notes in texts:
        TransactionFactory(budget=budget, payee=payee, description=description, notes=notes)
    scoped = Transaction.objects.filter(budget=budget)
    filtered = TransactionFilter({"search": term}, queryset=scoped).qs
    assert set(filtered.values_list("pk", flat=True)) == plain_icontains(budget, term)


def _plan(queryset) -> str:
    return "\n".join(row[0] for row in _explain(queryset, ""))


def _explain(queryset, options: str) -> list:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {options}" + sql, params)
        return cursor.fetchall()


def test_the_search_sql_is_the_indexed_expression_on_postgresql():
    """The planner uses tx_search_budget_trgm_idx only for the very expression it was built
    on, with or without a budget: a change to filters.SearchText that the migration does not
    follow shows up here. Unordered: in the list's order the planner may rather walk the
    table-wide date index (tx_walk_date_idx) and filter, which says nothing of the expression."""
    queryset = TransactionFilter({"search": "rail"}, queryset=Transaction.objects.all()).qs.order_by()
    if connection.vendor != "postgresql":
        assert str(queryset.query).count(" LIKE ") == 3  # SQLite: the three plain icontains
        return
    assert "tx_search_budget_trgm_idx" in _plan(queryset)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'tx_search_budget_trgm_idx'")
        (definition,) = cursor.fetchone()
    assert "USING gin (budget_id, upper(" in definition
    assert "gin_pending_list_limit='64'" in definition


@pytest.mark.parametrize("term", TERMS)
def test_the_walked_search_finds_the_same_rows(owner_rows, term):
    _, budget, _ = owner_rows
    scoped = Transaction.objects.filter(budget=budget)
    filtered = TransactionFilter({"search": term}, queryset=scoped).qs
    walked = walked_search(filtered)
    assert set(walked.values_list("pk", flat=True)) == plain_icontains(budget, term)
    if connection.vendor == "postgresql" and term.strip() and US not in term:
        assert str(walked.query) != str(filtered.query)


def test_the_walked_search_is_read_by_no_index_and_estimated_from_its_statistics():
    """The page's window walks a budget along its order index and checks each row
    (window_sql): no index may serve the walked form, or the planner reads every match of the
    budget through it. Migration 0009's statistics on it let the planner see how common a
    term is: without them it takes a LIKE to match one row in 200 and reads whole budgets to
    sort them."""
    searched = TransactionFilter({"search": "rail"}, queryset=Transaction.objects.all()).qs
    walked = walked_search(searched)
    if connection.vendor != "postgresql":
        assert walked is searched  # SQLite: three plain icontains, no index to keep away from
        return
    budget = BudgetFactory()
    for index in range(300):
        TransactionFactory(budget=budget, payee="Rail" if index % 3 == 0 else "Bakery")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_transaction")
    assert "trgm" not in _plan(walked)
    ((plan,),) = _explain(walked, "(FORMAT JSON) ")
    estimated = plan[0]["Plan"]["Plan Rows"]
    assert 50 <= estimated <= 200, estimated


def test_a_search_over_several_budgets_counts_through_the_index_and_walks_the_page(client_for):
    owner = UserFactory()
    budgets = [BudgetFactory(owner=owner) for _ in range(3)]
    for budget in budgets:
        for payee in ("Rail", "Bakery", "rail pass"):
            TransactionFactory(budget=budget, payee=payee)
    with CaptureQueriesContext(connection) as queries:
        response = client_for(owner).get(LIST, {"search": "rail", "limit": 4})
    assert response.status_code == 200
    assert response.json()["count"] == 6
    matching = Transaction.objects.filter(budget__in=budgets, payee__icontains="rail")
    expected = list(matching.order_by("-date", "-id").values_list("pk", flat=True)[:4])
    assert [row["id"] for row in response.json()["results"]] == expected
    if connection.vendor != "postgresql":
        return
    walked = [query["sql"] for query in queries if "chr(31)" in query["sql"]]
    # The count, then the page: its window's walked branches, the sample's and the page's.
    assert len(walked) == 2
    assert "|| '')" not in walked[0]
    assert walked[1].count("|| '')") == 2
