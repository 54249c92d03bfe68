"""What the change log records of transactions and shared costs (history/triggers.py;
installed by migration 0008). A change here needs a migration that installs them again."""

from history.triggers import Field, Tracked


def _budget_of(transaction: str) -> str:
    """The budget of the transaction ``transaction`` names: its row's, or, when the row went
    in the same statement (its split goes with it, by tx_split_deleted), its last event's.
    On PostgreSQL the transaction's history trigger runs before tx_split_deleted (AFTER
    triggers fire in name order); on SQLite the newest trigger fires first, so migration
    0008 creates the history triggers after tx_split_deleted (test_history_write_paths.py
    checks a deleted split's events keep their budget)."""
    return (
        f"coalesce((SELECT t.budget_id FROM transactions_transaction AS t WHERE t.id = {transaction}), "
        "(SELECT e.budget_id FROM history_event AS e "
        f"WHERE e.transaction_id = {transaction} AND e.object_type = 'transaction' "
        "ORDER BY e.id DESC LIMIT 1))"
    )


TRANSACTION = Tracked(
    table="transactions_transaction",
    object_type="transaction",
    fields=(
        Field("budget", "budget_id"),
        Field("category", "category_id"),
        Field("kind", "kind"),
        Field("amount", "amount_minor", budget_currency="budget_id"),
        Field("date", "date"),
        Field("payee", "payee"),
        Field("description", "description"),
        Field("notes", "notes"),
        Field("created_by", "created_by_id"),
    ),
    budget="{r}.budget_id",
    transaction="{r}.id",
)

SPLIT = Tracked(
    table="transactions_split",
    object_type="split",
    fields=(
        Field("household", "household_id"),
        Field("paid_by", "paid_by_id"),
        Field("mode", "mode"),
        Field("currency", "currency"),
    ),
    budget=_budget_of("{r}.transaction_id"),
    household="{r}.household_id",
    transaction="{r}.transaction_id",
    pk="transaction_id",
)

SPLIT_SHARE = Tracked(
    table="transactions_splitshare",
    object_type="split_share",
    fields=(
        Field("user", "user_id"),
        Field("amount", "amount_minor", currency="currency"),
        Field("weight", "weight", places=4),
    ),
    budget=_budget_of("{r}.split_id"),
    household="{r}.household_id",
    transaction="{r}.split_id",
)

SETTLEMENT = Tracked(
    table="transactions_settlement",
    object_type="settlement",
    fields=(
        Field("kind", "kind"),
        Field("from", "from_user_id"),
        Field("to", "to_user_id"),
        Field("amount", "amount_minor", currency="currency"),
        Field("currency", "currency"),
        Field("date", "date"),
        Field("note", "note"),
        Field("recorded_by", "recorded_by_id"),
    ),
    household="{r}.household_id",
)

TRACKED = (TRANSACTION, SPLIT, SPLIT_SHARE, SETTLEMENT)
