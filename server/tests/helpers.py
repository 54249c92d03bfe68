"""Assertions shared by the test suites."""


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
