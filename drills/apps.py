from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class DrillsConfig(AppConfig):
    name = "drills"

    def ready(self) -> None:
        from courseware.models import Lesson
        from drills import cache
        from drills.models import Drill, Interaction

        for model in (Drill, Interaction, Lesson):
            for signal in (post_save, post_delete):
                signal.connect(
                    cache.clear, sender=model, dispatch_uid=f"drill_cache_{model.__name__}"
                )
