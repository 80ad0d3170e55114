from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoursewareConfig(AppConfig):
    name = "courseware"
    verbose_name = "Course content"

    def ready(self) -> None:
        from courseware import models
        from courseware.roles import ensure_instructor_group
        from courseware.versioning import bump_content_version, bump_on_change

        post_migrate.connect(ensure_instructor_group, dispatch_uid="courseware_instructor_group")
        # A deployment migrates, and its templates may have changed: no cached fragment of the
        # last release is reused.
        post_migrate.connect(bump_content_version, sender=self, dispatch_uid="courseware_bump")
        bump_on_change(
            models.Course, models.Module, models.Lesson, models.Question, models.QuickCheck,
            models.QuickCheckOption,
        )
