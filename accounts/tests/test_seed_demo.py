import io

import pytest
from django.apps import apps
from django.contrib.auth import password_validation
from django.core.management import CommandError, call_command

from accounts.demo import ADMIN_PASSWORD, DEMO_PASSWORD, DEMO_USERS
from accounts.models import User

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/auth/me/"


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--allow-without-debug", stdout=out)
    return out.getvalue()


def printed_logins(output: str) -> dict[str, tuple[str, str]]:
    """email -> (password, role), read from the table seed_demo prints."""
    logins = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 3 and "@" in cells[0]:
            logins[cells[0]] = (cells[1], cells[2])
    return logins


def every_row() -> dict[str, list[dict]]:
    """Every row of every installed model, in primary-key order."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
    }


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count() for model in apps.get_models(include_auto_created=True)
    }


def test_first_run_creates_the_demo_users_with_their_roles():
    output = seed()

    assert "Demo data created: 5 accounts.User," in output
    for part in ("2 households.Household", "7 budgets.Budget", "350 transactions.Transaction"):
        assert part in output
    assert "filled in" not in output
    users = {user.email: user for user in User.objects.all()}
    assert set(users) == {spec.email for spec in DEMO_USERS}
    admin = users["admin@example.com"]
    assert admin.is_staff and admin.is_superuser and admin.is_active
    for email in ("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"):
        assert not users[email].is_staff and not users[email].is_superuser and users[email].is_active
    assert users["alice@example.com"].first_name == "Alice"


def test_second_run_creates_no_rows_in_any_table():
    seed()
    before = row_counts()
    assert before["accounts.User"] == len(DEMO_USERS)

    output = seed()

    assert row_counts() == before
    assert "Demo data already present; nothing changed." in output


def test_second_run_changes_no_row():
    seed()
    before = every_row()

    seed()

    assert every_row() == before


def test_second_run_keeps_a_password_the_user_changed():
    seed()
    alice = User.objects.get(email="alice@example.com")
    alice.set_password("alice-chose-her-own-1")
    alice.save()

    output = seed()

    alice.refresh_from_db()
    assert alice.check_password("alice-chose-her-own-1")
    assert not alice.check_password(DEMO_PASSWORD)
    assert printed_logins(output)["alice@example.com"] == ("(changed since seeding)", "user")
    assert printed_logins(output)["bob@example.com"] == (DEMO_PASSWORD, "user")


def test_existing_account_keeps_its_flags_and_only_blank_names_are_filled_in():
    User.objects.create_user("Admin@Example.com", "someone-elses-pass-7", last_name="Keeper")

    output = seed()

    admin = User.objects.get(email="admin@example.com")
    assert not admin.is_staff and not admin.is_superuser
    assert admin.check_password("someone-elses-pass-7")
    assert (admin.first_name, admin.last_name) == ("Admin", "Keeper")
    assert User.objects.count() == len(DEMO_USERS)
    assert "Demo data created: 4 accounts.User," in output
    assert "Demo data filled in blank fields of: 1 accounts.User." in output
    assert "nothing changed" not in output
    assert printed_logins(output)["admin@example.com"] == ("(changed since seeding)", "user")


def test_printed_logins_cover_every_demo_user():
    logins = printed_logins(seed())

    assert logins == {
        "alice@example.com": (DEMO_PASSWORD, "user"),
        "bob@example.com": (DEMO_PASSWORD, "user"),
        "carol@example.com": (DEMO_PASSWORD, "user"),
        "dave@example.com": (DEMO_PASSWORD, "user"),
        "admin@example.com": (ADMIN_PASSWORD, "staff superuser"),
    }


@pytest.mark.parametrize("runs", [1, 2])
def test_seeded_users_log_in_with_the_printed_passwords(anon, runs):
    for _ in range(runs):
        output = seed()

    for email, (password, _role) in printed_logins(output).items():
        response = anon.post(TOKEN, {"email": email, "password": password})
        assert response.status_code == 200, (email, response.json())
        anon.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        me = anon.get(ME)
        anon.credentials()
        assert me.status_code == 200
        assert me.json()["email"] == email


def test_seeded_user_with_a_wrong_password_cannot_log_in(anon):
    seed()

    response = anon.post(TOKEN, {"email": "alice@example.com", "password": ADMIN_PASSWORD})

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "no_active_account"


@pytest.mark.parametrize("spec", DEMO_USERS, ids=lambda spec: spec.key)
def test_demo_passwords_pass_the_password_validators(spec):
    candidate = User(email=spec.email, first_name=spec.first_name, last_name=spec.last_name)
    password_validation.validate_password(spec.password, candidate)


def test_refuses_to_run_with_debug_off_unless_allowed(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo", stdout=io.StringIO())

    assert not User.objects.exists()


def test_runs_with_debug_on_without_the_flag(settings):
    settings.DEBUG = True

    call_command("seed_demo", stdout=io.StringIO())

    assert User.objects.count() == len(DEMO_USERS)


def test_demo_households_budgets_and_shares_are_visible_as_designed(client_for):
    seed()
    from budgets.models import Budget
    from households.models import Household, Invitation

    assert Household.objects.count() == 2
    assert Invitation.objects.filter(status="pending", email="erin@example.com").count() == 1
    bob = User.objects.get(email="bob@example.com")
    dave = User.objects.get(email="dave@example.com")
    names = lambda user: {b["name"] for b in client_for(user).get("/api/v1/budgets/").json()["results"]}  # noqa: E731
    # Bob: his own, Alice's household-shared groceries, Alice's holidays shared to him to edit.
    assert names(bob) == {"Car", "Groceries", "Holidays"}
    # Dave is not in Alice's household: none of her budgets; Carol's flat bills and kitchen.
    assert names(dave) == {"Savings", "Flat bills", "Shared kitchen"}
    assert Budget.objects.get(name="Personal").transactions.count() == 50
