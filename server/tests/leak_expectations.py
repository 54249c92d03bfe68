"""The leak matrix's table: for every /api/ route and every method, the exact status each
actor gets. server/tests/test_leak_matrix.py enumerates the routes from the URL conf; a
route or method without a row here fails that test, and so does a row whose route is gone.

The world (built in test_leak_matrix.py) belongs to tenant A ("owner"): household Home
(A owner; editor, viewer and member are members), budget Shared (user shares: editor
"edit", viewer "view"; household share: A's one-person household Annex "view"), budget
Private (shared with nobody), a category and a transaction in each, and a pending
invitation from Home to a third email. Path parameters name A's objects:

- ``{id}``: Home, Shared, Shared's category, Shared's transaction, the invitation, the
  admin grant behind editor's share, by route;
- ``{user_id}``: member (households/.../members/) or viewer (budgets/.../shares/users/);
- ``{household_id}``: Annex; ``{invitation_id}``: the invitation; ``{settlement_id}``: Home's
  settlement.

Write bodies are ones that succeed for an entitled actor. Columns, in ACTORS order:
anonymous, expired token, token of a deleted user, owner A, editor, viewer, member
(A's household, no share), stranger B (own household and data), staff (no grants,
no permissions).
"""

from server.tests.world import ANONYMOUS, EDITOR, MEMBER, OWNER, STAFF, STRANGER, VIEWER

EXPIRED = "expired"  # a real token of A's that ran out
DELETED = "deleted"  # a real token of a user deleted since
# The shared world's names (server/tests/world.py), in the columns' order.
ACTORS = (ANONYMOUS, EXPIRED, DELETED, OWNER, EDITOR, VIEWER, MEMBER, STRANGER, STAFF)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNAUTHENTICATED = (ANONYMOUS, EXPIRED, DELETED)

# Routes open without credentials: anyone, signed in or not, may get a 2xx there.
PUBLIC_ROUTES = frozenset(
    {
        "api/",
        "api/v1/",
        "api/health/",
        "api/schema/",
        "api/docs/",
        "auth/register/",
        "auth/token/",
        "auth/token/refresh/",
        "auth/logout/",
        "auth/password/reset/",
        "auth/password/reset/confirm/",
        "auth/email/verify/",
        "invitations/decline/",
    }
)

# Routes under one of A's objects -> the actors who may know that object exists. Every
# other actor's answer (status and body) must be byte-identical to the answer for an id
# that never existed, and never a 2xx (OPTIONS metadata aside, which is the same either way).
OBJECT_ROUTES = {
    "households/{id}/": ("owner", "editor", "viewer", "member"),
    "households/{id}/invitations/": ("owner", "editor", "viewer", "member"),
    "households/{id}/invitations/{invitation_id}/": ("owner", "editor", "viewer", "member"),
    "households/{id}/leave/": ("owner", "editor", "viewer", "member"),
    "households/{id}/members/": ("owner", "editor", "viewer", "member"),
    "households/{id}/members/{user_id}/": ("owner", "editor", "viewer", "member"),
    "households/{id}/ledger/": ("owner", "editor", "viewer", "member"),
    "households/{id}/balances/": ("owner", "editor", "viewer", "member"),
    "households/{id}/debts/": ("owner", "editor", "viewer", "member"),
    "households/{id}/settlements/": ("owner", "editor", "viewer", "member"),
    "households/{id}/settlements/{settlement_id}/": ("owner", "editor", "viewer", "member"),
    "households/{id}/activity/": ("owner", "editor", "viewer", "member"),
    # Addressed to a third email: no actor here is its invitee, not even A.
    "invitations/{id}/accept/": (),
    "invitations/{id}/decline/": (),
    "budgets/{id}/": ("owner", "editor", "viewer"),
    "budgets/{id}/shares/": ("owner", "editor", "viewer"),
    "budgets/{id}/shares/households/{household_id}/": ("owner", "editor", "viewer"),
    "budgets/{id}/shares/users/{user_id}/": ("owner", "editor", "viewer"),
    "budgets/{id}/summary/": ("owner", "editor", "viewer"),
    "budgets/{id}/report/monthly/": ("owner", "editor", "viewer"),
    "budgets/{id}/history/": ("owner", "editor", "viewer"),
    "budgets/{id}/changes/": ("owner", "editor", "viewer"),
    "categories/{id}/": ("owner", "editor", "viewer"),
    "categories/{id}/history/": ("owner", "editor", "viewer"),
    "transactions/{id}/": ("owner", "editor", "viewer"),
    "transactions/{id}/history/": ("owner", "editor", "viewer"),
    # Staff holding budgets.manage_grants only; no actor here holds it.
    "admin/grants/{id}/": (),
}

# Object routes that also name A's private budget (or its category/transaction) in place
# of the shared one: for everyone but A, that answer is the never-existing id's too.
PRIVATE_VARIANT_ROUTES = frozenset(
    route for route in OBJECT_ROUTES if route.startswith(("budgets/", "categories/", "transactions/"))
)

# Common rows.                    anon exp del own edi vie mem str sta
OPEN_2XX = "                      200 200 200 200 200 200 200 200 200"
OPEN_405 = "                      405 405 405 405 405 405 405 405 405"
OPEN_400 = "                      400 400 400 400 400 400 400 400 400"
SIGNED_IN_200 = "                 401 401 401 200 200 200 200 200 200"
SIGNED_IN_201 = "                 401 401 401 201 201 201 201 201 201"
SIGNED_IN_405 = "                 401 401 401 405 405 405 405 405 405"
SIGNED_IN_400 = "                 401 401 401 400 400 400 400 400 400"
SIGNED_IN_404 = "                 401 401 401 404 404 404 404 404 404"
SIGNED_IN_403 = "                 401 401 401 403 403 403 403 403 403"
# The schema and Swagger views are open but keep DRF's default JWT authentication, so a
# stale or dead token is a 401 there, where no token at all is a 200.
SCHEMA_200 = "                    200 401 401 200 200 200 200 200 200"
SCHEMA_405 = "                    405 401 401 405 405 405 405 405 405"
HOUSEHOLD_READ = "                401 401 401 200 200 200 200 404 404"
HOUSEHOLD_ADMIN_READ = "          401 401 401 200 403 403 403 404 404"
HOUSEHOLD_ADMIN_WRITE = "         401 401 401 201 403 403 403 404 404"
HOUSEHOLD_OWNER_200 = "           401 401 401 200 403 403 403 404 404"
HOUSEHOLD_OWNER_204 = "           401 401 401 204 403 403 403 404 404"
BUDGET_READ = "                   401 401 401 200 200 200 404 404 404"
BUDGET_EDIT = "                   401 401 401 200 200 403 404 404 404"
BUDGET_EDIT_204 = "               401 401 401 204 204 403 404 404 404"
BUDGET_OWNER_200 = "              401 401 401 200 403 403 404 404 404"
BUDGET_OWNER_204 = "              401 401 401 204 403 403 404 404 404"
# A write naming Shared in its body: outsiders get the unknown id's 400.
BUDGET_CREATE_IN = "              401 401 401 201 201 403 400 400 400"

_ROWS = {
    # --- outside /api/v1/ ----------------------------------------------------------------
    # The API's roots: where to go from here, to anyone.
    **{(root, method): OPEN_2XX for root in ("api/", "api/v1/") for method in ("GET", "HEAD", "OPTIONS")},
    **{
        (root, method): OPEN_405
        for root in ("api/", "api/v1/")
        for method in ("POST", "PUT", "PATCH", "DELETE")
    },
    ("api/health/", "GET"): OPEN_2XX,
    ("api/health/", "HEAD"): OPEN_2XX,
    ("api/health/", "POST"): OPEN_405,
    ("api/health/", "PUT"): OPEN_405,
    ("api/health/", "PATCH"): OPEN_405,
    ("api/health/", "DELETE"): OPEN_405,
    ("api/health/", "OPTIONS"): OPEN_2XX,
    ("api/schema/", "GET"): SCHEMA_200,
    ("api/schema/", "HEAD"): SCHEMA_200,
    ("api/schema/", "POST"): SCHEMA_405,
    ("api/schema/", "PUT"): SCHEMA_405,
    ("api/schema/", "PATCH"): SCHEMA_405,
    ("api/schema/", "DELETE"): SCHEMA_405,
    ("api/schema/", "OPTIONS"): SCHEMA_200,
    ("api/docs/", "GET"): SCHEMA_200,
    ("api/docs/", "HEAD"): SCHEMA_200,
    ("api/docs/", "POST"): SCHEMA_405,
    ("api/docs/", "PUT"): SCHEMA_405,
    ("api/docs/", "PATCH"): SCHEMA_405,
    ("api/docs/", "DELETE"): SCHEMA_405,
    # An HTML page, GET and HEAD only (OPTIONS used to be a 500: no template for metadata).
    ("api/docs/", "OPTIONS"): SCHEMA_405,
    # --- auth/ ---------------------------------------------------------------------------
    ("auth/register/", "GET"): OPEN_405,
    ("auth/register/", "HEAD"): OPEN_405,
    ("auth/register/", "POST"): "201 201 201 201 201 201 201 201 201",
    ("auth/register/", "PUT"): OPEN_405,
    ("auth/register/", "PATCH"): OPEN_405,
    ("auth/register/", "DELETE"): OPEN_405,
    ("auth/register/", "OPTIONS"): OPEN_2XX,
    ("auth/token/", "GET"): OPEN_405,
    ("auth/token/", "HEAD"): OPEN_405,
    ("auth/token/", "POST"): OPEN_2XX,
    ("auth/token/", "PUT"): OPEN_405,
    ("auth/token/", "PATCH"): OPEN_405,
    ("auth/token/", "DELETE"): OPEN_405,
    ("auth/token/", "OPTIONS"): OPEN_2XX,
    ("auth/token/refresh/", "GET"): OPEN_405,
    ("auth/token/refresh/", "HEAD"): OPEN_405,
    ("auth/token/refresh/", "POST"): OPEN_2XX,
    ("auth/token/refresh/", "PUT"): OPEN_405,
    ("auth/token/refresh/", "PATCH"): OPEN_405,
    ("auth/token/refresh/", "DELETE"): OPEN_405,
    ("auth/token/refresh/", "OPTIONS"): OPEN_2XX,
    ("auth/logout/", "GET"): OPEN_405,
    ("auth/logout/", "HEAD"): OPEN_405,
    ("auth/logout/", "POST"): "204 204 204 204 204 204 204 204 204",
    ("auth/logout/", "PUT"): OPEN_405,
    ("auth/logout/", "PATCH"): OPEN_405,
    ("auth/logout/", "DELETE"): OPEN_405,
    ("auth/logout/", "OPTIONS"): OPEN_2XX,
    ("auth/me/", "GET"): SIGNED_IN_200,
    ("auth/me/", "HEAD"): SIGNED_IN_200,
    ("auth/me/", "POST"): SIGNED_IN_405,
    ("auth/me/", "PUT"): SIGNED_IN_405,
    ("auth/me/", "PATCH"): SIGNED_IN_200,
    ("auth/me/", "DELETE"): SIGNED_IN_405,
    ("auth/me/", "OPTIONS"): SIGNED_IN_200,
    ("auth/password/", "GET"): SIGNED_IN_405,
    ("auth/password/", "HEAD"): SIGNED_IN_405,
    ("auth/password/", "POST"): SIGNED_IN_200,
    ("auth/password/", "PUT"): SIGNED_IN_405,
    ("auth/password/", "PATCH"): SIGNED_IN_405,
    ("auth/password/", "DELETE"): SIGNED_IN_405,
    ("auth/password/", "OPTIONS"): SIGNED_IN_200,
    # A reset request is answered alike for every address (the matrix asks for A's).
    ("auth/password/reset/", "GET"): OPEN_405,
    ("auth/password/reset/", "HEAD"): OPEN_405,
    ("auth/password/reset/", "POST"): "202 202 202 202 202 202 202 202 202",
    ("auth/password/reset/", "PUT"): OPEN_405,
    ("auth/password/reset/", "PATCH"): OPEN_405,
    ("auth/password/reset/", "DELETE"): OPEN_405,
    ("auth/password/reset/", "OPTIONS"): OPEN_2XX,
    # The token routes get a token nobody was sent: 400 token_invalid for everyone.
    ("auth/password/reset/confirm/", "GET"): OPEN_405,
    ("auth/password/reset/confirm/", "HEAD"): OPEN_405,
    ("auth/password/reset/confirm/", "POST"): OPEN_400,
    ("auth/password/reset/confirm/", "PUT"): OPEN_405,
    ("auth/password/reset/confirm/", "PATCH"): OPEN_405,
    ("auth/password/reset/confirm/", "DELETE"): OPEN_405,
    ("auth/password/reset/confirm/", "OPTIONS"): OPEN_2XX,
    ("auth/email/verify/", "GET"): OPEN_405,
    ("auth/email/verify/", "HEAD"): OPEN_405,
    ("auth/email/verify/", "POST"): OPEN_400,
    ("auth/email/verify/", "PUT"): OPEN_405,
    ("auth/email/verify/", "PATCH"): OPEN_405,
    ("auth/email/verify/", "DELETE"): OPEN_405,
    ("auth/email/verify/", "OPTIONS"): OPEN_2XX,
    # Everyone here has a verified address and nothing pending: 400 already_verified.
    ("auth/email/verify/resend/", "GET"): SIGNED_IN_405,
    ("auth/email/verify/resend/", "HEAD"): SIGNED_IN_405,
    ("auth/email/verify/resend/", "POST"): SIGNED_IN_400,
    ("auth/email/verify/resend/", "PUT"): SIGNED_IN_405,
    ("auth/email/verify/resend/", "PATCH"): SIGNED_IN_405,
    ("auth/email/verify/resend/", "DELETE"): SIGNED_IN_405,
    ("auth/email/verify/resend/", "OPTIONS"): SIGNED_IN_200,
    # --- households/ ---------------------------------------------------------------------
    ("households/", "GET"): SIGNED_IN_200,
    ("households/", "HEAD"): SIGNED_IN_200,
    ("households/", "POST"): SIGNED_IN_201,
    ("households/", "PUT"): SIGNED_IN_405,
    ("households/", "PATCH"): SIGNED_IN_405,
    ("households/", "DELETE"): SIGNED_IN_405,
    ("households/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/", "GET"): HOUSEHOLD_READ,
    ("households/{id}/", "HEAD"): HOUSEHOLD_READ,
    ("households/{id}/", "POST"): SIGNED_IN_405,
    ("households/{id}/", "PUT"): SIGNED_IN_405,
    ("households/{id}/", "PATCH"): HOUSEHOLD_OWNER_200,
    ("households/{id}/", "DELETE"): HOUSEHOLD_OWNER_204,
    ("households/{id}/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/invitations/", "GET"): HOUSEHOLD_ADMIN_READ,
    ("households/{id}/invitations/", "HEAD"): HOUSEHOLD_ADMIN_READ,
    ("households/{id}/invitations/", "POST"): HOUSEHOLD_ADMIN_WRITE,
    ("households/{id}/invitations/", "PUT"): SIGNED_IN_405,
    ("households/{id}/invitations/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/invitations/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/invitations/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/invitations/{invitation_id}/", "GET"): SIGNED_IN_405,
    ("households/{id}/invitations/{invitation_id}/", "HEAD"): SIGNED_IN_405,
    ("households/{id}/invitations/{invitation_id}/", "POST"): SIGNED_IN_405,
    ("households/{id}/invitations/{invitation_id}/", "PUT"): SIGNED_IN_405,
    ("households/{id}/invitations/{invitation_id}/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/invitations/{invitation_id}/", "DELETE"): HOUSEHOLD_OWNER_204,
    ("households/{id}/invitations/{invitation_id}/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/leave/", "GET"): SIGNED_IN_405,
    ("households/{id}/leave/", "HEAD"): SIGNED_IN_405,
    # The owner cannot leave while others remain (409); the other members can.
    ("households/{id}/leave/", "POST"): "401 401 401 409 204 204 204 404 404",
    ("households/{id}/leave/", "PUT"): SIGNED_IN_405,
    ("households/{id}/leave/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/leave/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/leave/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/members/", "GET"): HOUSEHOLD_READ,
    ("households/{id}/members/", "HEAD"): HOUSEHOLD_READ,
    ("households/{id}/members/", "POST"): SIGNED_IN_405,
    ("households/{id}/members/", "PUT"): SIGNED_IN_405,
    ("households/{id}/members/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/members/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/members/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/members/{user_id}/", "GET"): SIGNED_IN_405,
    ("households/{id}/members/{user_id}/", "HEAD"): SIGNED_IN_405,
    ("households/{id}/members/{user_id}/", "POST"): SIGNED_IN_405,
    ("households/{id}/members/{user_id}/", "PUT"): SIGNED_IN_405,
    ("households/{id}/members/{user_id}/", "PATCH"): HOUSEHOLD_OWNER_200,
    ("households/{id}/members/{user_id}/", "DELETE"): HOUSEHOLD_OWNER_204,
    ("households/{id}/members/{user_id}/", "OPTIONS"): SIGNED_IN_200,
    # Shared costs (transactions/splits/): Home's members read; a settlement from A to editor is
    # recorded by either of them (viewer and member are neither, nor admins); the one in the
    # world (editor to A, recorded by A) is deleted by its recorder, A.
    ("households/{id}/ledger/", "GET"): HOUSEHOLD_READ,
    ("households/{id}/ledger/", "HEAD"): HOUSEHOLD_READ,
    ("households/{id}/ledger/", "POST"): SIGNED_IN_405,
    ("households/{id}/ledger/", "PUT"): SIGNED_IN_405,
    ("households/{id}/ledger/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/ledger/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/ledger/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/balances/", "GET"): HOUSEHOLD_READ,
    ("households/{id}/balances/", "HEAD"): HOUSEHOLD_READ,
    ("households/{id}/balances/", "POST"): SIGNED_IN_405,
    ("households/{id}/balances/", "PUT"): SIGNED_IN_405,
    ("households/{id}/balances/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/balances/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/balances/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/debts/", "GET"): HOUSEHOLD_READ,
    ("households/{id}/debts/", "HEAD"): HOUSEHOLD_READ,
    ("households/{id}/debts/", "POST"): SIGNED_IN_405,
    ("households/{id}/debts/", "PUT"): SIGNED_IN_405,
    ("households/{id}/debts/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/debts/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/debts/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/settlements/", "GET"): HOUSEHOLD_READ,
    ("households/{id}/settlements/", "HEAD"): HOUSEHOLD_READ,
    ("households/{id}/settlements/", "POST"): "401 401 401 201 201 403 403 404 404",
    ("households/{id}/settlements/", "PUT"): SIGNED_IN_405,
    ("households/{id}/settlements/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/settlements/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/settlements/", "OPTIONS"): SIGNED_IN_200,
    ("households/{id}/settlements/{settlement_id}/", "GET"): SIGNED_IN_405,
    ("households/{id}/settlements/{settlement_id}/", "HEAD"): SIGNED_IN_405,
    ("households/{id}/settlements/{settlement_id}/", "POST"): SIGNED_IN_405,
    ("households/{id}/settlements/{settlement_id}/", "PUT"): SIGNED_IN_405,
    ("households/{id}/settlements/{settlement_id}/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/settlements/{settlement_id}/", "DELETE"): HOUSEHOLD_OWNER_204,
    ("households/{id}/settlements/{settlement_id}/", "OPTIONS"): SIGNED_IN_200,
    # The household's activity (budgets/history.py): its members; a member sees the budgets
    # shared with Home (Kitty) and Home's own events, never Shared or Private.
    ("households/{id}/activity/", "GET"): HOUSEHOLD_READ,
    ("households/{id}/activity/", "HEAD"): HOUSEHOLD_READ,
    ("households/{id}/activity/", "POST"): SIGNED_IN_405,
    ("households/{id}/activity/", "PUT"): SIGNED_IN_405,
    ("households/{id}/activity/", "PATCH"): SIGNED_IN_405,
    ("households/{id}/activity/", "DELETE"): SIGNED_IN_405,
    ("households/{id}/activity/", "OPTIONS"): SIGNED_IN_200,
    # --- invitations/ (addressed to the caller's email) ----------------------------------
    ("invitations/", "GET"): SIGNED_IN_200,
    ("invitations/", "HEAD"): SIGNED_IN_200,
    ("invitations/", "POST"): SIGNED_IN_405,
    ("invitations/", "PUT"): SIGNED_IN_405,
    ("invitations/", "PATCH"): SIGNED_IN_405,
    ("invitations/", "DELETE"): SIGNED_IN_405,
    ("invitations/", "OPTIONS"): SIGNED_IN_200,
    ("invitations/{id}/accept/", "GET"): SIGNED_IN_405,
    ("invitations/{id}/accept/", "HEAD"): SIGNED_IN_405,
    ("invitations/{id}/accept/", "POST"): SIGNED_IN_404,
    ("invitations/{id}/accept/", "PUT"): SIGNED_IN_405,
    ("invitations/{id}/accept/", "PATCH"): SIGNED_IN_405,
    ("invitations/{id}/accept/", "DELETE"): SIGNED_IN_405,
    ("invitations/{id}/accept/", "OPTIONS"): SIGNED_IN_200,
    ("invitations/{id}/decline/", "GET"): SIGNED_IN_405,
    ("invitations/{id}/decline/", "HEAD"): SIGNED_IN_405,
    ("invitations/{id}/decline/", "POST"): SIGNED_IN_404,
    ("invitations/{id}/decline/", "PUT"): SIGNED_IN_405,
    ("invitations/{id}/decline/", "PATCH"): SIGNED_IN_405,
    ("invitations/{id}/decline/", "DELETE"): SIGNED_IN_405,
    ("invitations/{id}/decline/", "OPTIONS"): SIGNED_IN_200,
    ("invitations/accept/", "GET"): SIGNED_IN_405,
    ("invitations/accept/", "HEAD"): SIGNED_IN_405,
    ("invitations/accept/", "POST"): SIGNED_IN_400,
    ("invitations/accept/", "PUT"): SIGNED_IN_405,
    ("invitations/accept/", "PATCH"): SIGNED_IN_405,
    ("invitations/accept/", "DELETE"): SIGNED_IN_405,
    ("invitations/accept/", "OPTIONS"): SIGNED_IN_200,
    ("invitations/decline/", "GET"): OPEN_405,
    ("invitations/decline/", "HEAD"): OPEN_405,
    ("invitations/decline/", "POST"): OPEN_400,
    ("invitations/decline/", "PUT"): OPEN_405,
    ("invitations/decline/", "PATCH"): OPEN_405,
    ("invitations/decline/", "DELETE"): OPEN_405,
    ("invitations/decline/", "OPTIONS"): OPEN_2XX,
    # --- budgets/ ------------------------------------------------------------------------
    ("budgets/", "GET"): SIGNED_IN_200,
    ("budgets/", "HEAD"): SIGNED_IN_200,
    ("budgets/", "POST"): SIGNED_IN_201,
    ("budgets/", "PUT"): SIGNED_IN_405,
    ("budgets/", "PATCH"): SIGNED_IN_405,
    ("budgets/", "DELETE"): SIGNED_IN_405,
    ("budgets/", "OPTIONS"): SIGNED_IN_200,
    ("budgets/{id}/", "GET"): BUDGET_READ,
    ("budgets/{id}/", "HEAD"): BUDGET_READ,
    ("budgets/{id}/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/", "PUT"): BUDGET_EDIT,
    ("budgets/{id}/", "PATCH"): BUDGET_EDIT,
    ("budgets/{id}/", "DELETE"): BUDGET_OWNER_204,
    ("budgets/{id}/", "OPTIONS"): SIGNED_IN_200,
    ("budgets/{id}/shares/", "GET"): "401 401 401 200 200 403 404 404 404",
    ("budgets/{id}/shares/", "HEAD"): "401 401 401 200 200 403 404 404 404",
    ("budgets/{id}/shares/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/shares/", "PUT"): SIGNED_IN_405,
    ("budgets/{id}/shares/", "PATCH"): SIGNED_IN_405,
    ("budgets/{id}/shares/", "DELETE"): SIGNED_IN_405,
    ("budgets/{id}/shares/", "OPTIONS"): SIGNED_IN_200,
    # Annex already holds a view share: PUT changes its level (200), DELETE removes it.
    ("budgets/{id}/shares/households/{household_id}/", "GET"): SIGNED_IN_405,
    ("budgets/{id}/shares/households/{household_id}/", "HEAD"): SIGNED_IN_405,
    ("budgets/{id}/shares/households/{household_id}/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/shares/households/{household_id}/", "PUT"): BUDGET_OWNER_200,
    ("budgets/{id}/shares/households/{household_id}/", "PATCH"): SIGNED_IN_405,
    ("budgets/{id}/shares/households/{household_id}/", "DELETE"): BUDGET_OWNER_204,
    ("budgets/{id}/shares/households/{household_id}/", "OPTIONS"): SIGNED_IN_200,
    # viewer already holds a view share: PUT makes it edit (200), DELETE removes it.
    ("budgets/{id}/shares/users/{user_id}/", "GET"): SIGNED_IN_405,
    ("budgets/{id}/shares/users/{user_id}/", "HEAD"): SIGNED_IN_405,
    ("budgets/{id}/shares/users/{user_id}/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/shares/users/{user_id}/", "PUT"): BUDGET_OWNER_200,
    ("budgets/{id}/shares/users/{user_id}/", "PATCH"): SIGNED_IN_405,
    ("budgets/{id}/shares/users/{user_id}/", "DELETE"): BUDGET_OWNER_204,
    ("budgets/{id}/shares/users/{user_id}/", "OPTIONS"): SIGNED_IN_200,
    ("budgets/{id}/summary/", "GET"): BUDGET_READ,
    ("budgets/{id}/summary/", "HEAD"): BUDGET_READ,
    ("budgets/{id}/summary/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/summary/", "PUT"): SIGNED_IN_405,
    ("budgets/{id}/summary/", "PATCH"): SIGNED_IN_405,
    ("budgets/{id}/summary/", "DELETE"): SIGNED_IN_405,
    ("budgets/{id}/summary/", "OPTIONS"): SIGNED_IN_200,
    ("budgets/{id}/report/monthly/", "GET"): BUDGET_READ,
    ("budgets/{id}/report/monthly/", "HEAD"): BUDGET_READ,
    ("budgets/{id}/report/monthly/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/report/monthly/", "PUT"): SIGNED_IN_405,
    ("budgets/{id}/report/monthly/", "PATCH"): SIGNED_IN_405,
    ("budgets/{id}/report/monthly/", "DELETE"): SIGNED_IN_405,
    ("budgets/{id}/report/monthly/", "OPTIONS"): SIGNED_IN_200,
    # History and delta sync: whoever can view the budget now (viewer sees no share events).
    ("budgets/{id}/history/", "GET"): BUDGET_READ,
    ("budgets/{id}/history/", "HEAD"): BUDGET_READ,
    ("budgets/{id}/history/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/history/", "PUT"): SIGNED_IN_405,
    ("budgets/{id}/history/", "PATCH"): SIGNED_IN_405,
    ("budgets/{id}/history/", "DELETE"): SIGNED_IN_405,
    ("budgets/{id}/history/", "OPTIONS"): SIGNED_IN_200,
    ("budgets/{id}/changes/", "GET"): BUDGET_READ,
    ("budgets/{id}/changes/", "HEAD"): BUDGET_READ,
    ("budgets/{id}/changes/", "POST"): SIGNED_IN_405,
    ("budgets/{id}/changes/", "PUT"): SIGNED_IN_405,
    ("budgets/{id}/changes/", "PATCH"): SIGNED_IN_405,
    ("budgets/{id}/changes/", "DELETE"): SIGNED_IN_405,
    ("budgets/{id}/changes/", "OPTIONS"): SIGNED_IN_200,
    # --- categories/ ---------------------------------------------------------------------
    ("categories/", "GET"): SIGNED_IN_200,
    ("categories/", "HEAD"): SIGNED_IN_200,
    ("categories/", "POST"): BUDGET_CREATE_IN,
    ("categories/", "PUT"): SIGNED_IN_405,
    ("categories/", "PATCH"): SIGNED_IN_405,
    ("categories/", "DELETE"): SIGNED_IN_405,
    ("categories/", "OPTIONS"): SIGNED_IN_200,
    ("categories/{id}/", "GET"): BUDGET_READ,
    ("categories/{id}/", "HEAD"): BUDGET_READ,
    ("categories/{id}/", "POST"): SIGNED_IN_405,
    ("categories/{id}/", "PUT"): SIGNED_IN_405,
    ("categories/{id}/", "PATCH"): BUDGET_EDIT,
    ("categories/{id}/", "DELETE"): BUDGET_EDIT_204,
    ("categories/{id}/", "OPTIONS"): SIGNED_IN_200,
    ("categories/{id}/history/", "GET"): BUDGET_READ,
    ("categories/{id}/history/", "HEAD"): BUDGET_READ,
    ("categories/{id}/history/", "POST"): SIGNED_IN_405,
    ("categories/{id}/history/", "PUT"): SIGNED_IN_405,
    ("categories/{id}/history/", "PATCH"): SIGNED_IN_405,
    ("categories/{id}/history/", "DELETE"): SIGNED_IN_405,
    ("categories/{id}/history/", "OPTIONS"): SIGNED_IN_200,
    # --- transactions/ -------------------------------------------------------------------
    ("transactions/", "GET"): SIGNED_IN_200,
    ("transactions/", "HEAD"): SIGNED_IN_200,
    ("transactions/", "POST"): BUDGET_CREATE_IN,
    ("transactions/", "PUT"): SIGNED_IN_405,
    ("transactions/", "PATCH"): SIGNED_IN_405,
    ("transactions/", "DELETE"): SIGNED_IN_405,
    ("transactions/", "OPTIONS"): SIGNED_IN_200,
    ("transactions/bulk/", "GET"): SIGNED_IN_405,
    ("transactions/bulk/", "HEAD"): SIGNED_IN_405,
    ("transactions/bulk/", "POST"): BUDGET_CREATE_IN,
    ("transactions/bulk/", "PUT"): SIGNED_IN_405,
    ("transactions/bulk/", "PATCH"): SIGNED_IN_405,
    ("transactions/bulk/", "DELETE"): SIGNED_IN_405,
    ("transactions/bulk/", "OPTIONS"): SIGNED_IN_200,
    ("transactions/export/", "GET"): SIGNED_IN_200,
    ("transactions/export/", "HEAD"): SIGNED_IN_200,
    ("transactions/export/", "POST"): SIGNED_IN_405,
    ("transactions/export/", "PUT"): SIGNED_IN_405,
    ("transactions/export/", "PATCH"): SIGNED_IN_405,
    ("transactions/export/", "DELETE"): SIGNED_IN_405,
    ("transactions/export/", "OPTIONS"): SIGNED_IN_200,
    ("transactions/import/", "GET"): SIGNED_IN_405,
    ("transactions/import/", "HEAD"): SIGNED_IN_405,
    ("transactions/import/", "POST"): BUDGET_CREATE_IN,
    ("transactions/import/", "PUT"): SIGNED_IN_405,
    ("transactions/import/", "PATCH"): SIGNED_IN_405,
    ("transactions/import/", "DELETE"): SIGNED_IN_405,
    ("transactions/import/", "OPTIONS"): SIGNED_IN_200,
    ("transactions/{id}/", "GET"): BUDGET_READ,
    ("transactions/{id}/", "HEAD"): BUDGET_READ,
    ("transactions/{id}/", "POST"): SIGNED_IN_405,
    ("transactions/{id}/", "PUT"): BUDGET_EDIT,
    ("transactions/{id}/", "PATCH"): BUDGET_EDIT,
    ("transactions/{id}/", "DELETE"): BUDGET_EDIT_204,
    ("transactions/{id}/", "OPTIONS"): SIGNED_IN_200,
    ("transactions/{id}/history/", "GET"): BUDGET_READ,
    ("transactions/{id}/history/", "HEAD"): BUDGET_READ,
    ("transactions/{id}/history/", "POST"): SIGNED_IN_405,
    ("transactions/{id}/history/", "PUT"): SIGNED_IN_405,
    ("transactions/{id}/history/", "PATCH"): SIGNED_IN_405,
    ("transactions/{id}/history/", "DELETE"): SIGNED_IN_405,
    ("transactions/{id}/history/", "OPTIONS"): SIGNED_IN_200,
    # --- admin/grants/ (staff holding budgets.manage_grants; nobody here) ----------------
    ("admin/grants/", "GET"): SIGNED_IN_403,
    ("admin/grants/", "HEAD"): SIGNED_IN_403,
    ("admin/grants/", "POST"): SIGNED_IN_403,
    ("admin/grants/", "PUT"): SIGNED_IN_403,
    ("admin/grants/", "PATCH"): SIGNED_IN_403,
    ("admin/grants/", "DELETE"): SIGNED_IN_403,
    ("admin/grants/", "OPTIONS"): SIGNED_IN_403,
    ("admin/grants/{id}/", "GET"): SIGNED_IN_403,
    ("admin/grants/{id}/", "HEAD"): SIGNED_IN_403,
    ("admin/grants/{id}/", "POST"): SIGNED_IN_403,
    ("admin/grants/{id}/", "PUT"): SIGNED_IN_403,
    ("admin/grants/{id}/", "PATCH"): SIGNED_IN_403,
    ("admin/grants/{id}/", "DELETE"): SIGNED_IN_403,
    ("admin/grants/{id}/", "OPTIONS"): SIGNED_IN_403,
}


def _parse(spec: str) -> dict[str, int]:
    codes = spec.split()
    if len(codes) != len(ACTORS):
        raise ValueError(f"A row needs {len(ACTORS)} statuses, one per actor: {spec!r}")
    return dict(zip(ACTORS, map(int, codes), strict=True))


EXPECTED: dict[tuple[str, str], dict[str, int]] = {key: _parse(spec) for key, spec in _ROWS.items()}
