"""Resource limits on every route, found from the OpenAPI schema so a new route is covered
as soon as it is documented:

- every paginated list serves at most 500 rows a page, whatever limit is asked for, with a
  ``next`` link that asks for 500 again; an unreadable limit or offset is a 400;
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 with the standard body on every write;
- a JSON body nested 100,000 levels deep is a 400 parse_error on every write that reads a
  body, never a 500.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetUserObjectPermission, Category, GrantSource
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_user
from households.models import Household, Invitation, Membership, Role
from households.tests.factories import InvitationFactory, add_member, make_household
from permissions.codenames import permission_id
from server.tests.helpers import assert_error
from server.tests.openapi_helpers import api_schema, assert_documented
from transactions.models import Settlement, Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

MAX_PAGE = 500
ROWS = MAX_PAGE + 7


def _operations(predicate):
    schema = api_schema().raw_schema
    return sorted(
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete") and predicate(method, path, operation)
    )


def _is_paginated_list(method, path, operation):
    ok = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
    return method == "get" and ok.get("schema", {}).get("$ref", "").split("/")[-1].startswith("Paginated")


PAGINATED = [path for _, path, _ in _operations(_is_paginated_list)]
WRITES = [(method, path) for method, path, _ in _operations(lambda m, p, o: m in ("post", "put", "patch"))]
BODYLESS_WRITES = [
    (method, path)
    for method, path, operation in _operations(lambda m, p, o: m in ("post", "put", "patch"))
    if "requestBody" not in operation
]


def test_the_routes_under_test_are_found():
    assert set(PAGINATED) == {
        "/api/v1/admin/grants/",
        "/api/v1/budgets/",
        "/api/v1/categories/",
        "/api/v1/households/",
        "/api/v1/households/{id}/ledger/",
        "/api/v1/households/{id}/settlements/",
        "/api/v1/invitations/",
        "/api/v1/transactions/",
    }
    assert len(WRITES) >= 25
    assert set(BODYLESS_WRITES) == {
        ("post", "/api/v1/auth/email/verify/resend/"),
        ("post", "/api/v1/households/{id}/leave/"),
        ("post", "/api/v1/invitations/{id}/accept/"),
        ("post", "/api/v1/invitations/{id}/decline/"),
    }


# --- page size ---------------------------------------------------------------------------


def _concrete(path: str, household_id: int) -> str:
    """A household's own lists (ledger, settlements) under a household the caller belongs to."""
    return path.replace("{id}", str(household_id))


def _row_identity(row: dict):
    """A ledger line has no id of its own: its settlement's (or transaction's) stands for it."""
    if "id" in row:
        return row["id"]
    return (row["settlement"], row["transaction"])


@pytest.fixture
def crowd(db, client_for):
    """A staff user (budgets.manage_grants) with more than a page of every listed thing: budgets,
    categories, transactions, households, invitations addressed to them, grants, and in their
    first household settlements (which are its ledger's lines too)."""
    user = UserFactory(email="crowd@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    friend = UserFactory()
    budgets = Budget.objects.bulk_create(
        Budget(
            owner=user, name=f"B{n}", amount_minor=100, currency="EUR", start_date=datetime.date(2026, 1, 1)
        )
        for n in range(ROWS)
    )
    first = budgets[0]
    Category.objects.bulk_create(Category(budget=first, name=f"C{n}") for n in range(ROWS))
    Transaction.objects.bulk_create(
        Transaction(
            budget=first, created_by=user, kind="expense", amount_minor=n + 1, date=datetime.date(2026, 1, 2)
        )
        for n in range(ROWS)
    )
    groups = Group.objects.bulk_create(Group(name=f"crowd:{n}") for n in range(ROWS))
    households = Household.objects.bulk_create(
        Household(name=f"H{n}", group=group) for n, group in enumerate(groups)
    )
    Membership.objects.bulk_create(Membership(household=h, user=user, role=Role.OWNER) for h in households)
    Membership.objects.create(household=households[0], user=friend, role=Role.MEMBER)
    Settlement.objects.bulk_create(
        Settlement(
            household=households[0],
            from_user=friend,
            to_user=user,
            amount_minor=n + 1,
            currency="EUR",
            date=datetime.date(2026, 1, 3),
            recorded_by=user,
        )
        for n in range(ROWS)
    )
    later = timezone.now() + datetime.timedelta(days=7)
    Invitation.objects.bulk_create(
        Invitation(household=h, email=user.email, invited_by=friend, expires_at=later) for h in households
    )
    view = permission_id("budgets", "view_budget")
    BudgetUserObjectPermission.objects.bulk_create(
        BudgetUserObjectPermission(
            content_object=b, user=friend, permission_id=view, source=GrantSource.ADMIN
        )
        for b in budgets
    )
    client = client_for(user)
    client.household_id = households[0].pk
    return client


@pytest.mark.parametrize("path", PAGINATED)
def test_a_huge_limit_is_served_as_a_page_of_500_with_a_sane_next_link(crowd, path):
    path = _concrete(path, crowd.household_id)
    response = crowd.get(path, {"limit": 100_000})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == ROWS
    assert len(body["results"]) == MAX_PAGE
    assert body["next"] == f"http://testserver{path}?limit={MAX_PAGE}&offset={MAX_PAGE}"
    assert body["previous"] is None

    rest = crowd.get(path, {"limit": 100_000, "offset": MAX_PAGE}).json()
    assert len(rest["results"]) == ROWS - MAX_PAGE
    assert rest["next"] is None
    assert rest["previous"] == f"http://testserver{path}?limit={MAX_PAGE}"
    seen = {_row_identity(row) for row in body["results"]} | {_row_identity(row) for row in rest["results"]}
    assert len(seen) == ROWS


@pytest.mark.parametrize("path", PAGINATED)
def test_the_schema_documents_the_page_bounds(path):
    parameters = {p["name"]: p for p in api_schema().raw_schema["paths"][path]["get"]["parameters"]}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1}
    assert str(MAX_PAGE) in parameters["limit"]["description"]
    assert parameters["offset"]["schema"] == {"type": "integer", "minimum": 0}


@pytest.mark.parametrize("path", PAGINATED)
@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("limit", "1.5", "invalid"),
        ("limit", "abc", "invalid"),
        ("limit", "-4", "invalid"),
        ("limit", "0", "min_value"),
        ("limit", " 5", "invalid"),
        ("limit", "5\n", "invalid"),
        ("limit", "\u0665", "invalid"),  # an Arabic-Indic five: int() would read it
        ("offset", "null", "invalid"),
        ("offset", "-1", "invalid"),
        ("offset", "1e3", "invalid"),
    ],
)
def test_an_unreadable_limit_or_offset_is_a_documented_400(client_for, path, name, value, code):
    """Found by schemathesis: DRF served the default page for limit=1.5, offset=null and the
    like, where the schema says integers."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    response = client_for(user).get(_concrete(path, make_household(user).pk), {name: value})
    body = assert_error(response, 400, code=code, attr=name)
    assert body["type"] == "validation_error"
    assert len(body["errors"]) == 1
    assert_documented(response, "get", path)


def test_an_offset_past_every_row_is_an_empty_page_however_many_digits(api):
    budget = BudgetFactory(owner=api.user)
    for offset in ("9" * 30, "9" * 5000):  # Python refuses int() of 4300+ digits
        response = api.get("/api/v1/budgets/", {"offset": offset})
        assert response.status_code == 200
        body = response.json()
        assert (body["count"], body["results"], body["next"]) == (1, [], None)
    zeros = api.get("/api/v1/budgets/", {"offset": "0" * 40}).json()
    assert [row["id"] for row in zeros["results"]] == [budget.pk]


# --- bodies ------------------------------------------------------------------------------


@pytest.fixture
def writer(db, client_for):
    """Path parameters naming real rows the caller may write, so every write route gets as far
    as reading its body: the caller owns a budget (with a category and a transaction), a
    household with a member and a pending invitation, is a member of another household and
    invited to a third.
    They are staff with budgets.manage_grants."""
    user = UserFactory(email="writer@example.com", is_staff=True, pending_email="writer.new@example.com")
    user.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    housemate = UserFactory()
    home = make_household(user, name="Home")
    add_member(home, housemate)
    budget = BudgetFactory(owner=user)
    category = CategoryFactory(budget=budget)
    tx = TransactionFactory(budget=budget)
    share_user(budget, housemate)
    invitation = InvitationFactory(household=home, invited_by=user)
    mine = InvitationFactory(household=make_household(UserFactory()), email=user.email)
    theirs = make_household(UserFactory(), name="Theirs", members=[user])  # one they can leave
    client = client_for(user)
    client.ids = {
        "/api/v1/budgets/{id}/": {"id": budget.pk},
        "/api/v1/budgets/{id}/shares/users/{user_id}/": {"id": budget.pk, "user_id": housemate.pk},
        "/api/v1/budgets/{id}/shares/households/{household_id}/": {"id": budget.pk, "household_id": home.pk},
        "/api/v1/categories/{id}/": {"id": category.pk},
        "/api/v1/transactions/{id}/": {"id": tx.pk},
        "/api/v1/households/{id}/": {"id": home.pk},
        "/api/v1/households/{id}/invitations/": {"id": home.pk},
        "/api/v1/households/{id}/settlements/": {"id": home.pk},
        "/api/v1/households/{id}/leave/": {"id": theirs.pk},
        "/api/v1/households/{id}/members/{user_id}/": {"id": home.pk, "user_id": housemate.pk},
        "/api/v1/invitations/{id}/accept/": {"id": mine.pk},
        "/api/v1/invitations/{id}/decline/": {"id": mine.pk},
        "/api/v1/households/{id}/invitations/{invitation_id}/": {
            "id": home.pk,
            "invitation_id": invitation.pk,
        },
    }
    return client


def _url(client, path: str) -> str:
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return path
    assert path in client.ids, f"give the writer fixture real ids for {path}"
    return path.format(**client.ids[path])


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    return 4096


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_body_over_the_limit_is_a_413_on_every_write(writer, small_limit, method, path):
    body = '{"name": "' + "x" * small_limit + '"}'
    response = getattr(writer, method)(_url(writer, path), data=body, content_type="application/json")
    body = assert_error(response, 413, code="payload_too_large", attr=None)
    assert body["type"] == "client_error"
    assert body["errors"][0]["detail"] == "The request body is larger than this API accepts."
    assert_documented(response, method, path)


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_body_over_the_limit_is_a_413_whatever_its_media_type(writer, small_limit, method, path):
    response = getattr(writer, method)(
        _url(writer, path), data="x" * (small_limit + 1), content_type="text/plain"
    )
    assert_error(response, 413, code="payload_too_large", attr=None)


@pytest.mark.parametrize(("method", "path"), [w for w in WRITES if w not in BODYLESS_WRITES])
def test_a_deeply_nested_body_is_a_400_on_every_write(writer, method, path):
    nested = "[" * 100_000 + "]" * 100_000
    media_type = "multipart/form-data; boundary=x" if path.endswith("/import/") else "application/json"
    if media_type.startswith("multipart"):
        nested = f'--x\r\nContent-Disposition: form-data; name="budget"\r\n\r\n{nested}\r\n--x--\r\n'
    response = getattr(writer, method)(_url(writer, path), data=nested, content_type=media_type)
    body = assert_error(response, 400)
    if media_type == "application/json":
        assert body == {
            "type": "client_error",
            "errors": [
                {
                    "code": "parse_error",
                    "detail": "JSON parse error - the document is nested too deeply.",
                    "attr": None,
                }
            ],
        }
    assert_documented(response, method, path)


@pytest.mark.parametrize(("method", "path"), BODYLESS_WRITES)
def test_a_deeply_nested_body_is_ignored_where_the_route_takes_none(writer, method, path):
    """leave, accept, decline and the resend of a verification link document no request body
    and never read one, so nothing is parsed: the answer is the route's own, exactly as
    without a body."""
    url = _url(writer, path)
    nested = "[" * 100_000 + "]" * 100_000
    with_body = getattr(writer, method)(url, data=nested, content_type="application/json")
    assert with_body.status_code in (200, 202, 204)
    again = getattr(writer, method)(url)
    if path.endswith("/resend/"):
        assert again.status_code == 202  # a link again, to the pending address
    else:
        assert again.status_code in (404, 409)  # it was done the first time
    assert_documented(with_body, method, path)
