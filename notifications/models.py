from django.conf import settings
from django.db import models


class Preferences(models.Model):
    """Which e-mails a person wants; everyone gets all of them until they say otherwise."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preferences")
    grade_released = models.BooleanField(
        "When a grade of mine is released", default=True)
    grade_corrected = models.BooleanField(
        "When a released grade of mine is corrected", default=True)
    regrade_answered = models.BooleanField(
        "When my regrade request is answered", default=True)
    regrade_requested = models.BooleanField(
        "When a learner asks for a regrade (instructors)", default=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"E-mail preferences of {self.user}"
