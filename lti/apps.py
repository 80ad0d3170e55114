from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI tool"

    # Given to the Instructors group (see accounts.roles).
    instructor_permissions = ["view_scorepost", "change_scorepost", "view_courselink",
                              "change_courselink"]

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from courseware import slots
        from grading.models import GradeChange
        from lti.signals import grade_changed

        post_save.connect(grade_changed, sender=GradeChange, dispatch_uid="lti_passback")
        slots.fill("home-actions", "lti/_home_passbacks.html")
