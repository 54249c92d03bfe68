"""The Django admin: change lists without a query per row and money shown exactly; the
object-permissions pages where site admins grant access to a budget, which are the same
grants as the staff grants API's; and who may reach which page."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from households.models import Household, Invitation, Membership
from households.tests.factories import InvitationFactory, make_household
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

GRANTS = "/api/v1/admin/grants/"
BUDGETS_ADMIN = "/admin/budgets/budget/"


def staff(email: str, *codenames: str, superuser: bool = False) -> User:
    user = UserFactory(email=email, is_staff=True, is_superuser=superuser)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)


def logged_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def superuser(db) -> User:
    return staff("root@example.com", superuser=True)


@pytest.fixture
def root(superuser) -> Client:
    return logged_in(superuser)


# --- change lists: no query per row, money exact -----------------------------------------


def _users(n):
    UserFactory.create_batch(n)


def _households(n):
    for _ in range(n):
        make_household(members=[UserFactory()])


def _invitations(n):
    InvitationFactory.create_batch(n)


def _budgets(n):
    for i in range(n):
        BudgetFactory(currency=["EUR", "JPY", "BHD"][i % 3], amount_minor=1_230 + i)


def _categories(n):
    for i in range(n):
        CategoryFactory(allocated_minor=None if i % 2 else 2_500)


def _transactions(n):
    for _ in range(n):
        budget = BudgetFactory()
        TransactionFactory(budget=budget, category=CategoryFactory(budget=budget))


CHANGE_LISTS = {
    "user": ("/admin/accounts/user/", _users, User),
    "household": ("/admin/households/household/", _households, Household),
    "invitation": ("/admin/households/invitation/", _invitations, Invitation),
    "budget": (BUDGETS_ADMIN, _budgets, Budget),
    "category": ("/admin/budgets/category/", _categories, Category),
    "transaction": ("/admin/transactions/transaction/", _transactions, Transaction),
}


@pytest.mark.parametrize("name", list(CHANGE_LISTS))
def test_change_list_queries_do_not_grow_with_its_rows(root, name, django_assert_max_num_queries):
    url, build, model = CHANGE_LISTS[name]
    build(1)
    assert root.get(url).status_code == 200  # warms the caches a first request fills
    with CaptureQueriesContext(connection) as at_one_row:
        one = root.get(url)
    assert one.status_code == 200
    build(29)

    with django_assert_max_num_queries(len(at_one_row)):
        full = root.get(url)

    assert full.status_code == 200
    changelist = full.context["cl"]
    assert changelist.result_count == model.objects.count() >= 30
    assert len(changelist.result_list) == model.objects.count()


def test_budget_change_list_shows_amounts_exactly_with_their_currency(root):
    owner = UserFactory(email="owner@example.com")
    BudgetFactory(owner=owner, name="Food", amount_minor=1_230, currency="EUR")
    BudgetFactory(owner=owner, name="Ramen", amount_minor=1_500, currency="JPY")
    BudgetFactory(owner=owner, name="Souq", amount_minor=1_250, currency="BHD")

    html = root.get(BUDGETS_ADMIN).content.decode()

    for amount in ("12.30 EUR", "1500 JPY", "1.250 BHD"):
        assert f'<td class="field-amount_display">{amount}</td>' in html, amount
    assert "owner@example.com" in html


def test_category_and_transaction_change_lists_show_money_in_the_budget_currency(root):
    budget = BudgetFactory(name="Souq", currency="BHD")
    category = CategoryFactory(budget=budget, name="Spice", allocated_minor=2_500)
    CategoryFactory(budget=budget, name="Open", allocated_minor=None)
    TransactionFactory(budget=budget, category=category, amount_minor=12_345)

    categories = root.get("/admin/budgets/category/").content.decode()
    transactions = root.get("/admin/transactions/transaction/").content.decode()

    assert '<td class="field-allocated_display">2.500 BHD</td>' in categories
    assert '<td class="field-allocated_display">-</td>' in categories
    assert '<td class="field-amount_display">12.345 BHD</td>' in transactions
    assert "Spice" in transactions


def test_household_change_list_counts_members_and_the_page_shows_them(root):
    owner = UserFactory(email="hh-owner@example.com")
    household = make_household(owner, name="Home", members=[UserFactory(email="hh-member@example.com")])

    listing = root.get("/admin/households/household/").content.decode()
    page = root.get(f"/admin/households/household/{household.pk}/change/").content.decode()

    assert '<td class="field-member_count">2</td>' in listing
    assert "hh-owner@example.com" in page and "hh-member@example.com" in page


def test_change_lists_search_and_filter(root):
    BudgetFactory(name="Holiday", currency="JPY", owner=UserFactory(email="traveller@example.com"))
    BudgetFactory(name="Rent", currency="EUR")

    by_owner = root.get(BUDGETS_ADMIN, {"q": "traveller"}).context["cl"]
    by_currency = root.get(BUDGETS_ADMIN, {"currency__exact": "EUR"}).context["cl"]

    assert [b.name for b in by_owner.result_list] == ["Holiday"]
    assert [b.name for b in by_currency.result_list] == ["Rent"]


# --- read-only data, deletes through the services ----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/budgets/budget/add/",
        "/admin/budgets/category/add/",
        "/admin/transactions/transaction/add/",
        "/admin/households/household/add/",
        "/admin/households/invitation/add/",
    ],
)
def test_nothing_is_added_in_the_admin(root, url):
    assert root.get(url).status_code == 403


def test_budgets_are_read_only_in_the_admin(root):
    budget = BudgetFactory(name="Food")
    before = list(Budget.objects.values())

    page = root.get(f"{BUDGETS_ADMIN}{budget.pk}/change/")
    post = root.post(f"{BUDGETS_ADMIN}{budget.pk}/change/", {"name": "Changed"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    assert list(Budget.objects.values()) == before


def test_a_household_is_renamed_through_its_service(root):
    household = make_household(name="Home")
    before = Household.objects.get(pk=household.pk)

    response = root.post(
        f"/admin/households/household/{household.pk}/change/",
        {
            "name": "Villa",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302
    after = Household.objects.get(pk=household.pk)
    assert after.name == "Villa"
    assert after.updated_at > before.updated_at
    assert after.group_id == before.group_id
    assert Membership.objects.filter(household=household).count() == 1


def test_deleting_a_household_in_the_admin_ends_memberships_and_shares(root):
    owner, member = UserFactory(), UserFactory()
    household = make_household(owner, members=[member])
    budget = BudgetFactory(owner=owner)
    share_household(budget, household, "edit")
    share_user(budget, member, "view")
    group_id = household.group_id

    response = root.post(f"/admin/households/household/{household.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Household.objects.filter(pk=household.pk).exists()
    assert not Group.objects.filter(pk=group_id).exists()
    assert not BudgetGroupObjectPermission.objects.exists()
    assert not BudgetUserObjectPermission.objects.exists()  # no household in common any more


def _bulk_delete(client, url, pks):
    return client.post(url, {"action": "delete_selected", "_selected_action": pks, "post": "yes"})


def test_deleting_a_household_in_the_admin_goes_through_the_service(root):
    households = [make_household() for _ in range(3)]

    assert (
        root.post(f"/admin/households/household/{households[0].pk}/delete/", {"post": "yes"}).status_code
        == 302
    )
    assert _bulk_delete(root, "/admin/households/household/", [households[1].pk]).status_code == 302

    assert list(Household.objects.values_list("pk", flat=True)) == [households[2].pk]


READ_ONLY = {
    "budget": (BUDGETS_ADMIN, lambda: BudgetFactory(), Budget),
    "category": ("/admin/budgets/category/", lambda: CategoryFactory(), Category),
    "transaction": ("/admin/transactions/transaction/", lambda: TransactionFactory(), Transaction),
}


@pytest.mark.parametrize("name", list(READ_ONLY))
def test_budgets_categories_and_transactions_are_never_deleted_in_the_admin(root, name):
    url, build, model = READ_ONLY[name]
    rows = [build(), build()]
    before = list(model.objects.order_by("pk").values())

    page = root.get(f"{url}{rows[0].pk}/change/")
    change_list = root.get(url)
    confirm = root.get(f"{url}{rows[0].pk}/delete/")
    delete = root.post(f"{url}{rows[0].pk}/delete/", {"post": "yes"})
    bulk = _bulk_delete(root, url, [row.pk for row in rows])

    assert page.status_code == 200
    assert "deletelink" not in page.content.decode()  # no "Delete" button
    assert change_list.status_code == 200
    assert 'value="delete_selected"' not in change_list.content.decode()  # no bulk action offered
    assert confirm.status_code == 403
    assert delete.status_code == 403
    assert bulk.status_code in (200, 302)  # an action it does not offer: "No action selected."
    assert list(model.objects.order_by("pk").values()) == before


def test_a_household_can_still_be_deleted_from_its_page(root):
    household = make_household()

    page = root.get(f"/admin/households/household/{household.pk}/change/")

    assert "deletelink" in page.content.decode()
    change_list = root.get("/admin/households/household/").content.decode()
    assert 'value="delete_selected"' in change_list


def test_invitations_are_read_only_in_the_admin(root):
    invitation = InvitationFactory()
    page = root.get(f"/admin/households/invitation/{invitation.pk}/change/")
    delete = root.post(f"/admin/households/invitation/{invitation.pk}/delete/", {"post": "yes"})
    assert page.status_code == 200
    assert invitation.email in page.content.decode()
    assert delete.status_code == 403
    assert Invitation.objects.filter(pk=invitation.pk).exists()


# --- the object-permissions pages ---------------------------------------------------------


@pytest.fixture
def grants_world(db):
    owner = UserFactory(email="owner@example.com")
    member = UserFactory(email="member@example.com")
    home = make_household(owner, name="Home", members=[member])
    away = make_household(UserFactory(email="away@example.com"), name="Away")
    budget = BudgetFactory(owner=owner, name="Groceries")
    granter = staff("granter@example.com", "manage_grants")
    return {
        "owner": owner,
        "member": member,
        "outsider": UserFactory(email="outsider@example.com"),
        "home": home,
        "away": away,
        "budget": budget,
        "granter": granter,
        "admin": logged_in(granter),
    }


# What a browser sends when every box is cleared: the CSRF token and nothing else (the
# test client does not check it; guardian treats an entirely empty POST as no form at all).
NOTHING_CHECKED = {"csrfmiddlewaretoken": "token"}


def perms_url(budget, suffix="") -> str:
    return f"{BUDGETS_ADMIN}{budget.pk}/permissions/{suffix}"


def user_rows(budget, user):
    return [
        (r.permission.codename, r.source, r.granted_by_id)
        for r in BudgetUserObjectPermission.objects.filter(content_object=budget, user=user)
        .select_related("permission")
        .order_by("permission__codename")
    ]


def group_rows(budget, household):
    return [
        (r.permission.codename, r.source, r.granted_by_id)
        for r in BudgetGroupObjectPermission.objects.filter(
            content_object=budget, group_id=household.group_id
        )
        .select_related("permission")
        .order_by("permission__codename")
    ]


def api_grants(client_for, granter, **filters):
    response = client_for(granter).get(GRANTS, filters)
    assert response.status_code == 200
    return response.json()["results"]


def test_admin_picks_a_user_by_email_and_grants_view(grants_world, client_for):
    g = grants_world
    budget, outsider = g["budget"], g["outsider"]

    picked = g["admin"].post(perms_url(budget), {"user": " Outsider@Example.COM ", "submit_manage_user": "1"})
    assert picked.status_code == 302
    assert picked["Location"] == perms_url(budget, f"user-manage/{outsider.pk}/")

    page = g["admin"].get(picked["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    boxes = re.findall(r'<input type="checkbox" name="permissions" value="(\w+)"', html)
    assert boxes == ["view_budget", "change_budget"]

    saved = g["admin"].post(picked["Location"], {"permissions": ["view_budget"]})

    assert saved.status_code == 302
    assert user_rows(budget, outsider) == [("view_budget", "admin", g["granter"].pk)]
    (grant,) = api_grants(client_for, g["granter"], user=outsider.pk)
    assert (grant["permission"], grant["granted_by"], grant["granted_by_user"]) == (
        "view",
        "admin",
        {"id": g["granter"].pk, "email": "granter@example.com"},
    )
    detail = client_for(outsider).get(f"/api/v1/budgets/{budget.pk}/")
    assert detail.status_code == 200
    assert detail.json()["my_permissions"] == ["view"]


def test_change_on_the_admin_page_includes_view(grants_world, client_for):
    g = grants_world
    url = perms_url(g["budget"], f"user-manage/{g['outsider'].pk}/")

    assert g["admin"].post(url, {"permissions": ["change_budget"]}).status_code == 302

    assert user_rows(g["budget"], g["outsider"]) == [
        ("change_budget", "admin", g["granter"].pk),
        ("view_budget", "admin", g["granter"].pk),
    ]
    (grant,) = api_grants(client_for, g["granter"], user=g["outsider"].pk)
    assert grant["permission"] == "edit"


def test_clearing_both_boxes_revokes(grants_world, client_for):
    g = grants_world
    client_for(g["granter"]).post(
        GRANTS, {"budget": g["budget"].pk, "user": g["outsider"].pk, "permission": "edit"}, format="json"
    )
    url = perms_url(g["budget"], f"user-manage/{g['outsider'].pk}/")
    assert sorted(g["admin"].get(url).context["form"]["permissions"].value()) == [
        "change_budget",
        "view_budget",
    ]

    assert g["admin"].post(url, NOTHING_CHECKED).status_code == 302

    assert user_rows(g["budget"], g["outsider"]) == []
    assert api_grants(client_for, g["granter"], user=g["outsider"].pk) == []
    assert client_for(g["outsider"]).get(f"/api/v1/budgets/{g['budget'].pk}/").status_code == 404


def test_clearing_both_boxes_for_someone_without_a_grant_changes_nothing(grants_world):
    g = grants_world
    url = perms_url(g["budget"], f"user-manage/{g['outsider'].pk}/")
    assert g["admin"].post(url, NOTHING_CHECKED).status_code == 302
    assert user_rows(g["budget"], g["outsider"]) == []


def test_api_grants_show_on_the_admin_pages(grants_world, client_for):
    g = grants_world
    api = client_for(g["granter"])
    api.post(
        GRANTS, {"budget": g["budget"].pk, "user": g["outsider"].pk, "permission": "edit"}, format="json"
    )
    api.post(
        GRANTS, {"budget": g["budget"].pk, "household": g["away"].pk, "permission": "view"}, format="json"
    )

    page = g["admin"].get(perms_url(g["budget"]))
    user_page = g["admin"].get(perms_url(g["budget"], f"user-manage/{g['outsider'].pk}/"))
    group_page = g["admin"].get(perms_url(g["budget"], f"group-manage/{g['away'].group_id}/"))

    assert page.status_code == user_page.status_code == group_page.status_code == 200
    users = {str(u): sorted(p) for u, p in page.context["users_perms"].items()}
    groups = {str(gr): sorted(p) for gr, p in page.context["groups_perms"].items()}
    assert users == {"outsider@example.com": ["change_budget", "view_budget"]}
    assert groups == {f"household:{g['away'].pk}": ["view_budget"]}
    assert [p.codename for p in page.context["model_perms"]] == ["view_budget", "change_budget"]
    assert sorted(user_page.context["form"]["permissions"].value()) == ["change_budget", "view_budget"]
    assert list(group_page.context["form"]["permissions"].value()) == ["view_budget"]


def test_saving_an_owner_share_unchanged_keeps_it_the_owners(grants_world):
    g = grants_world
    share_user(g["budget"], g["member"], "view")
    before = list(BudgetUserObjectPermission.objects.values())

    url = perms_url(g["budget"], f"user-manage/{g['member'].pk}/")
    assert g["admin"].post(url, {"permissions": ["view_budget"]}).status_code == 302

    assert list(BudgetUserObjectPermission.objects.values()) == before
    assert user_rows(g["budget"], g["member"]) == [("view_budget", "owner", g["owner"].pk)]


def test_changing_an_owner_share_makes_it_an_admin_grant(grants_world):
    g = grants_world
    share_user(g["budget"], g["member"], "view")
    url = perms_url(g["budget"], f"user-manage/{g['member'].pk}/")

    assert g["admin"].post(url, {"permissions": ["view_budget", "change_budget"]}).status_code == 302

    assert user_rows(g["budget"], g["member"]) == [
        ("change_budget", "admin", g["granter"].pk),
        ("view_budget", "admin", g["granter"].pk),
    ]


@pytest.mark.parametrize("codename", ["delete_budget", "add_budget", "manage_grants", "share"])
def test_the_admin_page_offers_only_view_and_change(grants_world, codename):
    g = grants_world
    url = perms_url(g["budget"], f"user-manage/{g['outsider'].pk}/")

    response = g["admin"].post(url, {"permissions": [codename]})

    assert response.status_code == 200
    assert "permissions" in response.context["form"].errors
    assert user_rows(g["budget"], g["outsider"]) == []


def test_the_owner_cannot_be_granted_on_the_admin_page(grants_world):
    g = grants_world
    url = perms_url(g["budget"], f"user-manage/{g['owner'].pk}/")

    response = g["admin"].post(url, {"permissions": ["view_budget"]})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This user owns the budget and already holds every right on it."
    ]
    assert not BudgetUserObjectPermission.objects.filter(user=g["owner"]).exists()


def test_an_unknown_email_is_a_form_error(grants_world):
    g = grants_world
    response = g["admin"].post(
        perms_url(g["budget"]), {"user": "nobody@example.com", "submit_manage_user": "1"}
    )
    assert response.status_code == 200
    assert response.context["user_form"].errors == {"user": ["No user has this email."]}


@pytest.mark.parametrize("typed", ["household:{pk}", "{pk}", " household:{pk} "])
def test_admin_picks_a_household_and_grants_it(grants_world, client_for, typed):
    g = grants_world
    away = g["away"]

    picked = g["admin"].post(
        perms_url(g["budget"]), {"group": typed.format(pk=away.pk), "submit_manage_group": "1"}
    )
    assert picked.status_code == 302
    assert picked["Location"] == perms_url(g["budget"], f"group-manage/{away.group_id}/")

    assert g["admin"].post(picked["Location"], {"permissions": ["view_budget"]}).status_code == 302

    assert group_rows(g["budget"], away) == [("view_budget", "admin", g["granter"].pk)]
    (grant,) = api_grants(client_for, g["granter"], household=away.pk)
    assert (grant["grantee"], grant["granted_by"]) == ({"id": away.pk, "name": "Away"}, "admin")
    away_owner = User.objects.get(email="away@example.com")
    assert client_for(away_owner).get(f"/api/v1/budgets/{g['budget'].pk}/").status_code == 200


def _household_rows(html: str) -> list[str]:
    """The first cell of each row of the grants page's household table."""
    table = html.split('id="group-permissions"', 1)[1].split("</table>", 1)[0]
    return [cell.strip() for cell in re.findall(r"<tr>\s*<td>(.*?)</td>", table, re.S)]


def test_the_grants_pages_name_a_household_not_its_group(grants_world):
    g = grants_world
    share_household(g["budget"], g["home"], "edit")
    away = g["away"]
    g["admin"].post(
        perms_url(g["budget"], f"group-manage/{away.group_id}/"), {"permissions": ["view_budget"]}
    )

    page = g["admin"].get(perms_url(g["budget"]))
    household_page = g["admin"].get(perms_url(g["budget"], f"group-manage/{g['home'].group_id}/"))

    assert page.status_code == 200
    html = page.content.decode()
    assert sorted(_household_rows(html)) == [
        f"Away (household {away.pk})",
        f"Home (household {g['home'].pk})",
    ]
    assert f"household:{g['home'].pk}<" not in html and f"household:{away.pk}<" not in html
    assert f'href="group-manage/{g["home"].group_id}/"' in html  # the edit links still work
    assert household_page.status_code == 200
    body = household_page.content.decode()
    assert f"Manage household: Home (household {g['home'].pk})" in body
    assert f"<label>Household</label>Home (household {g['home'].pk})" in body
    assert f"household:{g['home'].pk}" not in body


def test_clearing_a_household_grant_on_the_admin_page_revokes_it(grants_world, client_for):
    g = grants_world
    share_household(g["budget"], g["home"], "edit")
    url = perms_url(g["budget"], f"group-manage/{g['home'].group_id}/")

    assert g["admin"].post(url, NOTHING_CHECKED).status_code == 302

    assert group_rows(g["budget"], g["home"]) == []
    assert client_for(g["member"]).get(f"/api/v1/budgets/{g['budget'].pk}/").status_code == 404


@pytest.mark.parametrize(
    "typed", ["household:987654", "987654", f"household:{10**20}", "Away", "not-a-household", ""]
)
def test_only_households_can_be_picked(grants_world, typed):
    g = grants_world
    Group.objects.create(name="not-a-household")
    response = g["admin"].post(perms_url(g["budget"]), {"group": typed, "submit_manage_group": "1"})
    assert response.status_code == 200
    assert "group" in response.context["group_form"].errors


def test_a_group_that_is_not_a_household_has_no_grants_page(grants_world):
    g = grants_world
    stray = Group.objects.create(name="not-a-household")
    url = perms_url(g["budget"], f"group-manage/{stray.pk}/")
    assert g["admin"].get(url).status_code == 404
    assert g["admin"].post(url, {"permissions": ["view_budget"]}).status_code == 404
    assert not BudgetGroupObjectPermission.objects.exists()


@pytest.mark.parametrize(
    "suffix",
    [
        "abc/permissions/",
        "1/permissions/user-manage/abc/",
        "1/permissions/group-manage/x/",
        "99999/permissions/",
        f"{10**20}/permissions/",
        f"1/permissions/user-manage/{10**20}/",
    ],
)
def test_bad_ids_on_the_grants_pages_are_a_404(grants_world, suffix):
    assert grants_world["admin"].get(f"{BUDGETS_ADMIN}{suffix}").status_code == 404


def test_the_object_permissions_link_shows_only_to_those_who_may_use_it(grants_world):
    g = grants_world
    viewer = logged_in(staff("viewer@example.com", "view_budget"))
    url = f"{BUDGETS_ADMIN}{g['budget'].pk}/change/"

    mine = g["admin"].get(url).content.decode()
    theirs = viewer.get(url)

    assert 'class="permissionslink"' in mine
    assert theirs.status_code == 200
    assert 'class="permissionslink"' not in theirs.content.decode()


# --- who may reach which admin page (OWASP API5) -----------------------------------------

ADMIN_ACTORS = ("anonymous", "plain", "household_owner", "staff", "granter")


def _admin_routes(g):
    budget, outsider, away = g["budget"], g["outsider"], g["away"]
    return {
        "budget-list": ("get", BUDGETS_ADMIN, None),
        "budget-page": ("get", f"{BUDGETS_ADMIN}{budget.pk}/change/", None),
        "grants-page": ("get", perms_url(budget), None),
        "grants-pick-user": (
            "post",
            perms_url(budget),
            {"user": outsider.email, "submit_manage_user": "1"},
        ),
        "grants-user-page": ("get", perms_url(budget, f"user-manage/{outsider.pk}/"), None),
        "grants-user-save": (
            "post",
            perms_url(budget, f"user-manage/{outsider.pk}/"),
            {"permissions": ["view_budget"]},
        ),
        "grants-household-page": ("get", perms_url(budget, f"group-manage/{away.group_id}/"), None),
        "grants-household-save": (
            "post",
            perms_url(budget, f"group-manage/{away.group_id}/"),
            {"permissions": ["change_budget"]},
        ),
        "category-list": ("get", "/admin/budgets/category/", None),
        "transaction-list": ("get", "/admin/transactions/transaction/", None),
        "household-list": ("get", "/admin/households/household/", None),
        "invitation-list": ("get", "/admin/households/invitation/", None),
        "user-list": ("get", "/admin/accounts/user/", None),
    }


GRANTER_ALLOWED = {
    "budget-list": 200,
    "budget-page": 200,
    "grants-page": 200,
    "grants-pick-user": 302,
    "grants-user-page": 200,
    "grants-user-save": 302,
    "grants-household-page": 200,
    "grants-household-save": 302,
}
ADMIN_ROUTES = [
    *GRANTER_ALLOWED,
    "category-list",
    "transaction-list",
    "household-list",
    "invitation-list",
    "user-list",
]


def _grant_rows():
    return sorted(
        [
            ("u", *r)
            for r in BudgetUserObjectPermission.objects.values_list("content_object", "user", "permission")
        ]
        + [
            ("g", *r)
            for r in BudgetGroupObjectPermission.objects.values_list("content_object", "group", "permission")
        ]
    )


@pytest.mark.parametrize("route", ADMIN_ROUTES)
@pytest.mark.parametrize("actor", ADMIN_ACTORS)
def test_admin_pages_by_actor(grants_world, actor, route):
    g = grants_world
    user = {
        "anonymous": None,
        "plain": g["member"],
        "household_owner": g["owner"],
        "staff": staff("staff@example.com"),
        "granter": g["granter"],
    }[actor]
    method, url, body = _admin_routes(g)[route]
    before = _grant_rows()

    response = getattr(logged_in(user), method)(url, body or {})

    if actor in ("anonymous", "plain", "household_owner"):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")
        assert _grant_rows() == before
    elif actor == "staff" or route not in GRANTER_ALLOWED:
        assert response.status_code == 403
        assert _grant_rows() == before
    else:
        assert response.status_code == GRANTER_ALLOWED[route]
        if route == "grants-user-save":
            assert user_rows(g["budget"], g["outsider"]) == [("view_budget", "admin", g["granter"].pk)]
        elif route == "grants-household-save":
            assert group_rows(g["budget"], g["away"]) == [
                ("change_budget", "admin", g["granter"].pk),
                ("view_budget", "admin", g["granter"].pk),
            ]
        else:
            assert _grant_rows() == before


def test_staff_with_every_budget_model_permission_but_manage_grants_cannot_grant(grants_world):
    g = grants_world
    almost = logged_in(
        staff("almost@example.com", "view_budget", "change_budget", "delete_budget", "add_budget")
    )
    url = perms_url(g["budget"], f"user-manage/{g['outsider'].pk}/")

    assert almost.get(BUDGETS_ADMIN).status_code == 200
    assert almost.get(perms_url(g["budget"])).status_code == 403
    assert almost.post(url, {"permissions": ["view_budget"]}).status_code == 403
    assert user_rows(g["budget"], g["outsider"]) == []
