from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"

    def ready(self) -> None:
        from courseware.versioning import bump_on_change
        from drills.models import Drill, Interaction

        bump_on_change(Drill, Interaction)
