# The change log's table, and what every tracked table's triggers call (history/triggers.py):
# history_money() on PostgreSQL, and the actor's SET NULL on deletion.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from history import triggers


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(help_text='When the change was written.')),
                ('object_type', models.CharField(choices=[('budget', 'Budget'), ('category', 'Category'), ('transaction', 'Transaction'), ('share', 'Share or grant'), ('membership', 'Membership'), ('split', 'Split'), ('split_share', "Member's part of a split"), ('settlement', 'Settlement')], max_length=12)),
                ('object_id', models.BigIntegerField()),
                ('budget_id', models.BigIntegerField(null=True)),
                ('household_id', models.BigIntegerField(null=True)),
                ('transaction_id', models.BigIntegerField(help_text="A transaction's, its split's and its members' parts' events name it.", null=True)),
                ('action', models.CharField(choices=[('create', 'Created'), ('update', 'Changed'), ('delete', 'Deleted')], max_length=6)),
                ('changes', models.JSONField(help_text='{"field": [old, new], ...}; money as exact decimal strings.')),
                ('had_actor', models.BooleanField(help_text='A signed-in user made it (null actor since: a deleted account).')),
                ('source', models.CharField(choices=[('api', 'API'), ('bulk', 'Bulk create'), ('import', 'CSV import'), ('admin', 'Admin'), ('system', 'System')], max_length=6)),
                ('request_id', models.CharField(max_length=64, null=True)),
                ('actor', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['budget_id', '-id'], include=['object_type', 'actor_id', 'created_at'], name='history_budget_idx'), models.Index(condition=models.Q(('transaction_id__isnull', False)), fields=['transaction_id', '-id'], name='history_transaction_idx'), models.Index(condition=models.Q(('object_type', 'category')), fields=['object_id', '-id'], name='history_category_idx'), models.Index(condition=models.Q(('household_id__isnull', False)), fields=['household_id', '-id'], include=['budget_id', 'object_type', 'actor_id', 'created_at'], name='history_household_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('action__in', ['create', 'update', 'delete'])), name='history_action_valid')],
            },
        ),
        migrations.RunPython(triggers.install_base, triggers.uninstall_base, elidable=False),
    ]
