# The change log of budgets, categories and shares (budgets/tracking.py, history/triggers.py)
# and delta sync (budgets/sync.py): each budget's knowledge, each category's, the tombstones.

from django.db import migrations, models

from budgets import sync, tracking
from history.triggers import history_triggers


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0003_shares_touch_budget'),
        ('history', '0001_events'),
        ('households', '0003_memberships_touch_household'),
    ]

    operations = [
        migrations.CreateModel(
            name='BudgetKnowledge',
            fields=[
                ('budget_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('server_knowledge', models.BigIntegerField(db_default=0, default=0)),
                ('tombstone_floor', models.BigIntegerField(db_default=0, default=0, help_text='The tombstones up to this knowledge were pruned: a client that knows less syncs again.')),
                ('last_transaction', models.BigIntegerField(help_text='PostgreSQL: the transaction (pg_current_xact_id) that raised it last.', null=True)),
            ],
        ),
        migrations.CreateModel(
            name='Tombstone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('budget_id', models.BigIntegerField()),
                ('object_type', models.CharField(max_length=11)),
                ('object_id', models.BigIntegerField()),
                ('knowledge', models.BigIntegerField()),
                ('deleted_at', models.DateTimeField()),
            ],
            options={
                'indexes': [
                    models.Index(fields=['budget_id', 'knowledge'], name='budgets_tombstone_sync_idx'),
                    models.Index(fields=['deleted_at'], name='budgets_tombstone_age_idx'),
                ],
                'constraints': [
                    models.CheckConstraint(condition=models.Q(('object_type__in', ['category', 'transaction'])), name='budgets_tombstone_type_valid'),
                ],
            },
        ),
        # Nullable, without a default: SQLite adds the column in place (no table rebuild,
        # which would drop the table's triggers), and PostgreSQL without rewriting the table.
        migrations.AddField(
            model_name='category',
            name='knowledge',
            field=models.BigIntegerField(editable=False, help_text="Its budget's server knowledge at its last write (a database trigger sets it).", null=True),
        ),
        migrations.AddIndex(
            model_name='category',
            index=models.Index(fields=['budget', 'knowledge'], name='budgets_category_sync_idx'),
        ),
        migrations.RunPython(*sync.budget_triggers(), elidable=False),
        migrations.RunPython(*sync.row_triggers('budgets_category', 'category'), elidable=False),
        migrations.RunPython(*history_triggers(*tracking.TRACKED), elidable=False),
    ]
