"""Races against a live server: each request on its own connection and thread, all released
together by a barrier, so the server handles them at the same moment.

``race(server, [Call(...), Call(...)], pauses={'INSERT INTO "budgets_category"': 0.03})``
returns one Answer per call, in order, and fails the test on any 5xx. ``pauses`` hold every
server statement containing one of those SQL fragments for a moment before it runs: they
widen the window between one request's check and its write, and let the other request
finish inside it, so a missing lock shows in most trials instead of in a rare unlucky one.

CONCURRENCY_TRIALS sets how many times each race runs (default 25; run with 100 or more
locally to hunt rarer interleavings).
"""

import http.client
import json
import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db.backends.signals import connection_created

TRIALS = int(os.environ.get("CONCURRENCY_TRIALS", "25"))
API = "/api/v1"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: object = None
    token: str | None = None
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    body: object
    headers: dict = field(default_factory=dict, compare=False)

    @property
    def codes(self) -> list[str]:
        if not isinstance(self.body, dict):
            return []
        return [error.get("code") for error in self.body.get("errors", [])]


_pauses: dict[str, float] = {}


def _pausing(execute, sql, params, many, context):
    for fragment, seconds in tuple(_pauses.items()):
        if fragment in sql:
            time.sleep(seconds)
            break
    return execute(sql, params, many, context)


def _watch(sender, connection, **kwargs):
    # The live server opens a new connection for each request it handles.
    if _pausing not in connection.execute_wrappers:
        connection.execute_wrappers.append(_pausing)


connection_created.connect(_watch, dispatch_uid="server.tests.races")


def _send(url: str, call: Call, barrier: threading.Barrier) -> Answer:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.connect()  # before the barrier: only the requests themselves race
        headers = {"Accept": "application/json", **call.headers}
        payload = None
        if isinstance(call.body, bytes):
            payload = call.body  # sent as is, with the call's own Content-Type
        elif call.body is not None:
            payload = json.dumps(call.body).encode()
            headers["Content-Type"] = "application/json"
        if call.token:
            headers["Authorization"] = f"Bearer {call.token}"
        barrier.wait(timeout=30)
        connection.request(call.method, f"{API}{call.path}", body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return Answer(response.status, json.loads(raw) if raw else None, dict(response.getheaders()))


def race(server, calls: list[Call], *, pauses: dict[str, float] | None = None) -> list[Answer]:
    barrier = threading.Barrier(len(calls))
    answers: list[Answer | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call: Call) -> None:
        try:
            answers[index] = _send(server.url, call, barrier)
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    _pauses.update(pauses or {})
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        _pauses.clear()
    if failures:
        raise failures[0]
    server_errors = [
        (call, answer) for call, answer in zip(calls, answers, strict=True) if answer.status >= 500
    ]
    assert not server_errors, f"5xx under concurrency: {server_errors}"
    return answers


def send(server, call: Call) -> Answer:
    """One request on its own, for checking the state a race left behind."""
    return race(server, [call])[0]
