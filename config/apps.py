from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SiteConfig(AppConfig):
    """Site-wide pieces that belong to no single app: security logging and the cache table."""

    name = "config"
    verbose_name = "Site"

    def ready(self) -> None:
        from config import security  # noqa: F401  (connects the security-log receivers)
        from config.caching import create_cache_tables

        post_migrate.connect(create_cache_tables, dispatch_uid="config_create_cache_tables")
