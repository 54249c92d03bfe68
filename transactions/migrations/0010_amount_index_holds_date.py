# The amount index holds each row's date and kind (issue 16): a sparse budget's rows of an
# amount-bounded list are found by their range of it and sorted by date without visiting the
# table. Without the date, PostgreSQL's generic plan of the prepared page statement read such
# a budget whole through the category index and tested the bound on every row (bench-recent's
# amount_min=499.90: 300-490 ms, 0.65 ms with it). Without the kind, an amount bound with
# ?kind= counted each budget's every row through the date index (the 2,000-budget adviser's
# amount_min=499.90&kind=expense: 150 ms, 22 ms with it). Rebuilt under the same name: about
# a second at 1,000,000 rows, writes to the table wait for it.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0004_history_and_sync'),
        ('transactions', '0009_search_by_budget'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='transaction',
            name='tx_budget_amount_idx',
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['budget', 'amount_minor', 'id'], include=('date', 'kind'), name='tx_budget_amount_idx'),
        ),
    ]
