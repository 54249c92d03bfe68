"""Access never outlives membership, and deleting things leaves no permission row behind."""

import pytest
from django.contrib.auth.models import Group
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from households.models import Household
from households.tests.factories import InvitationFactory, make_household

pytestmark = pytest.mark.django_db

BUDGETS = "/api/v1/budgets/"
HOUSEHOLDS = "/api/v1/households/"


@pytest.fixture
def people():
    """Home: ann (owner), ben, cat, dan. Work: ann (owner) and cat, so ann and cat
    keep a household in common when cat leaves Home. Pub: ben (owner) and eve."""
    names = ("ann", "ben", "cat", "dan", "eve")
    users = {name: UserFactory(email=f"{name}@example.com") for name in names}
    home = make_household(users["ann"], name="Home", members=[users["ben"], users["cat"], users["dan"]])
    work = make_household(users["ann"], name="Work", members=[users["cat"]])
    pub = make_household(users["ben"], name="Pub", members=[users["eve"]])
    return users, {"home": home, "work": work, "pub": pub}


def _sees(client_for, user, budget) -> int:
    return client_for(user).get(f"{BUDGETS}{budget.pk}/").status_code


def _user_share(budget, user) -> bool:
    return BudgetUserObjectPermission.objects.filter(content_object=budget, user=user).exists()


def _group_share(budget, household) -> bool:
    return BudgetGroupObjectPermission.objects.filter(content_object=budget, group=household.group).exists()


def _missing_budget_404(client_for, user) -> bytes:
    response = client_for(user).get(f"{BUDGETS}987654321/")
    assert response.status_code == 404
    return response.content


def test_leaver_loses_household_and_user_shares_from_that_household(people, client_for):
    users, households = people
    home = households["home"]
    by_household = BudgetFactory(owner=users["ann"], name="Home bills")
    share_household(by_household, home, "view")
    by_owner = BudgetFactory(owner=users["ann"], name="Ann's savings")
    share_user(by_owner, users["ben"], "edit")
    by_member = BudgetFactory(owner=users["dan"], name="Dan's hobby")
    share_user(by_member, users["ben"], "view")
    for budget in (by_household, by_owner, by_member):
        assert _sees(client_for, users["ben"], budget) == 200

    response = client_for(users["ben"]).post(f"{HOUSEHOLDS}{home.pk}/leave/")
    assert response.status_code == 204, response.content

    missing = _missing_budget_404(client_for, users["ben"])
    for budget in (by_household, by_owner, by_member):
        gone = client_for(users["ben"]).get(f"{BUDGETS}{budget.pk}/")
        assert gone.status_code == 404
        assert gone.content == missing
    assert not _user_share(by_owner, users["ben"])
    assert not _user_share(by_member, users["ben"])
    assert _group_share(by_household, home)  # the household keeps its share; ben is just not in it
    assert client_for(users["ben"]).get(BUDGETS).json()["count"] == 0
    assert _sees(client_for, users["cat"], by_household) == 200


def test_removed_member_loses_shares_from_that_household(people, client_for):
    users, households = people
    home = households["home"]
    by_household = BudgetFactory(owner=users["ann"])
    share_household(by_household, home, "edit")
    by_owner = BudgetFactory(owner=users["ann"])
    share_user(by_owner, users["dan"], "view")

    response = client_for(users["ann"]).delete(f"{HOUSEHOLDS}{home.pk}/members/{users['dan'].pk}/")
    assert response.status_code == 204, response.content

    assert _sees(client_for, users["dan"], by_household) == 404
    assert _sees(client_for, users["dan"], by_owner) == 404
    assert not _user_share(by_owner, users["dan"])
    assert client_for(users["dan"]).get(BUDGETS).json()["count"] == 0


def test_share_with_someone_still_in_another_common_household_survives(people, client_for):
    users, households = people
    ann_to_cat = BudgetFactory(owner=users["ann"], name="Ann to Cat")
    share_user(ann_to_cat, users["cat"], "edit")
    cat_to_ann = BudgetFactory(owner=users["cat"], name="Cat to Ann")
    share_user(cat_to_ann, users["ann"], "view")
    cat_to_dan = BudgetFactory(owner=users["cat"], name="Cat to Dan")
    share_user(cat_to_dan, users["dan"], "view")

    response = client_for(users["cat"]).post(f"{HOUSEHOLDS}{households['home'].pk}/leave/")
    assert response.status_code == 204, response.content

    # ann and cat still share Work; cat and dan shared only Home.
    assert _user_share(ann_to_cat, users["cat"]) and _user_share(cat_to_ann, users["ann"])
    assert client_for(users["cat"]).get(f"{BUDGETS}{ann_to_cat.pk}/").json()["my_permissions"] == [
        "view",
        "change",
    ]
    assert _sees(client_for, users["ann"], cat_to_ann) == 200
    assert not _user_share(cat_to_dan, users["dan"])
    assert _sees(client_for, users["dan"], cat_to_dan) == 404


def test_leavers_own_budgets_stop_being_shared_with_that_household(people, client_for):
    users, households = people
    home, pub = households["home"], households["pub"]
    bens = BudgetFactory(owner=users["ben"], name="Ben's budget")
    share_household(bens, home, "edit")
    share_household(bens, pub, "view")
    share_user(bens, users["eve"], "edit")
    assert _sees(client_for, users["dan"], bens) == 200

    response = client_for(users["ben"]).post(f"{HOUSEHOLDS}{home.pk}/leave/")
    assert response.status_code == 204, response.content

    assert not _group_share(bens, home)
    assert _sees(client_for, users["dan"], bens) == 404
    assert _group_share(bens, pub) and _user_share(bens, users["eve"])
    assert _sees(client_for, users["eve"], bens) == 200
    shares = client_for(users["ben"]).get(f"{BUDGETS}{bens.pk}/shares/").json()
    assert [(s["grantee_type"], s["grantee"]["id"]) for s in shares] == [
        ("user", users["eve"].pk),
        ("household", pub.pk),
    ]


def test_shares_between_people_outside_the_household_are_untouched(people, client_for):
    users, households = people
    bens = BudgetFactory(owner=users["ben"])
    share_user(bens, users["eve"], "view")
    anns = BudgetFactory(owner=users["ann"])
    share_user(anns, users["cat"], "view")

    response = client_for(users["dan"]).post(f"{HOUSEHOLDS}{households['home'].pk}/leave/")
    assert response.status_code == 204

    assert _user_share(bens, users["eve"]) and _user_share(anns, users["cat"])


def test_joining_a_household_grants_its_shares_at_once(people, client_for):
    users, households = people
    anns = BudgetFactory(owner=users["ann"])
    share_household(anns, households["home"], "view")
    newcomer = UserFactory()
    invitation = InvitationFactory(
        household=households["home"], email=newcomer.email, invited_by=users["ann"]
    )
    assert _sees(client_for, newcomer, anns) == 404

    accepted = client_for(newcomer).post(f"/api/v1/invitations/{invitation.pk}/accept/")
    assert accepted.status_code == 200, accepted.content

    response = client_for(newcomer).get(f"{BUDGETS}{anns.pk}/")
    assert response.status_code == 200
    assert response.json()["my_permissions"] == ["view"]


def test_rejoining_does_not_bring_old_user_shares_back(people, client_for):
    users, households = people
    home = households["home"]
    anns = BudgetFactory(owner=users["ann"])
    share_user(anns, users["dan"], "edit")
    client_for(users["dan"]).post(f"{HOUSEHOLDS}{home.pk}/leave/")
    home.memberships.create(user=users["dan"])
    home.group.user_set.add(users["dan"])
    assert _sees(client_for, users["dan"], anns) == 404


# Nothing orphaned -------------------------------------------------------------------------


def _permission_rows() -> dict[str, int]:
    return {
        "budget_user": BudgetUserObjectPermission.objects.count(),
        "budget_group": BudgetGroupObjectPermission.objects.count(),
        "guardian_user": UserObjectPermission.objects.count(),
        "guardian_group": GroupObjectPermission.objects.count(),
    }


def _only(*, user: int, group: int) -> dict[str, int]:
    """Budget grants in the direct foreign-key tables; never a generic guardian row."""
    return {"budget_user": user, "budget_group": group, "guardian_user": 0, "guardian_group": 0}


@pytest.fixture
def shared(people):
    """ann's budget shared with ben (edit), dan (view) and Home (view); ben's budget
    shared with ann (view) and Pub (edit)."""
    users, households = people
    anns = BudgetFactory(owner=users["ann"])
    CategoryFactory(budget=anns)
    share_user(anns, users["ben"], "edit")
    share_user(anns, users["dan"], "view")
    share_household(anns, households["home"], "view")
    bens = BudgetFactory(owner=users["ben"])
    share_user(bens, users["ann"], "view")
    share_household(bens, households["pub"], "edit")
    rows = _permission_rows()
    # Budget grants use the direct foreign-key tables only.
    assert rows == _only(user=4, group=3)
    return users, households, anns, bens


def test_deleting_a_budget_deletes_its_permission_rows(shared, client_for):
    users, _, anns, _ = shared
    response = client_for(users["ann"]).delete(f"{BUDGETS}{anns.pk}/")
    assert response.status_code == 204
    assert not Budget.objects.filter(pk=anns.pk).exists()
    assert not BudgetUserObjectPermission.objects.filter(content_object_id=anns.pk).exists()
    assert not BudgetGroupObjectPermission.objects.filter(content_object_id=anns.pk).exists()
    assert _permission_rows() == _only(user=1, group=2)


def test_deleting_a_sharee_deletes_their_permission_rows(shared):
    users, _, _, bens = shared
    users["ben"].delete()
    # ben's own budget and its shares go; so does ann's share with ben.
    assert not Budget.objects.filter(pk=bens.pk).exists()
    assert not BudgetUserObjectPermission.objects.filter(user_id=users["ben"].pk).exists()
    assert list(BudgetUserObjectPermission.objects.values_list("user_id", flat=True)) == [users["dan"].pk]
    assert _permission_rows() == _only(user=1, group=1)


def test_deleting_an_owner_deletes_every_share_of_their_budgets(shared):
    users, _, anns, bens = shared
    users["ann"].delete()
    assert not Budget.objects.filter(pk=anns.pk).exists()
    assert _permission_rows() == _only(user=0, group=2)
    assert set(BudgetGroupObjectPermission.objects.values_list("content_object_id", flat=True)) == {bens.pk}


def test_deleting_a_household_deletes_its_shares_and_the_user_shares_it_carried(shared, client_for):
    users, households, anns, bens = shared
    home = households["home"]
    group_pk = home.group_id
    response = client_for(users["ann"]).delete(f"{HOUSEHOLDS}{home.pk}/")
    assert response.status_code == 204, response.content

    assert not Household.objects.filter(pk=home.pk).exists()
    assert not Group.objects.filter(pk=group_pk).exists()
    assert not BudgetGroupObjectPermission.objects.filter(group_id=group_pk).exists()
    # ann and ben, ann and dan had only Home in common: those user shares go too.
    assert _permission_rows() == _only(user=0, group=2)
    for user in (users["ben"], users["dan"]):
        assert _sees(client_for, user, anns) == 404
    assert _sees(client_for, users["eve"], bens) == 200


def test_budgets_is_told_when_a_membership_ends():
    """households announces the end of a membership (households.signals); budgets' receiver
    is connected and revokes what the membership carried."""
    from unittest import mock

    from households.models import Membership
    from households.signals import membership_ended

    household, user = object(), object()
    with mock.patch("budgets.services.shares_revoke_on_departure") as revoke:
        membership_ended.send(sender=Membership, household=household, user=user)
    revoke.assert_called_once_with(household=household, user=user)
