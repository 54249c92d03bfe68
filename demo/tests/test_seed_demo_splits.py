"""seed_demo's shared costs: a newcomer signed in as a demo member sees balances, debts and a
ledger with splits and a settlement at once, dated from the seeding day."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from households.models import Household
from transactions.models import Settlement, Split

pytestmark = pytest.mark.django_db


def seed(*extra):
    call_command("seed_demo", "--allow-without-debug", *extra, stdout=io.StringIO())


@time_machine.travel(datetime.datetime(2026, 7, 9, 12, tzinfo=datetime.UTC), tick=False)
def test_the_demo_household_has_splits_a_settlement_balances_and_debts(client_for):
    seed()
    household = Household.objects.get(name="Archer family")
    assert Split.objects.filter(household=household).count() >= 5
    (settlement,) = Settlement.objects.filter(household=household)
    assert settlement.date == datetime.date(2026, 7, 6)
    api = client_for(User.objects.get(email="carol@example.com"))
    base = f"/api/v1/households/{household.pk}"
    (eur,) = api.get(f"{base}/balances/").json()
    assert eur["currency"] == "EUR"
    assert [b for b in eur["balances"] if b["net"] not in ("0.00",)]
    assert sum(int(b["net"].replace(".", "")) for b in eur["balances"]) == 0
    assert api.get(f"{base}/debts/", {"simplify": "true"}).json()["debts"]
    ledger = api.get(f"{base}/ledger/").json()
    assert {entry["type"] for entry in ledger["results"]} == {"split", "payment"}
    # A second run adds nothing; a reset rebuilds it (the household's deletion forced).
    before = Split.objects.count()
    seed()
    assert Split.objects.count() == before
    seed("--reset")
    assert Split.objects.count() == before and Settlement.objects.count() == 1
