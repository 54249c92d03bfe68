# The change log of transactions, splits, their members' parts and settlements
# (transactions/tracking.py) and the transactions' delta sync (budgets/sync.py).
#
# On SQLite the newest trigger of an event fires first: the history triggers are created
# after tx_split_deleted (0004), so a transaction's delete event is written before its
# split goes, and the split's events find the budget there (transactions/tracking.py).

from django.db import migrations, models

from budgets import sync
from history.triggers import history_triggers
from transactions import tracking


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0004_history_and_sync'),
        ('transactions', '0007_kind_index'),
    ]

    operations = [
        # Nullable, without a default: no table rebuild on SQLite (which would drop the
        # counters' triggers), no rewrite on PostgreSQL.
        migrations.AddField(
            model_name='transaction',
            name='knowledge',
            field=models.BigIntegerField(editable=False, help_text="Its budget's server knowledge at its last write (a database trigger sets it).", null=True),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['budget', 'knowledge'], name='tx_budget_sync_idx'),
        ),
        migrations.RunPython(
            *sync.row_triggers('transactions_transaction', 'transaction', movable=True), elidable=False
        ),
        migrations.RunPython(*history_triggers(*tracking.TRACKED), elidable=False),
    ]
