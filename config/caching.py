"""The shared cache lives in the database unless Redis is configured; make sure its table exists.

Idempotency tokens and other cross-request state go through this cache, so every app server of a
deployment must see the same one: never a per-process memory cache.
"""

from django.conf import settings
from django.core.management import call_command

DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"


def create_cache_tables(*, app_config, using: str = "default", **kwargs) -> None:
    """Run after every migrate, so a deployment that only migrates still has its cache table."""
    # post_migrate fires once for every app; one of them is enough.
    if app_config.label != "sessions":
        return
    if any(cache["BACKEND"] == DATABASE_CACHE for cache in settings.CACHES.values()):
        call_command("createcachetable", database=using, verbosity=0)
