from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts.roles import ensure_instructor_group

        # After every migrate, once every app's permissions exist.
        post_migrate.connect(ensure_instructor_group, dispatch_uid="accounts_instructor_group")
