"""Assertions and helpers shared by the test suites."""

from django.db import connection


def assert_error(response, status: int, code: str | None = None, attr: str | None = "__any__"):
    """The one error shape: {"type", "errors": [{"code", "detail", "attr"}]}."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
        assert isinstance(error["detail"], str) and error["detail"], error
    if code is not None:
        assert code in [e["code"] for e in body["errors"]], body
    if attr != "__any__":
        assert attr in [e["attr"] for e in body["errors"]], body
    return body


def token_in(message) -> str:
    """The token an email carries, read from the first link with ?token= in its body."""
    import re
    from urllib.parse import unquote

    match = re.search(r"token=([^\s&]+)", message.body)
    assert match, message.body
    return unquote(match[1])


class MigrationEditor:
    """The part of a migration's schema editor that a RunPython step uses (execute and its
    connection), for calling such a step on the test database."""

    connection = connection

    def execute(self, sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
