"""What the change log records of memberships (history/triggers.py; installed by migration
0004). A change here needs a migration that installs them again."""

from history.triggers import Field, Tracked

MEMBERSHIP = Tracked(
    table="households_membership",
    object_type="membership",
    fields=(Field("user", "user_id"), Field("role", "role")),
    household="{r}.household_id",
)

TRACKED = (MEMBERSHIP,)
