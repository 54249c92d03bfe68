from django.db import migrations

from server.versioning import parent_version_triggers


class Migration(migrations.Migration):
    """A household's JSON shows its member count and the caller's role: a membership
    added, removed or given another role is a new version of the household."""

    dependencies = [
        ("households", "0002_row_versions"),
    ]

    operations = [
        migrations.RunPython(
            *parent_version_triggers(
                "households_membership",
                fk="household_id",
                parent="households_household",
                update_of=("household_id", "user_id", "role"),
            ),
            elidable=False,
        ),
    ]
