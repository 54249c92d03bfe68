"""Settings for the test suite: the real settings, with test-only keys and a fast hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-for-the-suite-only-0123456789abcdefghij")
os.environ.setdefault("JWT_SIGNING_KEY", "test-jwt-signing-key-for-the-suite-only-0123456789abc")

from server.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Mail is sent inline, so a test sees it in mail.outbox when the request returns
# (server/tests/test_mail.py covers the background mode).
EMAIL_IN_BACKGROUND = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"].endswith("sqlite3") and not os.environ.get("MUTATION_RUN"):  # noqa: F405
    # A file, not SQLite's default in-memory test database: the live server's request threads
    # then each open their own connection, as real workers do, so the race tests
    # (server/tests/test_races.py) run against SQLite's locking too. Per process, so two
    # suites running at once do not share it. `make mutate` (no live server, a process per
    # mutant) keeps SQLite's in-memory test database.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"budget-api-test-{os.getpid()}.sqlite3")
    }
