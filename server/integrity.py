"""Database constraints a request can run into, as the API errors they mean.

Services check what they can before writing, under the locks named in
docs/architecture.md. The constraint stays the truth for what slips past a check (two
registrations of one email at once), so each app names the constraints its requests can
hit and the error each one means, next to the check that usually answers first:

    on_violation("budgets_category_name_ci_unique", error=name_taken)

The exception handler turns an IntegrityError into that error; one nobody named becomes a
409 and is logged, so an IntegrityError never reaches a client as a 500.
"""

import logging
import re
from collections.abc import Callable

from django.db import IntegrityError
from rest_framework.exceptions import APIException

from server.exceptions import Conflict

logger = logging.getLogger(__name__)

_ERRORS: dict[str, Callable[[], APIException]] = {}

# SQLite names a violated unique index by its columns ("accounts_user.email", or
# "households_invitation.household_id, households_invitation.email"), an expression
# index by name ("index 'budgets_category_name_ci_unique'"), a check constraint by name.
_SQLITE_MESSAGE = re.compile(
    r"^(?:UNIQUE|CHECK) constraint failed: (?:index '(?P<index>[^']+)'|(?P<other>.+))$"
)


def on_violation(*names: str, error: Callable[[], APIException]) -> None:
    """``error()`` answers a violation of any of these constraints: PostgreSQL's
    constraint or index name, or SQLite's "table.column[, table.column]" form."""
    for name in names:
        _ERRORS[name] = error


def violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)  # psycopg
    if diag is not None and diag.constraint_name:
        return diag.constraint_name
    match = _SQLITE_MESSAGE.match(str(exc))
    if match:
        return match["index"] or match["other"]
    return None


def as_api_error(exc: IntegrityError) -> APIException:
    name = violated_constraint(exc)
    error = _ERRORS.get(name)
    if error is not None:
        return error()
    logger.error("Unmapped constraint violation (%s): %s", name, exc)
    return Conflict(
        "The request clashed with a change made at the same time; nothing was saved. Try again.",
        code="concurrent_change",
    )
