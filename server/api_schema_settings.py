"""The error body's and the OpenAPI schema's settings (drf-standardized-errors, drf-spectacular):
static, nothing read from the environment; server/settings.py imports them."""

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "server.exception_handler.ApiExceptionHandler",
    # Every /api/ error is JSON, with debug on too: no HTML traceback pages.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": [
        *("400", "401", "403", "404", "405", "409", "412", "413", "415", "422", "428", "429", "500"),
    ],
    "ERROR_SCHEMAS": {
        "401": "server.openapi.ErrorResponse401Serializer",
        "403": "server.openapi.ErrorResponse403Serializer",
        "409": "server.openapi.ErrorResponse409Serializer",
        "410": "server.openapi.ErrorResponse410Serializer",
        "429": "server.openapi.ErrorResponse429Serializer",
        "412": "server.openapi.ErrorResponse412Serializer",
        "413": "server.openapi.ErrorResponse413Serializer",
        "422": "server.openapi.ErrorResponse422Serializer",
        "428": "server.openapi.ErrorResponse428Serializer",
        "503": "server.openapi.ErrorResponse503Serializer",
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Household Budget API",
    "DESCRIPTION": (
        "Budgets, categories and transactions kept by individuals and shared explicitly "
        "within households. Authenticate with a JWT bearer token from /api/v1/auth/token/."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # The order the docs list them in: signing in first, then what a household sets up, in the
    # order a client meets it. Each operation's summary and description live next to its view.
    "TAGS": [
        {
            "name": "auth",
            "description": "Accounts and sessions: register, get a JWT pair (send the access token "
            "as `Authorization: Bearer <access>`), refresh it, log out; your profile, email "
            "verification, password change and reset.",
        },
        {
            "name": "households",
            "description": "Groups of people who share budgets. The creator is the owner; owners and "
            "admins invite, only the owner changes roles. A household you are not in is a 404.",
        },
        {
            "name": "invitations",
            "description": "Invitations addressed to you: list them once your email is verified, "
            "accept or decline them, or answer with the token from the invitation email.",
        },
        {
            "name": "budgets",
            "description": "Budgets you own plus those shared with you, and sharing them with a "
            'housemate or a whole household ("view" or "edit"). Viewers read, editors also '
            "change, only the owner deletes and shares.",
        },
        {
            "name": "categories",
            "description": "A budget's spending categories, each with an optional allocation. "
            "They follow their budget: view on it to read, edit to write.",
        },
        {
            "name": "transactions",
            "description": "Income and expenses recorded in a budget, one at a time, in bulk, or "
            "from a CSV file; listed, filtered and exported as CSV. Amounts are decimal strings "
            '("12.30") with exactly the currency\'s minor units.',
        },
        {
            "name": "sharing",
            "description": "Shared costs inside a household: a transaction's `split` says who paid "
            "and who it was for; the household's ledger, each member's balance per currency, who "
            "owes whom (pairwise or simplified) and the settlements that square it. Members only.",
        },
        {
            "name": "reports",
            "description": "Sums over one budget's transactions: the current period's summary and "
            "a month-by-month report. View on the budget is enough.",
        },
        {
            "name": "admin",
            "description": "For staff holding `budgets.manage_grants`: every grant on every budget, "
            "and admin grants to someone outside the owner's households.",
        },
        {
            "name": "health",
            "description": "Liveness and database reachability, for load balancers. No auth.",
        },
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "server.openapi.postprocess_validation_error_attrs",
        "server.openapi.postprocess_links",
        "server.openapi.postprocess_pinned_values",
        "server.openapi.postprocess_merge_error_components",
        "server.openapi.postprocess_require_operation_docs",
    ],
    "ENUM_NAME_OVERRIDES": {
        # Two different "role" choice sets: a member's role, and the roles an invitation offers.
        "MembershipRoleEnum": "households.models.Role.choices",
        "InvitationRoleEnum": "households.models.InvitationRole.choices",
        # A transaction's kind (expense, income) and a settlement's (payment, write_off).
        "TransactionKindEnum": "transactions.models.Kind.choices",
        "SettlementKindEnum": "transactions.models.SettlementKind.choices",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "server.openapi.ErrorCodes401",
        "ErrorCode403Enum": "server.openapi.ErrorCodes403",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode409Enum": "server.openapi.ErrorCodes409",
        "ErrorCode410Enum": "server.openapi.ErrorCodes410",
        "ErrorCode412Enum": "server.openapi.ErrorCodes412",
        "ErrorCode413Enum": "server.openapi.ErrorCodes413",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode422Enum": "server.openapi.ErrorCodes422",
        "ErrorCode428Enum": "server.openapi.ErrorCodes428",
        "ErrorCode429Enum": "server.openapi.ErrorCodes429",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "ErrorCode503Enum": "server.openapi.ErrorCodes503",
    },
}
