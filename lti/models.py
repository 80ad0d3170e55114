"""What the tool keeps beside the LTI records of django-lti (registrations, deployments, users,
contexts, resource links, line items): used nonces, what each link opens, and score passbacks.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from lti_tool.models import LtiContext, LtiLineItem, LtiResourceLink, LtiUser

from courseware.models import Section
from grading.models import Grade


class UsedNonce(models.Model):
    """A nonce seen in a launch. The library checks that the nonce was issued; this table makes
    sure it is accepted once, so a captured id_token cannot be posted again."""

    issuer = models.CharField(max_length=255)
    nonce = models.CharField(max_length=255)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "nonce"], name="lti_nonce_used_once")
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.nonce}"


class Placement(models.Model):
    """What one resource link of a platform opens: a lesson, a question, a drill, a simulator
    page or the course home (see lti.targets)."""

    resource_link = models.OneToOneField(
        LtiResourceLink, on_delete=models.CASCADE, related_name="placement"
    )
    target = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.resource_link} → {self.target}"


class ScorePostQuerySet(models.QuerySet):
    def dead(self) -> ScorePostQuerySet:
        return self.filter(status=ScorePost.Status.DEAD)

    def needing_attention(self) -> ScorePostQuerySet:
        return self.dead().select_related(
            "grade__submission__learner", "line_item__context", "lti_user"
        ).order_by("-updated_at")


class ScorePost(models.Model):
    """A learner's released grade on its way to one line item of a platform.

    There is one row per grade and line item. Each change of the grade raises ``generation``
    and queues a task that carries it; a task finding a newer generation leaves the work to the
    newer task, which sends the grade as it is then.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Received by the platform"
        DEAD = "dead", "Gave up after retries"

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="score_posts")
    line_item = models.ForeignKey(LtiLineItem, on_delete=models.CASCADE, related_name="+")
    lti_user = models.ForeignKey(LtiUser, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    generation = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # What was last sent, for the instructor's view and for the tests.
    sent_score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScorePostQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grade", "line_item"], name="lti_one_post_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.grade} → {self.line_item} ({self.status})"


class CourseLink(models.Model):
    """The section a platform course's roster is kept in (one section per platform course)."""

    context = models.OneToOneField(LtiContext, on_delete=models.CASCADE, related_name="link")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="lti_links")
    synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.context} → {self.section}"
