"""A site admin grants and revokes access in a real browser (Debian's Chromium, driven by
Playwright), against a live server; the grantee's API calls see each change.

Run on its own with ``pytest -m browser``. It needs /usr/bin/chromium (``apt-get install
chromium``); Playwright never downloads a browser here. A failing step leaves a
screenshot in test-artifacts/.
"""

import json
import os
import re
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from accounts.services import token_pair_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from budgets.models import BudgetUserObjectPermission
from budgets.tests.factories import BudgetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API marks an event loop as running in this thread, so Django
    # takes the test's ORM calls (plain synchronous ones) for async code unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()
            # While that loop runs, asgiref keeps database connections per context, not
            # per thread: close the one the test used, or it outlives the test database.
            connections.close_all()


@contextmanager
def screenshot_on_failure(page, name: str):
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise


def api_get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_admin_grants_and_revokes_view_in_the_browser(live_server, browser_page):
    assert os.access(CHROMIUM, os.X_OK)
    admin = UserFactory(email="granter@example.com", is_staff=True)
    admin.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    owner = UserFactory(email="owner@example.com")
    grantee = UserFactory(email="adviser@example.com")
    budget = BudgetFactory(owner=owner, name="Household bills", amount_minor=12_345)
    token = token_pair_for(grantee)["access"]
    budget_api = f"{live_server.url}/api/v1/budgets/{budget.pk}/"
    missing_api = f"{live_server.url}/api/v1/budgets/987654321/"
    page = browser_page

    with screenshot_on_failure(page, "admin-grants"):
        assert api_get(budget_api, token)[0] == 404

        # Log in at /admin/.
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", admin.email)
        page.fill("#id_password", DEFAULT_PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("#site-name")).to_be_visible()

        # Open the budget, then its object-permissions page.
        page.click("a[href='/admin/budgets/budget/']")
        page.click(f"text={budget.name}")
        expect(page).to_have_url(re.compile(rf"/admin/budgets/budget/{budget.pk}/change/$"))
        page.click("a.permissionslink")
        expect(page).to_have_url(re.compile(rf"/admin/budgets/budget/{budget.pk}/permissions/$"))

        # Grant "view" to the adviser, found by email.
        page.fill("input[name=user]", "Adviser@Example.com")
        page.click("input[name=submit_manage_user]")
        expect(page).to_have_url(re.compile(rf"/permissions/user-manage/{grantee.pk}/$"))
        page.check("input[name=permissions][value=view_budget]")
        page.click("#submit")
        expect(page.locator("ul.messagelist")).to_contain_text("Permissions saved.")
        expect(page.locator("input[name=permissions][value=view_budget]")).to_be_checked()
        expect(page.locator("input[name=permissions][value=change_budget]")).not_to_be_checked()

        status, body = api_get(budget_api, token)
        assert status == 200, body
        assert (body["id"], body["name"], body["amount"], body["my_permissions"]) == (
            budget.pk,
            "Household bills",
            "123.45",
            ["view"],
        )
        assert list(
            BudgetUserObjectPermission.objects.filter(user=grantee).values_list(
                "content_object_id", "permission__codename", "source", "granted_by_id"
            )
        ) == [(budget.pk, "view_budget", "admin", admin.pk)]

        # The grant is listed on the object-permissions page; revoke it there.
        page.click("text=Object permissions")
        expect(page.locator("#user-permissions")).to_contain_text(grantee.email)
        page.click(f"#user-permissions a[href='user-manage/{grantee.pk}/']")
        page.uncheck("input[name=permissions][value=view_budget]")
        page.click("#submit")
        expect(page.locator("ul.messagelist")).to_contain_text("Permissions saved.")

        status, body = api_get(budget_api, token)
        assert status == 404
        assert (status, body) == api_get(missing_api, token)
        assert not BudgetUserObjectPermission.objects.filter(user=grantee).exists()
