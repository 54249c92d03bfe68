"""Request bodies the OpenAPI schema shows as examples (Swagger UI's "Try it out" starts
from them, and schemathesis sends them)."""

# One transaction as a client sends it: a budget it can edit, the amount as a decimal string
# in that budget's currency.
TRANSACTION_EXAMPLE = {
    "budget": 12,
    "category": 34,
    "kind": "expense",
    "amount": "12.30",
    "date": "2026-12-01",
    "payee": "Corner Shop",
    "description": "Milk and bread",
}

# A file for transactions/import/: the header row, then one row per transaction.
IMPORT_CSV_EXAMPLE = (
    "date,amount,kind,category,payee,description,notes\n"
    "2026-12-01,12.30,expense,Food,Corner Shop,Milk and bread,\n"
    "2026-12-02,1850.00,income,,Acme Ltd,December salary,\n"
)
