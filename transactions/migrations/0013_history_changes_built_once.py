# Each row's change-log changes are built once per row, not twice (the WHERE that drops an
# event with no change and the value it writes were the same expression, built again):
# history/triggers.py's _ONCE. PostgreSQL: the functions replaced; SQLite: the triggers
# created again, still each table's newest. Backwards, the same statements again: the
# earlier ones wrote the same events.

from django.db import migrations

from history.triggers import statements_replaced
from transactions import tracking


class Migration(migrations.Migration):

    dependencies = [
        ('transactions', '0012_history_in_row_order'),
    ]

    operations = [
        migrations.RunPython(*statements_replaced(*tracking.TRACKED), elidable=False),
    ]
