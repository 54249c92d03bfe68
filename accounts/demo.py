"""Demo data for `manage.py seed_demo`, one idempotent step per part.

Every step looks its rows up by a natural key, creates what is missing and fills in
blank fields, and never resets a password, flips a flag or duplicates a row, so a
second run changes nothing. A step takes the DemoData built so far (later steps
read `data.users`) and records what it created. Later issues add their steps
(households, budgets, transactions) to SEED_STEPS in the seed_demo command.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.hashers import check_password
from django.utils import timezone

from accounts.models import User, normalise_email
from accounts.services import user_update

# Demo-only credentials, printed by seed_demo; both pass Django's password validators.
DEMO_PASSWORD = "budget-demo-2025"
ADMIN_PASSWORD = "admin-demo-2025"


@dataclass(frozen=True)
class DemoUser:
    key: str
    email: str
    first_name: str
    last_name: str
    password: str = DEMO_PASSWORD
    is_admin: bool = False


DEMO_USERS = (
    DemoUser("alice", "alice@example.com", "Alice", "Archer"),
    DemoUser("bob", "bob@example.com", "Bob", "Baker"),
    DemoUser("carol", "carol@example.com", "Carol", "Chen"),
    DemoUser("dave", "dave@example.com", "Dave", "Dunn"),
    DemoUser("admin", "admin@example.com", "Admin", "", password=ADMIN_PASSWORD, is_admin=True),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    password_works: bool


@dataclass
class DemoData:
    """What the steps have built so far, and the day the demo is seeded for: dates in the
    demo data count back from it (today, unless a caller says otherwise)."""

    today: date = field(default_factory=timezone.localdate)
    users: dict[str, User] = field(default_factory=dict)
    households: dict = field(default_factory=dict)  # name -> Household
    budgets: dict = field(default_factory=dict)  # name -> Budget
    logins: list[DemoLogin] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)  # model label -> rows created this run
    updated: Counter = field(default_factory=Counter)  # model label -> existing rows with blanks filled in

    def record_created(self, instance) -> None:
        self.created[instance._meta.label] += 1

    def record_updated(self, instance) -> None:
        self.updated[instance._meta.label] += 1


def seed_users(data: DemoData) -> None:
    """The demo people, one admin (staff, superuser) among them.

    An existing account keeps its password and flags; only blank names are filled in.
    """
    for spec in DEMO_USERS:
        email = normalise_email(spec.email)
        user = User.objects.filter(email=email).first()
        if user is None:
            create = User.objects.create_superuser if spec.is_admin else User.objects.create_user
            user = create(
                email,
                spec.password,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email_verified_at=timezone.now(),  # demo addresses receive no mail
            )
            data.record_created(user)
            password_works = True
        else:
            wanted = {"first_name": spec.first_name, "last_name": spec.last_name}
            missing = {name: value for name, value in wanted.items() if value and not getattr(user, name)}
            if missing:
                user_update(user=user, **missing)
                data.record_updated(user)
            # hashers.check_password without a setter: never rehashes or saves.
            password_works = check_password(spec.password, user.password)
        data.users[spec.key] = user
        role = "staff superuser" if user.is_superuser else "staff" if user.is_staff else "user"
        data.logins.append(DemoLogin(email, spec.password, role, password_works))


def existing_demo_users() -> list[User]:
    """The accounts that hold the demo emails, whoever made them (seed_demo adopts an
    existing account with a demo email). `seed_demo --reset` removes what they own."""
    return list(User.objects.filter(email__in=[normalise_email(spec.email) for spec in DEMO_USERS]))
