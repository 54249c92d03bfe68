"""If-None-Match on GET (server/conditional.py, ConditionalGetMiddleware): 304 while the
caller's copy is current, 200 after any change to what the answer shows, and never a 304
that lets one caller's copy stand for what another may see. Also the versions behind it:
a membership is a new version of its household, a share of its budget (the triggers of
server/versioning.parent_version_triggers), and members and shares honour If-Match."""

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from budgets.models import BudgetGroupObjectPermission, BudgetUserObjectPermission
from budgets.tests.factories import BudgetFactory, share_household, share_user
from households import services as household_services
from households.models import Membership
from households.tests.factories import add_member, make_household
from server.conditional import CACHE_CONTROL, body_etag, if_none_match_hits
from server.tests.helpers import assert_error
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

TRANSACTIONS = "/api/v1/transactions/"


def budget_url(budget) -> str:
    return f"/api/v1/budgets/{budget.pk}/"


def revalidate(api, url, tag):
    return api.get(url, HTTP_IF_NONE_MATCH=tag)


def assert_not_modified(response, tag):
    assert response.status_code == 304, response.content
    assert response.content == b""
    assert response["ETag"] == tag
    assert response["Cache-Control"] == CACHE_CONTROL
    assert "Authorization" in response["Vary"]
    assert not response.has_header("Content-Type")


# One object -------------------------------------------------------------------------------


def test_an_unchanged_object_is_a_304_and_a_changed_one_a_200(client_for):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner, name="Food")
    api = client_for(owner)
    first = api.get(budget_url(budget))
    tag = first["ETag"]
    assert tag == f'"{budget.pk}-1"'
    assert first["Cache-Control"] == CACHE_CONTROL
    assert "Authorization" in first["Vary"]

    assert_not_modified(revalidate(api, budget_url(budget), tag), tag)

    assert api.patch(budget_url(budget), {"name": "Groceries"}).status_code == 200
    after = revalidate(api, budget_url(budget), tag)
    assert after.status_code == 200
    assert after.json()["name"] == "Groceries"
    assert after["ETag"] == f'"{budget.pk}-2"'


@pytest.mark.parametrize(
    ("header", "hits"),
    [
        ('"{tag}"', True),
        ('W/"{tag}"', True),  # weak comparison (RFC 9110 section 13.1.2)
        ('"x", "{tag}"', True),
        ("*", True),
        ('"{stale}"', False),
        ("{tag}", False),  # not an entity tag: ignored, the full answer
        ('"{tag}" junk', False),
        ("", False),
    ],
)
def test_if_none_match_is_a_list_of_tags_compared_weakly(client_for, header, hits):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    value = header.format(tag=f"{budget.pk}-1", stale=f"{budget.pk}-0")
    response = revalidate(client_for(owner), budget_url(budget), value)
    assert response.status_code == (304 if hits else 200)
    assert if_none_match_hits(value, f'"{budget.pk}-1"') is hits


def test_head_revalidates_as_get_does(client_for):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    api = client_for(owner)
    tag = api.get(budget_url(budget))["ETag"]
    assert api.head(budget_url(budget))["ETag"] == tag
    assert api.head(budget_url(budget), HTTP_IF_NONE_MATCH=tag).status_code == 304


def test_a_304_never_comes_before_the_callers_right_to_read(client_for, anon):
    owner, stranger = UserFactory(), UserFactory()
    budget = BudgetFactory(owner=owner)
    tag = client_for(owner).get(budget_url(budget))["ETag"]
    for tag_sent in (tag, "*"):
        assert_error(revalidate(client_for(stranger), budget_url(budget), tag_sent), 404, "not_found")
        assert_error(revalidate(anon, budget_url(budget), tag_sent), 401, "not_authenticated")


def test_a_share_is_a_new_version_of_the_budget_its_recipient_sees(client_for):
    """my_permissions is in the budget's JSON: giving, changing and ending a share each
    change the budget's ETag, so a sharee's copy never keeps rights it lost or lacks ones
    it gained."""
    owner, partner = UserFactory(), UserFactory()
    home = make_household(owner, members=[partner])
    budget = BudgetFactory(owner=owner)
    share_user(budget, partner, "view")
    api = client_for(partner)
    seen = api.get(budget_url(budget))
    assert seen.json()["my_permissions"] == ["view"]

    share_user(budget, partner, "edit")
    upgraded = revalidate(api, budget_url(budget), seen["ETag"])
    assert upgraded.status_code == 200
    assert upgraded.json()["my_permissions"] == ["view", "change"]

    share_household(budget, home, "view")  # another grantee's share: still a new version
    assert revalidate(api, budget_url(budget), upgraded["ETag"]).status_code == 200


@pytest.mark.parametrize("model", [BudgetUserObjectPermission, BudgetGroupObjectPermission])
def test_every_write_of_a_share_row_bumps_the_budget_whoever_writes_it(model):
    """The trigger, not the services: a row added, changed or removed through the ORM (the
    admin's way, a cascade) is a new version of its budget too."""
    owner, other = UserFactory(), UserFactory()
    budget = BudgetFactory(owner=owner)
    grantee = (
        {"user": other} if model is BudgetUserObjectPermission else {"group": make_household(other).group}
    )
    view, change = (Permission.objects.get(codename=c) for c in ("view_budget", "change_budget"))

    row = model.objects.create(content_object=budget, permission=view, **grantee)
    budget.refresh_from_db()
    assert budget.version == 2
    model.objects.filter(pk=row.pk).update(permission=change)
    budget.refresh_from_db()
    assert budget.version == 3
    model.objects.filter(pk=row.pk).delete()
    budget.refresh_from_db()
    assert budget.version == 4


# Households and their members --------------------------------------------------------------


def test_membership_changes_are_new_versions_of_the_household(client_for):
    """member_count and my_role are in the household's JSON."""
    owner, member, newcomer = UserFactory(), UserFactory(), UserFactory()
    home = make_household(owner, members=[member])
    url = f"/api/v1/households/{home.pk}/"
    api = client_for(member)
    first = api.get(url)
    assert first.json()["member_count"] == 2

    add_member(home, newcomer)
    joined = revalidate(api, url, first["ETag"])
    assert (joined.status_code, joined.json()["member_count"]) == (200, 3)

    promoted = client_for(owner).patch(f"{url}members/{member.pk}/", {"role": "admin"})
    assert promoted.status_code == 200
    mine = revalidate(api, url, joined["ETag"])
    assert (mine.status_code, mine.json()["my_role"]) == (200, "admin")

    Membership.objects.filter(household=home, user=newcomer).delete()
    left = revalidate(api, url, mine["ETag"])
    assert (left.status_code, left.json()["member_count"]) == (200, 2)
    assert_not_modified(revalidate(api, url, left["ETag"]), left["ETag"])


def test_a_new_household_starts_at_version_1(client_for):
    created = client_for(UserFactory()).post("/api/v1/households/", {"name": "Cabin"})
    assert created.status_code == 201
    assert created.json()["version"] == 1
    assert created["ETag"] == f'"{created.json()["id"]}-1"'


# Lists and other reads --------------------------------------------------------------------


def test_an_unchanged_list_is_a_304_and_any_change_a_200(client_for):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    tx = TransactionFactory(budget=budget, notes="first")
    api = client_for(owner)

    def tag_now():
        response = api.get(TRANSACTIONS)
        assert response.status_code == 200
        assert response["ETag"] == body_etag(response.content)
        return response["ETag"]

    tag = tag_now()
    assert_not_modified(revalidate(api, TRANSACTIONS, tag), tag)

    changes = [
        lambda: api.patch(f"{TRANSACTIONS}{tx.pk}/", {"notes": "changed"}),  # an item's version
        lambda: TransactionFactory(budget=budget),  # a new item and the count
        lambda: api.delete(f"{TRANSACTIONS}{tx.pk}/"),  # an item gone
    ]
    for change in changes:
        change()
        after = revalidate(api, TRANSACTIONS, tag)
        assert after.status_code == 200
        assert after["ETag"] != tag
        tag = after["ETag"]
        assert_not_modified(revalidate(api, TRANSACTIONS, tag), tag)


def test_another_callers_tag_never_stands_for_what_they_see(client_for):
    """Two people with different views of one list: neither's tag is a 304 for the other,
    and each gets their own body."""
    owner, viewer = UserFactory(), UserFactory()
    make_household(owner, members=[viewer])
    shared, private = BudgetFactory(owner=owner), BudgetFactory(owner=owner)
    share_user(shared, viewer, "view")
    TransactionFactory(budget=shared)
    hidden = TransactionFactory(budget=private, payee="Secret payee")

    owners = client_for(owner).get(TRANSACTIONS)
    viewers = revalidate(client_for(viewer), TRANSACTIONS, owners["ETag"])
    assert viewers.status_code == 200
    assert viewers["ETag"] != owners["ETag"]
    assert hidden.pk not in [row["id"] for row in viewers.json()["results"]]
    assert b"Secret payee" not in viewers.content
    assert revalidate(client_for(owner), TRANSACTIONS, viewers["ETag"]).status_code == 200


def test_every_json_read_revalidates_but_a_streamed_export_does_not(client_for):
    owner = UserFactory()
    TransactionFactory(budget=BudgetFactory(owner=owner))
    api = client_for(owner)
    me = api.get("/api/v1/auth/me/")
    assert_not_modified(revalidate(api, "/api/v1/auth/me/", me["ETag"]), me["ETag"])

    export = api.get(f"{TRANSACTIONS}export/", HTTP_IF_NONE_MATCH="*")
    assert export.status_code == 200
    assert not export.has_header("ETag")
    assert export["Cache-Control"] == CACHE_CONTROL


def test_writes_ignore_if_none_match_except_a_share_put(client_for):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    response = client_for(owner).patch(budget_url(budget), {"name": "New"}, HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 200


# If-Match on members and shares -----------------------------------------------------------


@pytest.fixture
def household_scene():
    owner, member = UserFactory(), UserFactory()
    home = make_household(owner, members=[member])
    return owner, member, home


def test_a_members_etag_guards_its_role_change(client_for, household_scene):
    owner, member, home = household_scene
    api = client_for(owner)
    listed = {m["user"]["id"]: m for m in api.get(f"/api/v1/households/{home.pk}/members/").json()}
    tag = f'"{listed[member.pk]["id"]}-{listed[member.pk]["version"]}"'
    url = f"/api/v1/households/{home.pk}/members/{member.pk}/"

    changed = api.patch(url, {"role": "admin"}, HTTP_IF_MATCH=tag)
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == f'"{listed[member.pk]["id"]}-{changed.json()["version"]}"' != tag

    stale = api.patch(url, {"role": "member"}, HTTP_IF_MATCH=tag)
    assert_error(stale, 412, "precondition_failed")
    assert stale["ETag"] == changed["ETag"]
    assert Membership.objects.get(household=home, user=member).role == "admin"

    refused = api.delete(url, HTTP_IF_MATCH=tag)
    assert_error(refused, 412, "precondition_failed")
    assert Membership.objects.filter(household=home, user=member).exists()
    assert api.delete(url, HTTP_IF_MATCH=changed["ETag"]).status_code == 204
    assert not Membership.objects.filter(household=home, user=member).exists()


def test_member_writes_need_if_match_where_it_is_required(client_for, household_scene, settings):
    settings.REQUIRE_IF_MATCH = True
    owner, member, home = household_scene
    url = f"/api/v1/households/{home.pk}/members/{member.pk}/"
    assert_error(client_for(owner).patch(url, {"role": "admin"}), 428, "precondition_required")
    assert_error(client_for(owner).delete(url), 428, "precondition_required")
    assert Membership.objects.get(household=home, user=member).role == "member"


def test_a_precondition_never_speaks_before_the_role_check(client_for, household_scene):
    owner, member, home = household_scene
    url = f"/api/v1/households/{home.pk}/members/{owner.pk}/"
    response = client_for(member).patch(url, {"role": "member"}, HTTP_IF_MATCH='"1-999"')
    assert_error(response, 403, "only_owner_changes_roles")


@pytest.fixture
def share_scene(household_scene):
    owner, member, _home = household_scene
    budget = BudgetFactory(owner=owner)
    return owner, member, budget, f"/api/v1/budgets/{budget.pk}/shares/users/{member.pk}/"


def test_a_shares_etag_guards_its_level_and_revocation(client_for, share_scene):
    owner, member, budget, url = share_scene
    api = client_for(owner)
    created = api.put(url, {"permission": "view"}, format="json")
    assert created.status_code == 201
    (listed,) = api.get(f"/api/v1/budgets/{budget.pk}/shares/").json()
    tag = f'"user{member.pk}-{listed["version"]}"'
    assert created["ETag"] == tag

    changed = api.put(url, {"permission": "edit"}, format="json", HTTP_IF_MATCH=tag)
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] > listed["version"]
    assert changed["ETag"] != tag

    stale = api.put(url, {"permission": "view"}, format="json", HTTP_IF_MATCH=tag)
    assert_error(stale, 412, "precondition_failed")
    assert stale["ETag"] == changed["ETag"]
    assert_error(api.delete(url, HTTP_IF_MATCH=tag), 412, "precondition_failed")
    assert api.get(f"/api/v1/budgets/{budget.pk}/shares/").json()[0]["permission"] == "edit"

    assert api.delete(url, HTTP_IF_MATCH="*").status_code == 204
    assert api.get(f"/api/v1/budgets/{budget.pk}/shares/").json() == []


def test_if_match_on_a_share_that_does_not_exist_fails_and_if_none_match_creates(client_for, share_scene):
    owner, member, budget, url = share_scene
    api = client_for(owner)
    for tag in ("*", f'"user{member.pk}-1"'):
        missing = api.put(url, {"permission": "view"}, format="json", HTTP_IF_MATCH=tag)
        assert_error(missing, 412, "precondition_failed")
        assert not missing.has_header("ETag")
    assert api.get(f"/api/v1/budgets/{budget.pk}/shares/").json() == []

    created = api.put(url, {"permission": "view"}, format="json", HTTP_IF_NONE_MATCH="*")
    assert created.status_code == 201
    again = api.put(url, {"permission": "edit"}, format="json", HTTP_IF_NONE_MATCH="*")
    assert_error(again, 412, "precondition_failed")
    assert again["ETag"] == created["ETag"]
    both = api.put(
        url, {"permission": "edit"}, format="json", HTTP_IF_NONE_MATCH="*", HTTP_IF_MATCH=created["ETag"]
    )
    assert_error(both, 400, "invalid_if_match")
    assert api.get(f"/api/v1/budgets/{budget.pk}/shares/").json()[0]["permission"] == "view"


def test_share_writes_need_a_precondition_where_it_is_required(client_for, share_scene, settings):
    settings.REQUIRE_IF_MATCH = True
    owner, _member, _budget, url = share_scene
    api = client_for(owner)
    assert_error(api.put(url, {"permission": "view"}, format="json"), 428, "precondition_required")
    created = api.put(url, {"permission": "view"}, format="json", HTTP_IF_NONE_MATCH="*")
    assert created.status_code == 201
    assert_error(api.delete(url), 428, "precondition_required")
    assert api.delete(url, HTTP_IF_MATCH=created["ETag"]).status_code == 204


def test_household_share_etags_name_the_household(client_for, household_scene):
    owner, _member, home = household_scene
    budget = BudgetFactory(owner=owner)
    url = f"/api/v1/budgets/{budget.pk}/shares/households/{home.pk}/"
    api = client_for(owner)
    created = api.put(url, {"permission": "view"}, format="json")
    version = created.json()["version"]
    assert created["ETag"] == f'"household{home.pk}-{version}"'
    stale = f'"household{home.pk}-{version - 1}"'
    assert_error(api.delete(url, HTTP_IF_MATCH=stale), 412, "precondition_failed")
    assert api.delete(url, HTTP_IF_MATCH=created["ETag"]).status_code == 204


def test_deleting_a_household_with_members_still_works_at_its_version(client_for, household_scene):
    """Removing its memberships bumps the household's version inside the deletion; the
    deletion itself must not then refuse the household as changed meanwhile."""
    owner, _member, home = household_scene
    url = f"/api/v1/households/{home.pk}/"
    tag = client_for(owner).get(url)["ETag"]
    assert client_for(owner).delete(url, HTTP_IF_MATCH=tag).status_code == 204
    household_services.household_create(name="Next", actor=owner)  # the owner is free again
