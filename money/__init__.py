"""Exact money for every app: ISO 4217 currencies and their minor units (currencies), the
conversions between decimal strings and integer minor units (amounts), the serializer fields
(fields) and the admin's display (admin). Below budgets and transactions, which both use it."""
