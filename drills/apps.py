from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"

    def ready(self) -> None:
        from config import copies
        from drills.models import Drill, Interaction

        copies.connect(Drill, Interaction)
