from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from courseware import slots
        from grading.models import GradeChange, RegradeRequest
        from notifications import signals

        post_save.connect(signals.grade_changed, sender=GradeChange,
                          dispatch_uid="notifications_grade_changed")
        post_save.connect(signals.regrade_requested, sender=RegradeRequest,
                          dispatch_uid="notifications_regrade_requested")
        slots.fill("home-progress", "notifications/_home_settings_link.html")
