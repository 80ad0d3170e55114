from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI tool"

    # Given to the Instructors group (see accounts.roles).
    instructor_permissions = ["view_scorepost", "change_scorepost"]
