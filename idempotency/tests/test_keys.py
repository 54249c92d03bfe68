"""Idempotency-Key on POST (idempotency/middleware.py): a retry gets the first answer, byte
for byte, and writes nothing; another body is a 422; the key is the caller's own."""

import datetime

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory
from idempotency import middleware
from idempotency.middleware import parse_key
from idempotency.models import IdempotencyRecord
from server.tests.helpers import assert_error
from transactions.models import Transaction

pytestmark = pytest.mark.django_db

TRANSACTIONS = "/api/v1/transactions/"


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def budget(owner):
    return BudgetFactory(owner=owner)


def body(budget, amount="12.30"):
    return {"budget": budget.pk, "kind": "expense", "amount": amount, "date": "2026-11-30"}


def post(client, data, key="order-1", **extra):
    return client.post(TRANSACTIONS, data, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_retry_gets_the_first_answer_byte_for_byte_and_writes_nothing(owner, budget, client_for):
    api = client_for(owner)
    first = post(api, body(budget))
    retry = post(api, body(budget))

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert retry["ETag"] == first["ETag"]
    assert retry["Content-Type"] == first["Content-Type"] == "application/json"
    assert Transaction.objects.filter(budget=budget).count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_body_in_another_spelling_is_the_same_request(owner, budget, client_for):
    """JSON is compared by value: key order and spacing are not a different request."""
    api = client_for(owner)
    first = post(api, body(budget))
    spelled = api.post(
        TRANSACTIONS,
        data=f'{{ "date": "2026-11-30", "amount": "12.30", "kind": "expense", "budget": {budget.pk} }}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-1",
    )
    assert spelled.status_code == 201
    assert spelled.content == first.content
    assert Transaction.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(owner, budget, client_for):
    api = client_for(owner)
    post(api, body(budget))
    other = post(api, body(budget, amount="99.00"))
    assert_error(other, 422, "idempotency_key_reused")
    assert list(Transaction.objects.values_list("amount_minor", flat=True)) == [1230]


def test_a_key_is_the_callers_own(budget, owner, client_for):
    """Another user's same key is another request, on their own budget."""
    other = UserFactory()
    theirs = BudgetFactory(owner=other)
    mine = post(client_for(owner), body(budget))
    their_answer = post(client_for(other), body(theirs))
    assert (mine.status_code, their_answer.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in their_answer
    assert their_answer.json()["budget"] == theirs.pk
    assert Transaction.objects.count() == 2


def test_a_key_belongs_to_its_route(owner, budget, client_for):
    api = client_for(owner)
    created = post(api, body(budget))
    category = api.post(
        "/api/v1/categories/",
        {"budget": budget.pk, "name": "Food"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-1",
    )
    assert (created.status_code, category.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in category


def test_an_error_is_not_kept_so_the_client_can_fix_it_and_retry(owner, budget, client_for):
    api = client_for(owner)
    refused = post(api, {**body(budget), "amount": "12.345"})
    assert_error(refused, 400)
    fixed = post(api, body(budget))
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert IdempotencyRecord.objects.count() == 1


def test_an_unauthenticated_retry_is_refused_not_replayed(owner, budget, client_for):
    post(client_for(owner), body(budget))
    assert_error(
        APIClient().post(TRANSACTIONS, body(budget), format="json", HTTP_IDEMPOTENCY_KEY="order-1"), 401
    )
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(
        bad_token.post(TRANSACTIONS, body(budget), format="json", HTTP_IDEMPOTENCY_KEY="order-1"), 401
    )


@pytest.mark.parametrize(
    ("revoke", "code"),
    [
        (lambda user: user.set_password("changed-elsewhere-42"), "password_changed"),
        (lambda user: setattr(user, "is_active", False), "user_inactive"),
    ],
    ids=["password_changed", "deactivated"],
)
def test_a_revoked_token_is_refused_at_once_with_a_key_and_nothing_is_kept(
    revoke, code, owner, budget, client_for
):
    """The middleware and the view share one authentication of the request (accounts/
    authentication.py); a token revoked since the last request is refused by both."""
    api = client_for(owner)
    assert post(api, body(budget), key="before").status_code == 201
    revoke(owner)
    owner.save()
    assert_error(post(api, body(budget, amount="2.00"), key="after"), 401, code)
    assert_error(post(api, body(budget), key="before"), 401, code)  # not replayed either
    assert Transaction.objects.count() == IdempotencyRecord.objects.count() == 1


def register(email: str, address: str):
    return APIClient().post(
        "/api/v1/auth/register/",
        {"email": email, "password": "keeps-the-books-42"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="signup",
        REMOTE_ADDR=address,
    )


def test_anonymous_routes_key_by_client_address():
    """Registration: the same address retrying gets its first answer; another address
    sending the same key registers on its own."""
    first = register("kim@example.com", "203.0.113.7")
    retry = register("kim@example.com", "203.0.113.7")
    elsewhere = register("lee@example.com", "198.51.100.4")
    assert (first.status_code, retry.status_code, elsewhere.status_code) == (201, 201, 201)
    assert retry.content == first.content and retry["Idempotent-Replayed"] == "true"
    assert set(User.objects.values_list("email", flat=True)) == {"kim@example.com", "lee@example.com"}


def test_login_refresh_and_logout_ignore_the_key(owner):
    """Their answers are credentials: never stored, so every login makes new tokens."""
    credentials = {"email": owner.email, "password": "correct-horse-battery-9"}
    first, second = (
        APIClient().post("/api/v1/auth/token/", credentials, format="json", HTTP_IDEMPOTENCY_KEY="login")
        for _ in range(2)
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["refresh"] != second.json()["refresh"]

    # A refresh token is single-use: replaying the first answer would hand out its tokens
    # twice; the retry is refused instead.
    refresh = {"refresh": first.json()["refresh"]}
    spent, retried = (
        APIClient().post("/api/v1/auth/token/refresh/", refresh, format="json", HTTP_IDEMPOTENCY_KEY="r")
        for _ in range(2)
    )
    assert spent.status_code == 200
    assert_error(retried, 401)
    logout = {"refresh": spent.json()["refresh"]}
    assert (
        APIClient().post("/api/v1/auth/logout/", logout, format="json", HTTP_IDEMPOTENCY_KEY="o").status_code
        == 204
    )
    assert not IdempotencyRecord.objects.exists()


def test_a_form_upload_retried_with_another_boundary_is_the_same_request(owner, budget, client_for):
    api = client_for(owner)

    def upload(
        content=b"date,amount,kind,category,payee,description,notes\n2026-11-02,4.20,expense,,Bakery,,\n",
    ):
        return api.post(
            "/api/v1/transactions/import/",
            {"budget": budget.pk, "file": SimpleUploadedFile("bank.csv", content, content_type="text/csv")},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="import-1",
        )

    first = upload()
    retry = upload()
    other = upload(b"date,amount,kind,category,payee,description,notes\n2026-11-03,9.99,expense,,Mill,,\n")
    assert first.status_code == 201, first.json()
    assert retry.content == first.content and retry["Idempotent-Replayed"] == "true"
    assert_error(other, 422, "idempotency_key_reused")
    assert Transaction.objects.filter(budget=budget).count() == 1


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("abc", "abc"),
        ('"abc"', "abc"),
        ('"with space"', "with space"),
        (r'"say \"hi\""', 'say "hi"'),
        ("x" * 255, "x" * 255),
        ("", None),
        ("x" * 256, None),
        ("with space", None),
        ('"open', None),
        ("caf\u00e9", None),
        ('""', None),
    ],
)
def test_keys_follow_the_header_grammar(header, key):
    assert parse_key(header) == key


@pytest.mark.parametrize("header", ["", "x" * 256, "two words", '"unclosed'])
def test_a_malformed_key_is_a_400_and_writes_nothing(header, owner, budget, client_for):
    response = post(client_for(owner), body(budget), key=header)
    assert_error(response, 400, "invalid_idempotency_key")
    assert not Transaction.objects.exists()


def test_a_deployment_may_require_the_key(owner, budget, client_for, settings):
    settings.REQUIRE_IDEMPOTENCY_KEY = True
    api = client_for(owner)
    assert_error(api.post(TRANSACTIONS, body(budget), format="json"), 400, "idempotency_key_required")
    assert post(api, body(budget)).status_code == 201
    login = APIClient().post(
        "/api/v1/auth/token/", {"email": owner.email, "password": "correct-horse-battery-9"}, format="json"
    )
    assert login.status_code == 200  # login needs no key
    assert api.get(TRANSACTIONS).status_code == 200
    # An anonymous caller is told to sign in, not about the key.
    assert_error(APIClient().post(TRANSACTIONS, body(budget), format="json"), 401)


def test_an_anonymous_caller_with_a_malformed_key_gets_the_401(budget):
    response = APIClient().post(TRANSACTIONS, body(budget), format="json", HTTP_IDEMPOTENCY_KEY="two words")
    assert_error(response, 401)


def test_an_expired_answer_is_forgotten_and_swept(owner, budget, client_for, settings):
    settings.IDEMPOTENCY_TTL_HOURS = 1
    api = client_for(owner)
    post(api, body(budget))
    later = timezone.now() + datetime.timedelta(hours=1, seconds=1)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    kept = IdempotencyRecord.objects.create(
        lookup="f" * 64, principal="user:0", fingerprint="0" * 64, status=201, body=b"{}", expires_at=later
    )

    again = post(api, body(budget))  # its time was up: a new request, run again
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Transaction.objects.count() == 2

    IdempotencyRecord.objects.exclude(pk=kept.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    call_command("sweep_idempotency_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [kept.pk]


def expire_all():
    IdempotencyRecord.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))


def test_storing_an_answer_sweeps_every_expired_record_at_most_once_a_minute(
    owner, budget, client_for, monkeypatch
):
    """The opportunistic sweep: after a stored answer's commit, one DELETE of whatever has
    expired (anyone's), then not again in this process for SWEEP_SECONDS."""
    monkeypatch.setattr(middleware, "_next_sweep", 0.0)  # due
    api = client_for(owner)
    other = UserFactory()
    post(api, body(budget), key="old")
    post(client_for(other), body(BudgetFactory(owner=other)), key="theirs")
    expire_all()

    post(api, body(budget, amount="1.00"), key="new")  # swept a moment ago: not yet
    assert IdempotencyRecord.objects.count() == 3

    monkeypatch.setattr(middleware, "_next_sweep", 0.0)  # a minute later
    post(api, body(budget, amount="2.00"), key="newer")
    assert not IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).exists()
    assert IdempotencyRecord.objects.count() == 2  # "new" and "newer"


def test_a_failed_sweep_runs_after_the_commit_and_leaves_the_answer_standing(
    owner, budget, client_for, monkeypatch, caplog
):
    """The sweep is an on-commit hook (robust): it holds none of the request's locks, and
    its failure is logged, not turned into an error for a change that has landed."""

    def broken_sweep():
        raise DatabaseError("sweep failed")

    monkeypatch.setattr(middleware, "_next_sweep", 0.0)
    monkeypatch.setattr(middleware, "_sweep", broken_sweep)
    response = post(client_for(owner), body(budget))
    assert response.status_code == 201
    assert IdempotencyRecord.objects.count() == Transaction.objects.count() == 1
    assert "broken_sweep" in caplog.text and "sweep failed" in caplog.text


def test_the_stored_answer_reads_back_through_the_model(owner, budget, client_for, settings):
    """The middleware writes its record in plain SQL: the model reads every field back."""
    settings.IDEMPOTENCY_TTL_HOURS = 3
    before = timezone.now()
    first = post(client_for(owner), body(budget))
    record = IdempotencyRecord.objects.get()
    assert record.principal == f"user:{owner.pk}"
    assert (record.status, bytes(record.body)) == (201, first.content)
    assert record.headers == {
        "Content-Type": "application/json",
        "ETag": first["ETag"],
        "Server-Knowledge": first["Server-Knowledge"],
    }
    assert len(record.fingerprint) == len(record.lookup) == 64
    assert before <= record.created_at <= timezone.now()
    assert record.expires_at - record.created_at == datetime.timedelta(hours=3)


def test_an_expired_answer_under_the_same_key_is_replaced_in_place(owner, budget, client_for):
    api = client_for(owner)
    post(api, body(budget))
    stale = IdempotencyRecord.objects.get()
    IdempotencyRecord.objects.update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
        created_at=timezone.now() - datetime.timedelta(days=1),
    )
    again = post(api, body(budget, amount="7.00"))  # another body: a new request once expired
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    fresh = IdempotencyRecord.objects.get()
    assert fresh.lookup == stale.lookup and fresh.fingerprint != stale.fingerprint
    assert bytes(fresh.body) == again.content
    assert fresh.created_at > timezone.now() - datetime.timedelta(minutes=1) < fresh.expires_at
    assert post(api, body(budget, amount="7.00")).content == again.content  # and replayed


def test_a_retry_while_the_first_still_runs_is_a_409_and_writes_nothing(owner, budget, client_for):
    """PostgreSQL: the first request holds the key's advisory lock until it commits (here
    another session holds it). SQLite lets one writer in at a time, so a retry waits for the
    first instead; there is no lock to hold."""
    api = client_for(owner)
    if connection.vendor != "postgresql":
        assert middleware._claim("0" * 64) == (True, None)
        return
    lookup = middleware._lookup(f"user:{owner.pk}", RequestFactory().post(TRANSACTIONS), "order-1")
    lock_id = int.from_bytes(bytes.fromhex(lookup[:16]), "big", signed=True)
    with psycopg.connect(**connection.get_connection_params()) as first, first.transaction():
        first.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
        assert_error(post(api, body(budget)), 409, "idempotency_key_in_use")
        assert post(api, body(budget), key="order-2").status_code == 201  # another key runs
    assert Transaction.objects.count() == IdempotencyRecord.objects.count() == 1
    assert post(api, body(budget)).status_code == 201  # once the first is gone, the key is free
