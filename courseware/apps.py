from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoursewareConfig(AppConfig):
    name = "courseware"
    verbose_name = "Course content"

    # Given to the Instructors group (see accounts.roles).
    instructor_permissions = [
        "view_lesson", "change_lesson", "add_lesson",
        "view_question", "change_question", "add_question",
        "view_quickcheck", "change_quickcheck",
        "view_quickcheckoption", "change_quickcheckoption", "add_quickcheckoption",
        "view_problem", "change_problem",
        "view_module", "change_module",
        "view_section", "change_section", "add_section",
        "view_sectionmembership", "change_sectionmembership", "add_sectionmembership",
        "delete_sectionmembership",
    ]

    def ready(self) -> None:
        from courseware import card_kinds, cards, figure_views, loader, models, signals
        from courseware.versioning import bump_content_version, bump_on_change

        loader.register(loader)
        figure_views.register()
        cards.register(card_kinds.QuickCheckKind())
        cards.register(card_kinds.ProblemKind())
        signals.problem_missed.connect(
            card_kinds.review_missed_problem, dispatch_uid="review_missed_problem"
        )
        # A deployment migrates, and its templates may have changed: no cached fragment of the
        # last release is reused.
        post_migrate.connect(bump_content_version, sender=self, dispatch_uid="courseware_bump")
        bump_on_change(
            models.Course, models.Module, models.Lesson, models.Question, models.QuickCheck,
            models.QuickCheckOption, models.Problem,
        )
