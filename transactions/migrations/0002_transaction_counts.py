# Per-budget transaction counts kept by triggers, and covering indexes for the period
# summary and for a category's rows in a date range.

import django.db.models.deletion
from django.db import migrations, models

from transactions import counting


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0001_initial"),
        ("transactions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="BudgetTransactionCount",
            fields=[
                (
                    "budget",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="transaction_count",
                        serialize=False,
                        to="budgets.budget",
                    ),
                ),
                ("total", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("total__gte", 0)), name="tx_count_not_negative")
                ],
            },
        ),
        migrations.RemoveIndex(model_name="transaction", name="tx_budget_date_idx"),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                fields=["budget", "date", "id"],
                include=("kind", "amount_minor", "category"),
                name="tx_budget_date_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="transaction", name="tx_budget_category_idx"),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                fields=["budget", "category", "-date"],
                include=("amount_minor", "id"),
                name="tx_budget_category_idx",
            ),
        ),
        # Last, after every table it names exists in its final form.
        migrations.RunPython(counting.install, counting.uninstall, elidable=False),
    ]
