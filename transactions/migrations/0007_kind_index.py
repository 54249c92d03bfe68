# ?kind= served by its own (budget, kind, date, id) index (issue 16).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0003_shares_touch_budget'),
        ('transactions', '0006_search_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['budget', 'kind', 'date', 'id'], name='tx_budget_kind_idx'),
        ),
    ]
