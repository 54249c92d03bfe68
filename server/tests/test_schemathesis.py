"""schemathesis over every operation of the OpenAPI schema, in-process through the WSGI app.

The caller is a seeded user with data: the owner of a household with members, private and
shared budgets (and one a housemate shares with them), categories, transactions, a pending
invitation they sent and one addressed to them. They are also staff with
``budgets.manage_grants``, so the admin grants API answers them too. Every example runs in a
savepoint that is rolled back, so each one starts from the same data (a DELETE of the seeded
budget, or a password change that would revoke the token, does not leak into the next).

- ``test_api``: the quick run, in ``make test``: examples, then about 25 generated cases per
  operation (valid and invalid data), fixed seed.
- ``test_api_deep`` and ``test_stateful_deep``: marker ``schemathesis_deep``, deselected unless
  SCHEMATHESIS_DEEP=1 (``make test-deep``, run by .ci/run on PostgreSQL): examples, the
  coverage phase (boundary and invalid values for every parameter), at least 200 generated
  cases per operation, then the state machine over the schema's links (create, then read,
  change and delete what was created).

The checks are never weakened: a failure is fixed in the code or in the schema.
"""

from collections import Counter
from contextlib import contextmanager

import hypothesis
import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from werkzeug.test import Client

from accounts.services import token_pair_for
from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from households.models import Role
from households.tests.factories import InvitationFactory, add_member, make_household
from server.openapi import LINKS
from server.wsgi import application
from transactions.splits.services import SplitWriter, settlement_create
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

SEED = 20260107
QUICK_EXAMPLES = 25
DEEP_EXAMPLES = 200
STATEFUL_SCENARIOS = 1000
STATEFUL_STEPS = 12

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)


@contextmanager
def _connection_kept():
    """Requests to the WSGI app inside the test's database transaction: Django closes "old"
    connections when a request starts and finishes, which would drop that transaction
    (django.test.Client disconnects the same handlers while it runs a request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _config(*, deep: bool):
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "deterministic": True,
                # The caller's token is the schema's auth (CallerToken); a generated
                # Authorization header would only stand in its way.
                "with-security-parameters": False,
                "max-examples": DEEP_EXAMPLES if deep else QUICK_EXAMPLES,
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": deep},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": deep, "max-steps": STATEFUL_STEPS},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": [
                {
                    # Leaving takes the household away from the caller (and deletes it when
                    # they were its last member) through a POST, which ensure_resource_
                    # availability cannot tell from a lost resource: after it, every read of
                    # the household is a rightful 404. So the state machine does not chain
                    # it; its cases in the other phases run as usual, and households/tests
                    # cover what leaving does.
                    "include-operation-id": "households_leave_create",
                    "phases": {"stateful": {"enabled": False}},
                }
            ],
        }
    )


def _load_raw_schema() -> dict:
    with _connection_kept():
        response = Client(application).get(
            "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
        )
    assert response.status_code == 200, response.get_data()[:500]
    return response.get_json()


RAW_SCHEMA = _load_raw_schema()


def _schema(*, deep: bool):
    schema = schemathesis.openapi.from_dict(RAW_SCHEMA, config=_config(deep=deep))
    schema.app = application
    return schema


quick_schema = _schema(deep=False)
deep_schema = _schema(deep=True)


class _Caller:
    """Who the runs act as; set by the ``caller`` fixture for the test that runs."""

    user = None


@deep_schema.auth(refresh_interval=None)
@quick_schema.auth(refresh_interval=None)
class CallerToken:
    """The caller's bearer token, a fresh one for each request (the deep run outlives an
    access token). Given as the schema's auth, so ignored_auth knows it is a real one and
    probes the operation without it and with a wrong one."""

    def get(self, case, context):
        return token_pair_for(_Caller.user)["access"] if _Caller.user is not None else None

    def set(self, case, data, context):
        case.headers["Authorization"] = f"Bearer {data}"


def _settings(examples: int, **extra):
    return hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        # Each example rolls back its own savepoint, so the function-scoped data is the same
        # for every one of them; generation can be slow for the larger bodies.
        suppress_health_check=list(hypothesis.HealthCheck),
        **extra,
    )


# --- the caller and their data --------------------------------------------------------


@pytest.fixture
def caller(settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {
        "anon": "1000000/min",
        "user": "1000000/min",
        "auth": "1000000/min",
        "email": "1000000/min",
    }
    settings.REST_FRAMEWORK = rest

    owner = UserFactory(email="fuzz-owner@example.com", is_staff=True)
    owner.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    partner, member = UserFactory(email="fuzz-partner@example.com"), UserFactory()
    household = make_household(owner, name="Fuzz home", admins=[partner])
    add_member(household, member, Role.MEMBER)

    private = BudgetFactory(owner=owner, name="Private", currency="EUR")
    shared = BudgetFactory(owner=owner, name="Shared", currency="JPY", period="weekly")
    share_household(shared, household, "edit")
    share_user(private, partner, "view")
    theirs = BudgetFactory(owner=partner, name="Partner's")
    share_user(theirs, owner, "edit")

    for budget in (private, shared, theirs):
        groceries = CategoryFactory(budget=budget, name="Groceries")
        CategoryFactory(budget=budget, name="Rent", allocated_minor=None)
        TransactionFactory(budget=budget, category=groceries, amount_minor=4_250)
        TransactionFactory(budget=budget, kind="income", amount_minor=300_000, created_by=owner)

    # Shared costs: a split of a Shared transaction among the three, and a settlement.
    split_tx = TransactionFactory(budget=shared, amount_minor=9_000, created_by=owner)
    SplitWriter(actor=owner, locked_households={household.pk}).write(
        tx=split_tx,
        budget=shared,
        spec={"household": household, "paid_by": owner.pk, "mode": "equal", "shares": []},
    )
    settlement_create(
        household=household,
        actor=partner,
        from_id=partner.pk,
        to_id=owner.pk,
        amount_minor=1_000,
        currency="JPY",
        date=split_tx.date,
        note="Fuzz settlement",
    )

    InvitationFactory(household=household, email="fuzz-invitee@example.com", invited_by=owner)
    elsewhere = make_household(UserFactory(), name="Elsewhere")
    InvitationFactory(household=elsewhere, email=owner.email)
    _Caller.user = owner
    yield owner
    _Caller.user = None


@contextmanager
def _same_ids():
    """PostgreSQL does not roll its sequences back with a savepoint, so each scenario of the
    state machine would give its new rows new ids. The machine carries ids from one answer
    into the next request; when the same steps answer otherwise in two scenarios, Hypothesis
    stops on "inconsistent data generation" (FlakyStrategyDefinition), as CI's deep run did
    once. The ids are one thing that differed between scenarios, so the sequences go back
    where they were after each scenario and every scenario's rows get the same ids (SQLite's
    already do)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences")
        values = cursor.fetchall()
    try:
        yield
    finally:
        # setval is not transactional: it holds whatever the savepoint's rollback does.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(["setval(%s::regclass, %s, %s)"] * len(values)),
                [arg for name, last in values for arg in (name, last or 1, last is not None)],
            )


@contextmanager
def _rolled_back():
    """One example's requests, undone afterwards."""
    with _connection_kept(), transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- the runs -------------------------------------------------------------------------


@quick_schema.parametrize()
@_settings(QUICK_EXAMPLES)
def test_api(case, caller, count_case):
    count_case("quick", case.operation.label)
    with _rolled_back():
        case.call_and_validate()


@pytest.mark.schemathesis_deep
@deep_schema.parametrize()
@_settings(DEEP_EXAMPLES)
def test_api_deep(case, caller, count_case):
    count_case("deep", case.operation.label)
    with _rolled_back():
        case.call_and_validate()


@pytest.mark.schemathesis_deep
def test_stateful_deep(caller, count_case):
    succeeded = Counter()

    class Machine(deep_schema.as_state_machine()):
        """Each scenario starts from the seeded data: it runs in a savepoint rolled back after,
        and its rows get the same ids as every other scenario's (_same_ids)."""

        def setup(self):
            self._ids, self._kept, self._atomic = _same_ids(), _connection_kept(), transaction.atomic()
            self._ids.__enter__()
            self._kept.__enter__()
            self._atomic.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)
            self._kept.__exit__(None, None, None)
            self._ids.__exit__(None, None, None)

        def after_call(self, response, case):
            super().after_call(response, case)
            count_case("stateful", case.operation.label)
            if 200 <= response.status_code < 300:
                succeeded[case.operation.label] += 1

    Machine.run(settings=_settings(STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS))
    # The links lead somewhere: scenarios read, change and delete what they created.
    for operation in LINKED_TARGETS:
        assert succeeded[operation] > 0, (operation, succeeded)


LINKED_TARGETS = (
    "GET /api/v1/budgets/{id}/",
    "PATCH /api/v1/budgets/{id}/",
    "GET /api/v1/budgets/{id}/summary/",
    "PATCH /api/v1/categories/{id}/",
    "GET /api/v1/transactions/{id}/",
    "DELETE /api/v1/transactions/{id}/",
    "GET /api/v1/households/{id}/members/",
    "DELETE /api/v1/households/{id}/invitations/{invitation_id}/",
    "DELETE /api/v1/admin/grants/{id}/",
)


def test_the_schema_links_what_a_create_returns_to_where_it_is_used():
    """The state machine follows these links (server.openapi.LINKS) from a create to the
    routes of the created object."""
    operations = {
        operation["operationId"]: operation
        for item in RAW_SCHEMA["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    links = operations["budgets_create"]["responses"]["201"]["links"]
    assert links["BudgetsRetrieve"] == {
        "operationId": "budgets_retrieve",
        "parameters": {"path.id": "$response.body#/id"},
    }
    assert links["TransactionsCreate"] == {
        "operationId": "transactions_create",
        "requestBody": {"budget": "$response.body#/id"},
    }
    for source, by_status in LINKS.items():
        for status, expected in by_status.items():
            assert operations[source]["responses"][status]["links"] == expected, source
            for link in expected.values():
                assert link["operationId"] in operations, link
