from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"

    # Given to the Instructors group (see accounts.roles).
    instructor_permissions = [
        "grade_submission",
        "view_all_submissions",
        "view_submission",
        "change_submission",
        "release_grade",
        "view_grade",
        "change_grade",
        "view_gradechange",
        "view_feedbacksnippet",
        "add_feedbacksnippet",
        "change_feedbacksnippet",
        "delete_feedbacksnippet",
        "view_regraderequest",
        "change_regraderequest",
        "view_duedate", "add_duedate", "change_duedate", "delete_duedate",
        "view_extension", "add_extension", "change_extension", "delete_extension",
        "view_scheduledrelease",
        "view_rubricchange",
        "view_claim", "delete_claim",
        "view_gradingoptions", "add_gradingoptions", "change_gradingoptions",
    ]

    def ready(self) -> None:
        from courseware import handins, slots
        from grading.desk import GradingDesk

        handins.register(GradingDesk())
        slots.fill("home-progress", "grading/_home_grades.html")
