"""The scoping mechanisms' own settings, pinned: every caller uses the defaults today, so only
these tests notice when a scoped field, filter or viewset stops honouring the action it is
given (found by mutation testing, docs/testing.md)."""

from types import SimpleNamespace

import django_filters
import pytest
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.tests.factories import UserFactory
from budgets.models import Budget
from budgets.tests.factories import BudgetFactory, share_user
from households.models import Household, Invitation, Membership
from households.tests.factories import InvitationFactory, make_household
from permissions.fields import ScopedModelChoiceFilter, ScopedPrimaryKeyRelatedField, preload_scoped
from permissions.scoping import require, require_all
from permissions.viewsets import DEFAULT_ACTIONS, TenantViewSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared():
    """The owner's budget, shared with ``editor`` to edit and ``viewer`` to view."""
    owner, editor, viewer = UserFactory(), UserFactory(), UserFactory()
    make_household(owner, members=[editor, viewer])
    budget = BudgetFactory(owner=owner)
    share_user(budget, editor, "edit")
    share_user(budget, viewer, "view")
    return SimpleNamespace(budget=budget, owner=owner, editor=editor, viewer=viewer)


def resolve(field, user, value):
    field.bind("budget", serializers.Serializer(context={"request": SimpleNamespace(user=user)}))
    return field.to_internal_value(value)


def test_a_scoped_field_reads_at_its_action(shared):
    for_change = ScopedPrimaryKeyRelatedField(queryset=Budget.objects, scope_action="change")
    assert resolve(for_change, shared.editor, shared.budget.pk) == shared.budget
    with pytest.raises(serializers.ValidationError) as refused:
        resolve(
            ScopedPrimaryKeyRelatedField(queryset=Budget.objects, scope_action="change"),
            shared.viewer,
            shared.budget.pk,
        )
    assert refused.value.detail[0].code == "does_not_exist"
    assert (
        resolve(ScopedPrimaryKeyRelatedField(queryset=Budget.objects), shared.viewer, shared.budget.pk)
        == shared.budget
    )


def test_preloaded_rows_are_read_at_the_given_action(shared):
    assert preload_scoped(Budget, shared.viewer, [shared.budget.pk], scope_action="change") == {}
    assert preload_scoped(Budget, shared.editor, [shared.budget.pk], scope_action="change") == {
        shared.budget.pk: shared.budget
    }
    assert preload_scoped(Budget, shared.viewer, [shared.budget.pk]) == {shared.budget.pk: shared.budget}


def test_preloaded_ids_are_read_as_a_lookup_reads_them(shared):
    """Integers as they are, strings as the database would read them; a bool, a float, a
    list or an id beyond 64 bits names no row (True is not the id 1)."""
    budget = shared.budget
    own = BudgetFactory(owner=shared.viewer)
    assert budget.pk != own.pk
    odd = [True, False, float(budget.pk), [budget.pk], {"id": budget.pk}, None, 2**63, "x", ""]
    assert preload_scoped(Budget, shared.viewer, odd) == {}
    assert preload_scoped(Budget, shared.viewer, [*odd, f" {budget.pk} "]) == {budget.pk: budget}
    assert preload_scoped(Budget, shared.viewer, [*odd, own.pk, own.pk, f"+{budget.pk}"]) == {
        own.pk: own,
        budget.pk: budget,
    }


def filtered(user, scope_action=None):
    kwargs = {"scope_action": scope_action} if scope_action else {}

    class Filters(django_filters.FilterSet):
        budget = ScopedModelChoiceFilter(model=Budget, field_name="pk", **kwargs)

    request = RequestFactory().get("/")
    request.user = user
    return Filters(
        data={"budget": str(Budget.objects.get().pk)}, queryset=Budget.objects.all(), request=request
    )


def test_a_scoped_filter_reads_at_its_action(shared):
    assert filtered(shared.editor, "change").is_valid()
    refused = filtered(shared.viewer, "change")
    assert not refused.is_valid()
    assert refused.errors["budget"][0].startswith("Select a valid choice")
    assert filtered(shared.viewer).is_valid()


class Budgets(TenantViewSet):
    model = Budget


class BudgetsEditedHere(TenantViewSet):
    """Lists only what the caller may change, and asks "change" to delete."""

    model = Budget
    scope_actions = {"list": "change", "destroy": "change"}


def view_for(cls, user, action, *, detail):
    view = cls(action=action, detail=detail)
    view.request = SimpleNamespace(user=user)
    return view


def test_writes_ask_for_change_and_delete_by_default():
    assert DEFAULT_ACTIONS == {
        "list": "view",
        "retrieve": "view",
        "create": "change",
        "update": "change",
        "partial_update": "change",
        "destroy": "delete",
    }
    for action, asked in DEFAULT_ACTIONS.items():
        assert view_for(Budgets, None, action, detail=False).scope_action_for_request() == asked
    assert view_for(Budgets, None, "summary", detail=True).scope_action_for_request() == "view"


def test_a_viewsets_own_actions_override_the_defaults():
    assert view_for(BudgetsEditedHere, None, "destroy", detail=True).scope_action_for_request() == "change"
    assert view_for(BudgetsEditedHere, None, "create", detail=False).scope_action_for_request() == "change"
    view = view_for(BudgetsEditedHere, None, "list", detail=False)
    view.scope_action = "delete"  # set by @action(scope_action=...)
    assert view.scope_action_for_request() == "delete"


def test_a_list_reads_at_its_action_and_a_detail_lookup_at_view(shared):
    """A list scoped to "change" leaves out what the caller only views; a detail lookup
    reads at "view" whatever the action, so a view-only object is a 403, not a 404."""
    lists = view_for(BudgetsEditedHere, shared.viewer, "list", detail=False)
    assert list(lists.get_queryset()) == []
    lists = view_for(BudgetsEditedHere, shared.editor, "list", detail=False)
    assert list(lists.get_queryset()) == [shared.budget]
    lookup = view_for(BudgetsEditedHere, shared.viewer, "destroy", detail=True)
    assert list(lookup.get_queryset()) == [shared.budget]


def test_require_names_the_action_and_the_object_it_refuses(shared):
    with pytest.raises(PermissionDenied) as refused:
        require(shared.viewer, shared.budget, "change")
    assert str(refused.value.detail) == "You do not have permission to change this budget."
    with pytest.raises(PermissionDenied) as refused:
        require(shared.editor, shared.budget, "delete", "Only the owner deletes a budget.")
    assert str(refused.value.detail) == "Only the owner deletes a budget."
    require(shared.owner, shared.budget, "delete")


def test_an_overriding_viewset_is_told_where_rows_come_from():
    with pytest.raises(TypeError) as refused:

        class Leaky(TenantViewSet):
            model = Budget

            def get_queryset(self):
                return Budget.objects.all()

    assert str(refused.value).endswith(
        "Leaky overrides get_queryset(); tenant viewsets get rows only through visible_to(). "
        "Use with_related() for joins."
    )


@pytest.mark.parametrize(
    ("action", "roles"),
    [("view", {"owner", "admin", "member"}), ("change", {"owner", "admin"}), ("delete", {"owner"})],
)
def test_memberships_are_scoped_by_the_callers_role_for_the_action(action, roles):
    owner, admin, member = UserFactory(), UserFactory(), UserFactory()
    home = make_household(owner, admins=[admin], members=[member])
    make_household(UserFactory(), name="Elsewhere", members=[UserFactory()])
    everyone = set(Membership.objects.filter(household=home).values_list("pk", flat=True))

    for role, user in {"owner": owner, "admin": admin, "member": member}.items():
        seen = set(Membership.objects.visible_to(user, action).values_list("pk", flat=True))
        assert seen == (everyone if role in roles else set()), role


def test_require_all_names_the_refused_object_to_missing(shared):
    stranger = UserFactory()
    with pytest.raises(NotFound) as raised:
        require_all(
            stranger,
            [shared.budget],
            "change",
            message=lambda b: "no",
            missing=lambda b: NotFound(f"budget {b.pk} is gone"),
        )
    assert str(raised.value.detail) == f"budget {shared.budget.pk} is gone"


def test_a_scoped_field_without_a_request_resolves_nothing(shared):
    field = ScopedPrimaryKeyRelatedField(queryset=Budget.objects)
    field.bind("budget", serializers.Serializer(context={}))
    with pytest.raises(serializers.ValidationError) as refused:
        field.to_internal_value(shared.budget.pk)
    assert refused.value.detail[0].code == "does_not_exist"


@pytest.mark.parametrize(
    ("value", "kind"), [([1], "list"), ({"id": 1}, "dict"), (1.5, "float"), (True, "bool")]
)
def test_a_scoped_field_names_the_type_it_refuses(shared, value, kind):
    with pytest.raises(serializers.ValidationError) as refused:
        resolve(ScopedPrimaryKeyRelatedField(queryset=Budget.objects), shared.owner, value)
    assert str(refused.value.detail[0]) == f"Incorrect type. Expected pk value, received {kind}."


def test_household_scoping_reads_view_by_default_and_refuses_unknown_actions():
    owner, member = UserFactory(), UserFactory()
    home = make_household(owner, members=[member])
    InvitationFactory(household=make_household(UserFactory(), name="Other"), email=member.email)
    assert list(Household.objects.visible_to(member)) == [home]
    assert Invitation.objects.visible_to(member).count() == 1
    with pytest.raises(ValueError, match="Unknown household action 'audit'"):
        Household.objects.visible_to(member, "audit")


@pytest.mark.parametrize("action", ["view", "change", "delete"])
def test_one_budgets_scope_is_the_callers_scope_within_that_budget(shared, action):
    """visible_in_budget (a one-budget page's scope) keeps exactly the rows visible_to keeps
    in that budget, for each caller and action: the owner, an editor, a viewer, a household
    member without a share, a stranger and a deactivated editor."""
    from transactions.models import Transaction
    from transactions.tests.factories import TransactionFactory

    member = UserFactory()
    gone = UserFactory()
    make_household(shared.owner, name="Flat", members=[member, gone])
    other = BudgetFactory(owner=shared.owner)
    TransactionFactory.create_batch(2, budget=shared.budget)
    TransactionFactory.create_batch(2, budget=other)
    share_user(shared.budget, gone, "edit")
    gone.is_active = False
    gone.save()
    callers = [shared.owner, shared.editor, shared.viewer, member, UserFactory(), gone]
    for user in callers:
        for budget in (shared.budget, other):
            expected = set(
                Transaction.objects.visible_to(user, action)
                .filter(budget=budget)
                .values_list("pk", flat=True)
            )
            seen = set(
                Transaction.objects.visible_in_budget(user, budget.pk, action).values_list("pk", flat=True)
            )
            assert seen == expected, (user, budget, action)
    assert len(set(Transaction.objects.visible_in_budget(shared.owner, shared.budget.pk, action))) == 2
    assert not Transaction.objects.visible_in_budget(shared.viewer, shared.budget.pk, "change").exists()
    with pytest.raises(ValueError, match="Unknown transaction action 'audit'"):
        Transaction.objects.visible_in_budget(shared.owner, shared.budget.pk, "audit")
