"""Settings for the test suite: the real settings, with test-only keys and a fast hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-for-the-suite-only-0123456789abcdefghij")
os.environ.setdefault("JWT_SIGNING_KEY", "test-jwt-signing-key-for-the-suite-only-0123456789abc")

from server.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
