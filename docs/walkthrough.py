#!/usr/bin/env python3
"""A first session with the Household Budget API, end to end, in plain HTTP calls.

Run it against `make run` (in a second terminal):

    python3 docs/walkthrough.py                      # http://127.0.0.1:8000
    python3 docs/walkthrough.py --base-url http://127.0.0.1:9000

Standard library only, so any Python 3.11+ runs it. Every step prints the request, the status
and what the answer says; the script stops with exit status 1 at the first answer that is not
the one documented here. `make test` runs it against a live server (server/tests/test_walkthrough.py),
so this file and the API cannot drift apart.

The demo cast (`make run` seeds it; `make reset-demo` rebuilds it), password budget-demo-2025:

    alice@example.com  owns household "Archer family" (bob admin, carol member); budgets Groceries
                       (shared with the household to view), Holidays (shared with bob to edit), Personal
    bob@example.com    owns the budget Car
    carol@example.com  owns household "Flat 4B" (dave member); budgets Flat bills (JPY, shared with the
                       household to view) and Shared kitchen (BHD, shared with dave to edit)
    dave@example.com   owns the budget Savings (GBP)
    admin@example.com  staff superuser, password admin-demo-2025 (the Django admin, the grants API)
    erin@example.com   no account: the README's curl walkthrough registers her, and a pending invitation
                       to "Flat 4B" waits for her once her email is verified

Everything the walkthrough creates (two budgets, a household) it deletes at the end, so it can run
again and again against the same demo data.
"""

import argparse
import datetime
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

DEMO_PASSWORD = "budget-demo-2025"


class WalkthroughFailed(Exception):
    pass


class Answer:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None


class Client:
    """One caller: a base URL and, once logged in, a bearer token."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(self, method, path, *, body=None, expect=200, headers=None, raw=None, content_type=None, say=""):
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        request_headers = {"Accept": "application/json", **(headers or {})}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            request_headers["Content-Type"] = "application/json"
        if content_type:
            request_headers["Content-Type"] = content_type
        if self.token:
            request_headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, headers=request_headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (main allows http(s) only)
                answer = Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.headers, error.read())
        shown = path.removeprefix(self.base_url)
        print(f"{method:6} {shown}  ->  {answer.status}{'  ' + say if say else ''}")
        expected = expect if isinstance(expect, tuple) else (expect,)
        if answer.status not in expected:
            wanted = " or ".join(map(str, expected))
            raise WalkthroughFailed(
                f"{method} {shown}: expected {wanted}, got {answer.status}: {answer.body[:500]!r}"
            )
        return answer


def log_in(base_url: str, email: str) -> Client:
    """Logins are throttled per IP (THROTTLE_RATE_AUTH, 10 a minute by default) and this script logs
    in four people, so a quick second run may meet a 429: it waits as Retry-After says, once."""
    api = Client(base_url)
    credentials = {"email": email, "password": DEMO_PASSWORD}
    answer = api.call("POST", "/api/v1/auth/token/", body=credentials, expect=(200, 429))
    if answer.status == 429:
        wait = int(answer.headers.get("Retry-After", "60"))
        print(f"       throttled: waiting {wait} s as Retry-After asks")
        time.sleep(wait)
        answer = api.call("POST", "/api/v1/auth/token/", body=credentials)
    return Client(base_url, answer.json()["access"])


def check(condition: bool, message: str) -> None:
    if not condition:
        raise WalkthroughFailed(message)


def section(title: str) -> None:
    print(f"\n== {title}")


def multipart(fields: dict[str, str], file_name: str, file_bytes: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + file_bytes
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def walk(base_url: str) -> None:
    v1 = "/api/v1"
    today = datetime.date.today()
    stamp = uuid.uuid4().hex[:8]
    month_start = today.replace(day=1).isoformat()

    section("Where to start")
    index = Client(base_url).call("GET", "/api/", say="links to the docs, the schema and the API").json()
    check("docs" in index and "token" in index, f"the index lists docs and token: {index}")
    Client(base_url).call("GET", "/api/health/")

    section("Log in (JWT): POST {email, password} -> {access, refresh}")
    alice = log_in(base_url, "alice@example.com")
    me = alice.call("GET", f"{v1}/auth/me/").json()
    print(
        f"       I am {me['first_name']} {me['last_name']} <{me['email']}>, verified: {me['email_verified']}"
    )

    section("Households and budgets")
    households = alice.call("GET", f"{v1}/households/").json()["results"]
    archers = next(h for h in households if h["name"] == "Archer family")
    print(f"       households: {', '.join(h['name'] + ' (' + h['my_role'] + ')' for h in households)}")
    members = alice.call("GET", f"{v1}/households/{archers['id']}/members/").json()
    member_ids = {m["user"]["email"]: m["user"]["id"] for m in members}
    budgets = alice.call("GET", f"{v1}/budgets/?ordering=name").json()["results"]
    print(f"       budgets: {', '.join(b['name'] + ' ' + b['currency'] for b in budgets)}")
    groceries = next(b for b in budgets if b["name"] == "Groceries")

    section("Transactions, filtered: this budget's expenses of the last 90 days, largest first")
    since = (today - datetime.timedelta(days=90)).isoformat()
    query = urllib.parse.urlencode(
        {"budget": groceries["id"], "kind": "expense", "date_after": since, "ordering": "-amount", "limit": 3}
    )
    page = alice.call("GET", f"{v1}/transactions/?{query}").json()
    check(page["count"] > 0, "the demo budget has expenses in the last 90 days")
    for row in page["results"]:
        print(f"       {row['date']}  {row['amount']:>8} {groceries['currency']}  {row['payee']}")
    print(f"       {page['count']} in all; next page: {page['next']}")

    section("Summary of the current period, and the monthly report")
    summary = alice.call("GET", f"{v1}/budgets/{groceries['id']}/summary/").json()
    print(
        f"       {summary['period_start']}..{summary['period_end']}: spent {summary['spent']} of "
        f"{summary['amount']} {groceries['currency']}, {summary['remaining']} left"
    )
    check(summary["spent"] != "0.00", "the demo data has spending in the current month")
    report = alice.call("GET", f"{v1}/budgets/{groceries['id']}/report/monthly/").json()
    print(f"       {len(report['months'])} months, the last: {report['months'][-1]}")

    section("Create: a budget, a category, a transaction (retried safely), a bulk of three")
    budget = alice.call(
        "POST",
        f"{v1}/budgets/",
        body={
            "name": f"Walkthrough {stamp}",
            "amount": "250.00",
            "currency": "EUR",
            "period": "monthly",
            "start_date": month_start,
        },
        expect=201,
    ).json()
    category = alice.call(
        "POST", f"{v1}/categories/", body={"budget": budget["id"], "name": "Lunch"}, expect=201
    ).json()
    new_row = {
        "budget": budget["id"],
        "category": category["id"],
        "kind": "expense",
        "amount": "12.30",
        "date": today.isoformat(),
        "payee": "Cafe",
        "description": "Lunch with Bob",
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    created = alice.call("POST", f"{v1}/transactions/", body=new_row, headers=key, expect=201)
    again = alice.call(
        "POST", f"{v1}/transactions/", body=new_row, headers=key, expect=201, say="same key: replayed"
    )
    check(again.headers.get("Idempotent-Replayed") == "true", "a retried POST with the same key is replayed")
    check(again.json()["id"] == created.json()["id"], "the retry created nothing new")
    bulk = [
        {
            "budget": budget["id"],
            "kind": "expense",
            "amount": amount,
            "date": today.isoformat(),
            "payee": payee,
        }
        for amount, payee in (("4.50", "Bakery"), ("23.99", "Bookshop, Main St"), ("=1+1", "Formula Ltd"))
    ]
    refused = alice.call(
        "POST", f"{v1}/transactions/bulk/", body=bulk, expect=400, say="one bad item: none created"
    )
    print(f"       {refused.json()['errors'][0]}")
    bulk[2]["amount"] = "7.00"
    bulk[2]["payee"] = "=HYPERLINK(1)"
    alice.call("POST", f"{v1}/transactions/bulk/", body=bulk, expect=201, say="a bare JSON list, all or none")

    section("Edit with If-Match: a stale ETag is refused, nothing is written")
    tx_path = f"{v1}/transactions/{created.json()['id']}/"
    etag = alice.call("GET", tx_path).headers["ETag"]
    alice.call(
        "PATCH", tx_path, body={"notes": "paid by card"}, headers={"If-Match": etag}, say=f"If-Match {etag}"
    )
    alice.call(
        "PATCH", tx_path, body={"notes": "lost edit"}, headers={"If-Match": etag}, expect=412, say="stale"
    )

    section("Export to CSV and import the same file into a new budget (dry run first)")
    exported = alice.call("GET", f"{v1}/transactions/export/?budget={budget['id']}").body
    print(f"       {len(exported.splitlines()) - 1} rows, header: {exported.splitlines()[0].decode()}")
    copy = alice.call(
        "POST",
        f"{v1}/budgets/",
        body={
            "name": f"Walkthrough copy {stamp}",
            "amount": "250.00",
            "currency": "EUR",
            "period": "monthly",
            "start_date": month_start,
        },
        expect=201,
    ).json()
    for dry_run, expect in (("true", 200), ("false", 201)):
        raw, content_type = multipart(
            {"budget": str(copy["id"]), "dry_run": dry_run, "create_categories": "true"},
            "export.csv",
            exported,
        )
        result = alice.call(
            "POST",
            f"{v1}/transactions/import/",
            raw=raw,
            content_type=content_type,
            expect=expect,
            say=f"dry_run={dry_run}",
        ).json()
        print(f"       {result}")
        check(result["created"] == 4, "every exported row is imported")

    section("Share a budget with one household member, to view")
    bob_id = member_ids["bob@example.com"]
    alice.call(
        "PUT", f"{v1}/budgets/{budget['id']}/shares/users/{bob_id}/", body={"permission": "view"}, expect=201
    )
    bob = log_in(base_url, "bob@example.com")
    seen = bob.call("GET", f"{v1}/budgets/{budget['id']}/", say="bob sees it").json()
    print(f"       bob's permissions: {seen['my_permissions']}")
    bob.call(
        "PATCH",
        f"{v1}/budgets/{budget['id']}/",
        body={"name": "Mine now"},
        expect=403,
        say="but may not edit",
    )
    carol = log_in(base_url, "carol@example.com")
    carol.call(
        "GET",
        f"{v1}/budgets/{budget['id']}/",
        expect=404,
        say="carol, not shared with: as if it did not exist",
    )

    section("Invite someone to a new household; they accept")
    household = alice.call(
        "POST", f"{v1}/households/", body={"name": f"Walkthrough household {stamp}"}, expect=201
    )
    household = household.json()
    alice.call(
        "POST",
        f"{v1}/households/{household['id']}/invitations/",
        body={"email": "dave@example.com"},
        expect=201,
    )
    dave = log_in(base_url, "dave@example.com")
    mine = dave.call("GET", f"{v1}/invitations/").json()["results"]
    invitation = next(i for i in mine if i["household"]["id"] == household["id"])
    dave.call("POST", f"{v1}/invitations/{invitation['id']}/accept/", say="dave joins")
    roster = alice.call("GET", f"{v1}/households/{household['id']}/members/").json()
    print(f"       members: {', '.join(m['user']['email'] + ' (' + m['role'] + ')' for m in roster)}")
    check(any(m["user"]["email"] == "dave@example.com" for m in roster), "dave is a member after accepting")

    section("Tidy up: what this walkthrough created goes away")
    for created_budget in (budget, copy):
        alice.call("DELETE", f"{v1}/budgets/{created_budget['id']}/", expect=204)
    alice.call("DELETE", f"{v1}/households/{household['id']}/", expect=204)
    alice.call("GET", f"{v1}/budgets/{budget['id']}/", expect=404)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    if not args.base_url.startswith(("http://", "https://")):
        parser.error("--base-url must be an http(s) URL")
    try:
        walk(args.base_url)
    except WalkthroughFailed as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"\nNo API at {args.base_url} ({error.reason}); start it with `make run`.", file=sys.stderr)
        return 1
    print("\nWalkthrough complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
