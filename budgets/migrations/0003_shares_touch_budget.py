from django.db import migrations

from server.versioning import parent_version_triggers


class Migration(migrations.Migration):
    """A budget's JSON shows what the caller may do with it (my_permissions), which its
    shares and grants decide: each one made, changed or removed is a new version of the
    budget, whichever path wrote it (a share, an admin grant, a departure's revocation)."""

    dependencies = [
        ("budgets", "0002_row_versions"),
    ]

    operations = [
        migrations.RunPython(
            *parent_version_triggers(
                "budgets_budgetuserobjectpermission", fk="content_object_id", parent="budgets_budget"
            ),
            elidable=False,
        ),
        migrations.RunPython(
            *parent_version_triggers(
                "budgets_budgetgroupobjectpermission", fk="content_object_id", parent="budgets_budget"
            ),
            elidable=False,
        ),
    ]
