# Per-(budget, month, kind, category) totals kept by triggers, for the monthly report
# (transactions/month_totals.py); the backfill sums the rows already there.

import django.db.models.deletion
from django.db import migrations, models

from transactions import month_totals


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0003_shares_touch_budget'),
        ('transactions', '0004_splits'),
    ]

    operations = [
        migrations.CreateModel(
            name='BudgetMonthTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text="The month's first day.")),
                ('kind', models.CharField(choices=[('expense', 'Expense'), ('income', 'Income')], max_length=7)),
                ('category_key', models.BigIntegerField(help_text="The category's id; 0 for none.")),
                ('total_minor', models.BigIntegerField(default=0)),
                ('entries', models.BigIntegerField(default=0)),
                ('budget', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='budgets.budget')),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('entries', 0)), fields=['budget'], name='tx_month_total_empty_idx')],
                'constraints': [models.UniqueConstraint(fields=('budget', 'month', 'kind', 'category_key'), name='tx_month_total_key')],
            },
        ),
        migrations.RunPython(month_totals.install, month_totals.uninstall, elidable=False),
    ]
