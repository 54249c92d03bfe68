# The change log of memberships (households/tracking.py, history/triggers.py).

from django.db import migrations

from history.triggers import history_triggers
from households import tracking


class Migration(migrations.Migration):

    dependencies = [
        ('households', '0003_memberships_touch_household'),
        ('history', '0001_events'),
    ]

    operations = [
        migrations.RunPython(*history_triggers(*tracking.TRACKED), elidable=False),
    ]
