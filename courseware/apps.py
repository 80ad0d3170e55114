from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoursewareConfig(AppConfig):
    name = "courseware"
    verbose_name = "Course content"

    def ready(self) -> None:
        from config import copies
        from courseware import models
        from courseware.roles import ensure_instructor_group

        post_migrate.connect(ensure_instructor_group, dispatch_uid="courseware_instructor_group")
        copies.connect(
            models.Course, models.Module, models.Lesson, models.Question, models.QuickCheck,
            models.QuickCheckOption,
        )
