# One statement's change-log events get their ids in the order of the rows' ids: an
# ORDER BY in each of this app's tracked tables' PostgreSQL functions (history/triggers.py).
# Backwards, the same functions again: the earlier ones wrote the same events in no set
# order. SQLite's row triggers write each row's event as the row is written.

from django.db import migrations

from history.triggers import postgresql_functions_replaced
from budgets import tracking


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0004_history_and_sync'),
    ]

    operations = [
        migrations.RunPython(*postgresql_functions_replaced(*tracking.TRACKED), elidable=False),
    ]
