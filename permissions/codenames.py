"""Permission ids looked up once per process instead of joining codenames per request.

The cache is dropped whenever migrations run (a test database flush re-creates
the permission rows with new ids).
"""

from django.contrib.auth.models import Permission
from django.db.models.signals import post_migrate

_cache: dict[tuple[str, str], int] = {}


def permission_id(app_label: str, codename: str) -> int:
    key = (app_label, codename)
    if key not in _cache:
        _cache[key] = (
            Permission.objects.only("pk").get(content_type__app_label=app_label, codename=codename).pk
        )
    return _cache[key]


def clear_cache(**kwargs) -> None:
    _cache.clear()


post_migrate.connect(clear_cache, dispatch_uid="permissions.codenames.clear_cache")
