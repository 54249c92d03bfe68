"""The one scoping path: TenantViewSet gets rows only through visible_to, model-wide
permissions and the superuser flag widen nothing, and scoped fields and filters read
a foreign id exactly like an unknown one."""

import importlib.util
import re
import textwrap
from pathlib import Path

import django_filters
import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, share_household, share_user
from households import services
from households.models import Household, Membership
from households.tests.factories import InvitationFactory, make_household
from households.views import HouseholdViewSet
from permissions.fields import ScopedModelChoiceFilter, ScopedPrimaryKeyRelatedField, preload_scoped
from permissions.scoping import (
    allows,
    dangerously_unscoped,
    require,
    require_all,
    scoped_row,
    visible,
    visible_among,
)
from permissions.viewsets import TenantViewSet
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

API = "/api/v1"
HOUSEHOLDS = f"{API}/households/"


# --- TenantViewSet cannot be bypassed ---------------------------------------------------


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "get_row"])
def test_tenant_viewset_overriding_get_queryset_or_get_object_fails_at_class_creation(method):
    with pytest.raises(TypeError, match=rf"Leaky overrides {method}\(\)"):
        type("Leaky", (TenantViewSet,), {"model": Household, method: lambda self: Household.objects.all()})


def test_module_with_a_leaky_tenant_viewset_fails_at_import(tmp_path):
    source = textwrap.dedent(
        """
        from households.models import Household
        from permissions.viewsets import TenantViewSet


        class LeakyHouseholdViewSet(TenantViewSet):
            model = Household

            def get_queryset(self):
                return Household.objects.all()
        """
    )
    path = tmp_path / "leaky_views.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("leaky_views", path)
    module = importlib.util.module_from_spec(spec)

    with pytest.raises(TypeError, match=r"leaky_views\.LeakyHouseholdViewSet overrides get_queryset\(\)"):
        spec.loader.exec_module(module)


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "get_row"])
def test_subclass_of_an_app_viewset_cannot_override_either(method):
    with pytest.raises(TypeError, match=rf"overrides {method}\(\)"):
        type("LeakyHouseholds", (HouseholdViewSet,), {method: lambda self: None})


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "get_row"])
def test_mixin_that_supplies_get_queryset_or_get_object_is_refused_too(method):
    mixin = type("UnscopedMixin", (), {method: lambda self: Household.objects.all()})

    with pytest.raises(TypeError, match=rf"overrides {method}\(\)"):
        type("Leaky", (mixin, TenantViewSet), {"model": Household})


def test_tenant_viewset_that_only_adds_joins_is_accepted():
    class Joined(TenantViewSet):
        model = Household

        def with_related(self, queryset):
            return queryset.select_related("group")

    assert Joined.get_queryset is TenantViewSet.get_queryset
    assert Joined.get_object is TenantViewSet.get_object


def test_an_unscoped_read_must_say_why(world):
    with pytest.raises(ValueError, match=r"^Say why an unscoped read is safe\.$"):
        dangerously_unscoped(Household, reason="")
    rows = set(dangerously_unscoped(Household, reason="a test").values_list("pk", flat=True))
    assert rows == {world.home.pk, world.flat.pk, world.elsewhere.pk}


def test_every_unscoped_read_in_the_code_is_known_and_says_why():
    """Reads outside the caller's scope are few and named: a new one fails here until it is
    reviewed and added, with its reason."""
    root = Path(__file__).resolve().parents[2]
    found = {}
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in (".venv", "mutants") or "tests" in relative.parts:
            continue
        for match in re.finditer(
            r"dangerously_unscoped\(\s*(\w+(?:\.\w+)?),\s*reason=\"([^\"]+)\"", path.read_text()
        ):
            found[(str(relative), match[1])] = match[2]
    assert set(found) == {
        ("budgets/services/locks.py", "Budget"),
        ("transactions/batch.py", "Transaction"),
        ("transactions/pagination.py", "queryset.model"),
        # The compiled page (compiled_page): the same read, built once per shape.
        ("transactions/pagination.py", "Transaction"),
    }, found
    assert all(len(reason) > 20 for reason in found.values()), found


def test_schema_generation_gets_the_model_and_no_rows_without_a_caller(world):
    view = HouseholdViewSet(action="list", detail=False, swagger_fake_view=True)
    view.request = RequestFactory().get("/")
    view.request.user = AnonymousUser()

    queryset = view.get_queryset()

    assert queryset.model is Household
    assert list(queryset) == []


def test_visible_refuses_a_model_without_visible_to():
    with pytest.raises(TypeError, match="Group has no visible_to"):
        visible(Group, UserFactory())


def test_require_all_refuses_the_first_object_not_allowed_as_403_if_visible_else_missing(
    world, django_assert_num_queries
):
    """The re-check under a lock: a sharee who can still view is told 403; someone who
    cannot view any more gets ``missing``, as if the object did not exist; the owner's
    right costs no query."""
    mine, theirs = BudgetFactory(owner=world.owner, name="Mine"), BudgetFactory(owner=world.stranger)
    share_user(mine, world.admin, "edit")
    share_user(mine, world.member, "view")
    with django_assert_num_queries(0):
        require_all(world.owner, [mine], "change", message=lambda b: "no")
    with django_assert_num_queries(1):
        require_all(world.admin, [mine], "change", message=lambda b: "no")
    with django_assert_num_queries(2), pytest.raises(PermissionDenied, match="may not change Mine"):
        require_all(world.member, [mine], "change", message=lambda b: f"may not change {b.name}")
    with pytest.raises(NotFound):
        require_all(world.owner, [mine, theirs], "view", message=lambda b: "no")
    gone = ValidationError("gone")
    with pytest.raises(ValidationError) as raised:
        require_all(world.admin, [theirs, mine], "change", message=lambda b: "no", missing=lambda b: gone)
    assert raised.value is gone


def test_allows_and_require_ask_the_same_path(world):
    household = world.home

    assert allows(world.owner, household, "delete")
    assert allows(world.admin, household, "change")
    assert not allows(world.admin, household, "delete")
    assert not allows(world.member, household, "change")
    assert not allows(world.stranger, household, "view")
    require(world.admin, household, "change")
    with pytest.raises(PermissionDenied):
        require(world.member, household, "change")


# --- model-wide permissions and superusers widen nothing --------------------------------


def _household_perms():
    return Permission.objects.filter(content_type__app_label="households")


def _with_user_permissions():
    user = UserFactory()
    user.user_permissions.set(_household_perms())
    return user


def _with_group_permissions():
    user = UserFactory()
    auditors = Group.objects.create(name="auditors")
    auditors.permissions.set(_household_perms())
    user.groups.add(auditors)
    return user


def _superuser():
    return User.objects.create_superuser("root@example.com", "correct-horse-battery-9")


POWERFUL = {
    "user_permissions": _with_user_permissions,
    "group_permissions": _with_group_permissions,
    "superuser": _superuser,
}


@pytest.mark.parametrize("kind", POWERFUL)
def test_model_wide_permissions_and_superuser_see_no_extra_households(world, client_for, kind):
    powerful = User.objects.get(pk=POWERFUL[kind]().pk)  # fresh: no cached permissions
    assert powerful.has_perm("households.view_household")
    assert powerful.has_perm("households.change_household")
    own = make_household(powerful, name="Mine")
    client = client_for(powerful)

    listed = client.get(HOUSEHOLDS)

    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert [item["id"] for item in listed.json()["results"]] == [own.pk]


@pytest.mark.parametrize("kind", POWERFUL)
@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "", None),
        ("patch", "", {"name": "Mine now"}),
        ("delete", "", None),
        ("get", "members/", None),
        ("get", "invitations/", None),
        ("post", "invitations/", {"email": "friend@example.com"}),
    ],
)
def test_model_wide_permissions_and_superuser_get_404_for_a_foreign_household(
    world, client_for, kind, method, suffix, data
):
    client = client_for(POWERFUL[kind]())
    missing_id = Household.objects.order_by("-pk").first().pk + 1000
    households_before = list(Household.objects.values_list("pk", "name", "updated_at"))
    invitations_before = list(world.home.invitations.values_list("pk", "status"))

    def call(pk):
        url = f"{HOUSEHOLDS}{pk}/{suffix}"
        return getattr(client, method)(url, data) if data else getattr(client, method)(url)

    foreign, missing = call(world.home.pk), call(missing_id)

    assert_error(foreign, 404, code="not_found", attr=None)
    assert foreign.content == missing.content
    assert list(Household.objects.values_list("pk", "name", "updated_at")) == households_before
    assert list(world.home.invitations.values_list("pk", "status")) == invitations_before


@pytest.mark.parametrize("kind", POWERFUL)
def test_model_wide_permissions_and_superuser_see_no_one_elses_invitations(world, client_for, kind):
    client = client_for(POWERFUL[kind]())
    memberships_before = Membership.objects.count()

    listed = client.get(f"{API}/invitations/")
    accept = client.post(f"{API}/invitations/{world.invitation.pk}/accept/")

    assert listed.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert_error(accept, 404, code="not_found", attr=None)
    assert Membership.objects.count() == memberships_before


@pytest.mark.parametrize("kind", POWERFUL)
def test_model_wide_permissions_and_superuser_resolve_no_foreign_users(world, kind):
    powerful = POWERFUL[kind]()

    assert list(User.objects.visible_to(powerful).values_list("pk", flat=True)) == [powerful.pk]
    assert not Household.objects.visible_to(powerful, "view").exists()
    assert not Membership.objects.visible_to(powerful).exists()


# --- scoped related field and filter ----------------------------------------------------


class _PickSerializer(serializers.Serializer):
    household = ScopedPrimaryKeyRelatedField(queryset=Household.objects, required=False)
    changeable = ScopedPrimaryKeyRelatedField(
        queryset=Household.objects, scope_action="change", required=False
    )
    user = ScopedPrimaryKeyRelatedField(queryset=User.objects, required=False)


class _MembershipFilter(django_filters.FilterSet):
    household = ScopedModelChoiceFilter(model=Household)

    class Meta:
        model = Membership
        fields = []


def _request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def _pick_errors(caller, /, **data):
    serializer = _PickSerializer(data=data, context={"request": _request_for(caller)})
    assert not serializer.is_valid()
    return serializer.errors


def _filter_errors(user, value):
    filterset = _MembershipFilter(
        data={"household": value}, queryset=Membership.objects.all(), request=_request_for(user)
    )
    assert not filterset.is_valid()
    return filterset.errors


def test_scoped_field_accepts_visible_rows(world):
    serializer = _PickSerializer(
        data={"household": world.home.pk, "changeable": world.home.pk, "user": world.owner.pk},
        context={"request": _request_for(world.admin)},
    )

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {
        "household": world.home,
        "changeable": world.home,
        "user": world.owner,
    }


def test_scoped_field_reads_a_foreign_household_exactly_like_a_deleted_one(world):
    foreign_id = world.elsewhere.pk

    foreign = _pick_errors(world.owner, household=foreign_id)
    services.household_delete(household=world.elsewhere)
    unknown = _pick_errors(world.owner, household=foreign_id)

    assert foreign == unknown
    assert foreign["household"][0].code == "does_not_exist"
    assert foreign["household"] == [f'Invalid pk "{foreign_id}" - object does not exist.']


def test_scoped_field_reads_a_visible_but_unchangeable_household_like_an_unknown_one(world):
    """With scope_action="change", a plain member's household is not among the choices."""
    household_id = world.home.pk

    member = _pick_errors(world.member, changeable=household_id)
    stranger = _pick_errors(world.stranger, changeable=household_id)

    assert member == stranger
    assert member["changeable"][0].code == "does_not_exist"


def test_scoped_field_reads_a_stranger_like_a_missing_user(world):
    stranger_id = world.stranger.pk

    foreign = _pick_errors(world.owner, user=stranger_id)
    User.objects.filter(pk=stranger_id).delete()
    unknown = _pick_errors(world.owner, user=stranger_id)

    assert foreign == unknown
    assert foreign["user"][0].code == "does_not_exist"


def _pick_errors_preloaded(caller, /, **data):
    """The many-items path: rows preloaded once with preload_scoped and passed in the context."""
    preloaded = {Household: preload_scoped(Household, caller, list(data.values()))}
    serializer = _PickSerializer(
        data=data, context={"request": _request_for(caller), "scoped_rows": preloaded}
    )
    assert not serializer.is_valid()
    return serializer.errors


def test_preloaded_scoped_field_reads_a_foreign_household_exactly_like_an_unknown_one(world):
    foreign_id = world.elsewhere.pk

    foreign = _pick_errors_preloaded(world.owner, household=foreign_id)
    services.household_delete(household=world.elsewhere)
    unknown = _pick_errors_preloaded(world.owner, household=foreign_id)

    assert foreign == unknown == _pick_errors(world.owner, household=foreign_id)
    assert foreign["household"][0].code == "does_not_exist"


def test_preloaded_scoped_field_resolves_visible_rows_without_a_query(world, django_assert_num_queries):
    ids = [world.home.pk, str(world.home.pk), world.elsewhere.pk]
    preloaded = {Household: preload_scoped(Household, world.member, ids)}
    serializer = _PickSerializer(
        data={"household": f" {world.home.pk} "},
        context={"request": _request_for(world.member), "scoped_rows": preloaded},
    )

    with django_assert_num_queries(0):
        assert serializer.is_valid(), serializer.errors

    assert list(preloaded[Household]) == [world.home.pk]  # the foreign id found nothing
    assert serializer.validated_data["household"] == world.home


BAD_IDS = {
    "word": "abc",
    "decimal-string": "1.5",
    "negative-string": "-5",
    "negative": -5,
    "beyond-64-bits": 10**30,
    "beyond-64-bits-string": str(10**30),
    "below-64-bits": -(10**30),
    "5000-digits": "9" * 5000,
    "float": 1.5,
    "null": None,
    "empty": "",
}


@pytest.mark.parametrize("value", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_preloaded_and_looked_up_scoped_field_answer_any_value_alike(world, value):
    """Bulk and single writes give the same error for the same bad id, and an id no
    database could hold is simply unknown (SQLite cannot even bind it)."""
    looked_up = _pick_errors(world.owner, household=value)
    preloaded = _pick_errors_preloaded(world.owner, household=value)

    assert preloaded == looked_up
    assert looked_up["household"][0].code in {"does_not_exist", "incorrect_type", "null"}


@pytest.mark.parametrize("kind", POWERFUL)
def test_scoped_field_gives_model_wide_permissions_and_superuser_nothing_extra(world, kind):
    errors = _pick_errors(POWERFUL[kind](), household=world.home.pk, user=world.owner.pk)

    assert errors["household"][0].code == "does_not_exist"
    assert errors["user"][0].code == "does_not_exist"


@pytest.mark.parametrize(("value", "code"), [(True, "incorrect_type"), ([1], "incorrect_type")])
def test_scoped_field_refuses_values_that_are_not_ids(world, value, code):
    assert _pick_errors(world.owner, household=value)["household"][0].code == code


@pytest.mark.parametrize(
    ("model", "action"),
    [(Household, "view"), (Household, "change"), (User, "view"), (User, "change")]
    + [("budget", action) for action in ("view", "change", "delete")]
    + [("category", "view"), ("category", "change"), ("transaction", "view"), ("transaction", "change")],
)
def test_scoped_row_answers_every_caller_as_visible_does(world, model, action, monkeypatch):
    """scoped_row and visible_among compile a model's lookup once, with a stand-in caller, and
    reuse it for everyone (on PostgreSQL): each caller, asked for every row, gets exactly what
    visible() gives them, whoever was asked first. A scope that read more of the caller than the id
    would show here, in another caller's answers."""
    from budgets.models import Budget, Category
    from server import compiled
    from transactions.models import Transaction
    from transactions.tests.factories import TransactionFactory

    monkeypatch.setattr(compiled, "_compiled", {})
    budget = BudgetFactory(owner=world.owner)
    share_user(budget, world.viewer, "view")
    share_household(budget, world.home, "edit")
    category = Category.objects.create(budget=budget, name="Food")
    TransactionFactory(budget=budget, category=category)
    TransactionFactory(budget=BudgetFactory(owner=world.stranger))
    model = {"budget": Budget, "category": Category, "transaction": Transaction}.get(model, model)
    callers = [world.stranger, world.owner, world.viewer, world.member, world.admin, UserFactory()]
    inactive = UserFactory(is_active=False)
    every = list(model._default_manager.values_list("pk", flat=True))
    for caller in [*callers, inactive, AnonymousUser()]:
        allowed = set(visible(model, caller, action).values_list("pk", flat=True))
        assert visible_among(model, caller, [*every, max(every) + 1], action) == allowed, caller
        for pk in every:
            row = scoped_row(model, caller, pk, action)
            assert (row is not None) == (pk in allowed), (caller, pk)
            if row is not None:
                assert row == model._default_manager.get(pk=pk) and row._state.db == "default"
    assert any(visible(model, caller, action).exists() for caller in callers)


def test_scoped_filter_narrows_to_a_visible_household(world):
    filterset = _MembershipFilter(
        data={"household": world.home.pk},
        queryset=Membership.objects.all(),
        request=_request_for(world.member),
    )

    assert filterset.is_valid(), filterset.errors
    members = {world.owner.pk, world.admin.pk, world.editor.pk, world.viewer.pk, world.member.pk}
    assert set(filterset.qs.values_list("user_id", flat=True)) == members


@pytest.mark.parametrize("kind", [None, *POWERFUL])
def test_scoped_filter_reads_a_foreign_household_exactly_like_an_unknown_one(world, kind):
    user = POWERFUL[kind]() if kind else world.stranger
    missing_id = Household.objects.order_by("-pk").first().pk + 1000

    foreign = _filter_errors(user, world.home.pk)
    unknown = _filter_errors(user, missing_id)

    assert foreign == unknown
    assert foreign.get_json_data()["household"][0]["code"] == "invalid_choice"


@pytest.mark.parametrize("value", ["abc", "1.5", "-5", str(10**30), "9" * 5000, " ", "\x00"])
def test_scoped_filter_refuses_what_is_not_a_visible_id_as_django_would(world, value):
    """The filter's own lookup (scoped_row) gives the answers of Django's ModelChoiceField,
    whose queryset.get it replaces."""
    from django import forms

    django_field = forms.ModelChoiceField(queryset=visible(Household, world.owner))
    try:
        django_field.clean(value)
    except forms.ValidationError as error:
        expected = [(error.code, error.message % (error.params or {})) for error in error.error_list]
    else:
        raise AssertionError(f"Django accepted {value!r}")
    errors = _filter_errors(world.owner, value).as_data()["household"]
    assert [(error.code, error.message % (error.params or {})) for error in errors] == expected


def test_household_filter_in_the_api_reads_a_foreign_id_like_an_unknown_one(world, client_for):
    budget = BudgetFactory(owner=world.owner)
    share_household(budget, world.home)
    client = client_for(world.owner)
    missing_id = Household.objects.order_by("-pk").first().pk + 1000

    mine = client.get(f"{API}/budgets/", {"shared_with_household": world.home.pk})
    foreign = client.get(f"{API}/budgets/", {"shared_with_household": world.elsewhere.pk})
    unknown = client.get(f"{API}/budgets/", {"shared_with_household": missing_id})

    assert mine.status_code == 200
    assert [item["id"] for item in mine.json()["results"]] == [budget.pk]
    assert_error(foreign, 400, code="invalid_choice", attr="shared_with_household")
    assert foreign.content == unknown.content


def test_invitations_are_scoped_by_role_to_invite_and_by_email_to_answer(world):
    """Invitations scoped for "invite" follow the household role; for "view" the email."""
    other = InvitationFactory(household=world.elsewhere, email=world.admin.email)

    assert set(visible(type(other), world.admin, "invite")) == {world.invitation}
    assert set(visible(type(other), world.admin, "view")) == {other}
    assert set(visible(type(other), world.member, "invite")) == set()
