from django.apps import AppConfig


class CoursewareConfig(AppConfig):
    name = "courseware"
    verbose_name = "Course content"

    # Given to the Instructors group (see accounts.roles).
    instructor_permissions = [
        "view_lesson", "change_lesson", "add_lesson",
        "view_question", "change_question", "add_question",
        "view_quickcheck", "change_quickcheck",
        "view_quickcheckoption", "change_quickcheckoption", "add_quickcheckoption",
        "view_module", "change_module",
    ]

    def ready(self) -> None:
        from config import copies
        from courseware import loader, models

        loader.register(loader)
        copies.connect(
            models.Course, models.Module, models.Lesson, models.Question, models.QuickCheck,
            models.QuickCheckOption,
        )
