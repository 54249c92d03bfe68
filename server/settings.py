"""Settings, read from the environment. Every variable is documented in .env.example."""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from server.api_schema_settings import DRF_STANDARDIZED_ERRORS, SPECTACULAR_SETTINGS  # noqa: F401
from server.env import (
    LOG_LEVELS,
    env_bool,
    env_cache,
    env_choice,
    env_database,
    env_email,
    env_from_address,
    env_hosts,
    env_int,
    env_origins,
    env_public_url,
    env_rate,
    env_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

# Published in this repository, so good for a developer's machine only.
_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", min_length=50)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = _DEV_SECRET
elif SECRET_KEY == _DEV_SECRET and not DEBUG:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is the published development key; set a secret one.")

# HS256 wants a key of at least 32 bytes (RFC 7518 section 3.2).
JWT_SIGNING_KEY = env_secret("JWT_SIGNING_KEY", min_length=32)
if not JWT_SIGNING_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("JWT_SIGNING_KEY is required when DJANGO_DEBUG is off.")
    JWT_SIGNING_KEY = SECRET_KEY
elif JWT_SIGNING_KEY == SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY.")

ALLOWED_HOSTS = env_hosts("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"], allow_empty=DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "guardian",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "axes",
    "server",
    "accounts",
    "households",
    "budgets",
    "transactions",
    "permissions",
    "idempotency",
    "history",
    "demo",
    "bench",
]

MIDDLEWARE = [
    # Outermost: every answer names its request id, which the changes it made record.
    "history.context.HistoryMiddleware",
    # First, so every /api/ answer (other middleware's included) leaves as JSON.
    "server.middleware.ApiResponseMiddleware",
    # If-None-Match on API GETs: it sees the view's final answer (server/conditional.py).
    "server.conditional.ConditionalGetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "server.middleware.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a locked-out admin login into the lockout page (accounts/lockout.py).
    "axes.middleware.AxesMiddleware",
    # Last: it runs the view inside the transaction that keeps its answer for retries.
    "idempotency.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Each worker keeps its connection: opening one costs PostgreSQL a process fork per
# request (several ms). Checked before reuse, so a restarted server is not an error.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same check, by the socket where it can: no SELECT 1 per request (server/postgresql).
    DATABASES["default"]["ENGINE"] = "server.postgresql"
# PostgreSQL: values bound by the server and statements prepared once per connection:
# every request runs the same few statements (the caller, the scope, the page), and
# planning them each time cost up to 0.6 ms apiece. 0 turns it off, for a transaction-mode
# connection pooler (PgBouncer before 1.21) that cannot keep prepared statements.
_prepare_after = env_int("DATABASE_PREPARE_THRESHOLD", 2)
if DATABASES["default"]["ENGINE"].endswith("postgresql") and _prepare_after:
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", _prepare_after)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are a PostgreSQL tuning; on SQLite Django builds the index
# without the extra columns and says so with models.W040.
SILENCED_SYSTEM_CHECKS = ["models.W040"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []

CACHES = {"default": env_cache("CACHE_URL")}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out attempt before any password is checked (accounts/lockout.py).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Request size limits; larger bodies get a 413 with the standard error body.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# HTTPS-only settings, on with DJANGO_SECURE=1 behind a TLS-terminating proxy.
SECURE = env_bool("DJANGO_SECURE", False)
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = 31_536_000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS", wildcard_subdomains=True)

CORS_ALLOWED_ORIGINS = env_origins("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"

# How many reverse proxies append to X-Forwarded-For; 0 trusts REMOTE_ADDR only,
# so a client cannot reset its throttle by sending its own header.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["server.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "server.negotiation.JSONFallbackNegotiation",
    "DEFAULT_PARSER_CLASSES": ["server.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["server.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "server.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "server.throttling.AnonRateThrottle",
        "server.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("THROTTLE_RATE_ANON", "100/min"),
        "user": env_rate("THROTTLE_RATE_USER", "1000/min"),
        "auth": env_rate("THROTTLE_RATE_AUTH", "10/min"),
        "email": env_rate("THROTTLE_RATE_EMAIL", "5/hour"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "server.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 5, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "CHECK_USER_IS_ACTIVE": True,
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    "LEEWAY": 0,
}

# Conditional writes (server/conditional.py): on, a PUT, PATCH or DELETE of one budget,
# category, transaction or household without If-Match is refused with 428.
REQUIRE_IF_MATCH = env_bool("REQUIRE_IF_MATCH", False)
# Retries (idempotency/middleware.py): how long the answer to a POST with an Idempotency-Key is
# kept, and whether the header is required on POST.
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
REQUIRE_IDEMPOTENCY_KEY = env_bool("REQUIRE_IDEMPOTENCY_KEY", False)

INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7, minimum=1)

# Delta sync (budgets/sync.py): how long a deleted category or transaction is reported to
# clients that sync (manage.py prune_tombstones removes older ones; a client that last synced
# before them gets 410 resync_required).
TOMBSTONE_RETENTION_DAYS = env_int("TOMBSTONE_RETENTION_DAYS", 90, minimum=1)

# Email (server/mail.py): EMAIL_URL sets Django's EMAIL_* settings. console:// (the default)
# prints every message to the terminal, which is what `make run` shows.
globals().update(env_email("EMAIL_URL", "console://"))
DEFAULT_FROM_EMAIL = env_from_address("DEFAULT_FROM_EMAIL", "Household Budget <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in emails point at the client app: PUBLIC_BASE_URL/verify-email?token=...
PUBLIC_BASE_URL = env_public_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
EMAIL_IN_BACKGROUND = env_bool("EMAIL_IN_BACKGROUND", True)
EMAIL_VERIFICATION_TTL_HOURS = env_int("EMAIL_VERIFICATION_TTL_HOURS", 48, minimum=1)
PASSWORD_RESET_TIMEOUT = 60 * env_int("PASSWORD_RESET_TTL_MINUTES", 60, minimum=5)
PASSWORD_RESET_EMAILS_PER_HOUR = env_int("PASSWORD_RESET_EMAILS_PER_HOUR", 3, minimum=1)

# Brute force (accounts/lockout.py, django-axes): failures per (email, IP) and per IP.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_LIMIT_PER_IP = env_int("LOGIN_FAILURE_LIMIT_PER_IP", 50, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AXES_HANDLER = "accounts.lockout.LoginLockoutHandler"
AXES_CACHE = "default"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_email"
AXES_CLIENT_IP_CALLABLE = "server.throttling.client_ip"
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = False  # the handler clears the (email, IP) count only
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# CSV imports running at once in the whole deployment (transactions/import_slots.py), and how
# long one import's database work may take before it is rolled back (PostgreSQL).
IMPORT_MAX_CONCURRENT = env_int("IMPORT_MAX_CONCURRENT", 1, minimum=1)
IMPORT_TIMEOUT_SECONDS = env_int("IMPORT_TIMEOUT_SECONDS", 30, minimum=1)

# Bench-only endpoints (the framework floor) and a query-count header; never on in production:
# the floor views read any user's rows by a user id in the URL, without a token.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)
if BENCH_ENDPOINTS and SECURE:
    raise ImproperlyConfigured(
        "BENCH_ENDPOINTS serves rows without authentication; never set it with DJANGO_SECURE."
    )
if BENCH_ENDPOINTS:
    MIDDLEWARE.insert(0, "bench.middleware.QueryCountMiddleware")

# Every record is printed once, by the root's handler. Django's default config gives the
# "django" logger a console handler of its own under DEBUG, and its records propagate to the
# root as well, so each (a 404's "Not Found: ...", a security warning) came out twice under
# `make run`: that logger gets no handler here, and no level of its own, so LOG_LEVEL rules
# it too. runserver's request lines ("django.server") keep Django's own handler and format,
# and do not propagate.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"level": "INFO", "class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)},
    "loggers": {
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous callers see nothing
