"""URLs, request bodies and database read-backs shared by the transactions suites."""

import csv
import io
from urllib.parse import urlsplit

from django.core.files.uploadedfile import SimpleUploadedFile

from budgets.models import Budget, Category
from transactions.models import Transaction

API = "/api/v1"
LIST = f"{API}/transactions/"
BULK = f"{API}/transactions/bulk/"
EXPORT = f"{API}/transactions/export/"
IMPORT = f"{API}/transactions/import/"
ITEM_KEYS = {
    "id",
    "budget",
    "category",
    "kind",
    "amount",
    "date",
    "payee",
    "description",
    "notes",
    "split",
    "created_by",
    "created_at",
    "updated_at",
    "version",
}
IMPORT_HEADER = "date,amount,kind,category,payee,description,notes\n"


def detail_url(pk) -> str:
    return f"{API}/transactions/{pk}/"


def summary_url(budget_id) -> str:
    return f"{API}/budgets/{budget_id}/summary/"


def report_url(budget_id) -> str:
    return f"{API}/budgets/{budget_id}/report/monthly/"


def missing_transaction_id() -> int:
    return (Transaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def missing_budget_id() -> int:
    return (Budget.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def missing_category_id() -> int:
    return (Category.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def db_state() -> dict:
    """Every row the transactions routes can write, in a comparable form: a refused
    request must leave this exactly as it was."""
    return {
        "transactions": sorted(
            Transaction.objects.values_list(
                "pk",
                "budget_id",
                "category_id",
                "created_by_id",
                "kind",
                "amount_minor",
                "date",
                "payee",
                "description",
                "notes",
                "created_at",
                "updated_at",
            )
        ),
        "categories": sorted(Category.objects.values_list("pk", "budget_id", "name", "allocated_minor")),
    }


def payload(budget, /, **overrides) -> dict:
    """A valid transaction body for ``budget``."""
    body = {
        "budget": budget.pk,
        "category": None,
        "kind": "expense",
        "amount": "12.30",
        "date": "2026-01-20",
        "payee": "Bakery",
        "description": "croissants",
        "notes": "",
    }
    body.update(overrides)
    return body


def csv_file(text: str | bytes, name: str = "transactions.csv") -> SimpleUploadedFile:
    content = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, content, content_type="text/csv")


def import_csv(client, budget_id, content, **fields):
    """POST the import form: ``content`` is the file (text or bytes, header included)."""
    data = {"budget": budget_id, "file": csv_file(content), **fields}
    return client.post(IMPORT, data, format="multipart")


def csv_body(response) -> bytes:
    """The whole body of a (streamed) CSV response; safe to call more than once."""
    if not hasattr(response, "_test_body"):
        response._test_body = b"".join(response.streaming_content) if response.streaming else response.content
    return response._test_body


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV response, header first."""
    return list(csv.reader(io.StringIO(csv_body(response).decode("utf-8"), newline="")))


def same_error_as_unknown(foreign: dict, unknown: dict, foreign_id, unknown_id) -> bool:
    """Two error bodies are the same once the id each request named is swapped."""
    swapped = {
        **foreign,
        "errors": [
            {**e, "detail": e["detail"].replace(f'"{foreign_id}"', f'"{unknown_id}"')}
            for e in foreign["errors"]
        ],
    }
    return swapped == unknown


def relative(url: str) -> str:
    """A link of the answer, as the test client asks for it."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def walk(client, params: dict) -> tuple[list[int], list[dict]]:
    """The list walked by cursor from ``cursor=start``: every row's id in order, and the pages."""
    response = client.get(LIST, {**params, "cursor": "start"})
    bodies = []
    while True:
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        bodies.append(body)
        if body["next"] is None:
            break
        response = client.get(relative(body["next"]))
    return [row["id"] for body in bodies for row in body["results"]], bodies
