from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from courseware.models import Question, Section, SectionMembership
from courseware.rendering import render_markdown
from drills import workflow
from drills.models import Attempt, Drill


class SubmissionQuerySet(models.QuerySet):
    def awaiting_grading(self) -> "SubmissionQuerySet":
        return self.filter(status=Submission.Status.AWAITING).order_by("created_at")

    def for_learner(self, user) -> "SubmissionQuerySet":
        return self.filter(learner=user)

    def in_section(self, slug: str) -> "SubmissionQuerySet":
        """The hand-ins of the learners in the sections called ``slug``; all when it is blank."""
        if not slug:
            return self
        return self.filter(learner_id__in=SectionMembership.objects.learner_ids_in(slug))

    def for_questions(self) -> "SubmissionQuerySet":
        return self.filter(question__isnull=False)

    def for_drills(self) -> "SubmissionQuerySet":
        return self.filter(attempt__isnull=False)

    def counted(self) -> "SubmissionQuerySet":
        """The hand-ins that count: each learner's newest version of each piece of work."""
        return self.exclude(status=Submission.Status.SUPERSEDED)

    def versions_of(self, submission: "Submission") -> "SubmissionQuerySet":
        """Every version the learner handed in of the same question or drill, newest first."""
        same = {"question_id": submission.question_id} if submission.question_id else {
            "attempt__drill_id": submission.drill_attempt.drill_id
        }
        return self.filter(learner_id=submission.learner_id, **same).order_by(
            "-version", "-created_at", "-pk"
        )


class Submission(models.Model):
    """What a learner hands in for an instructor to grade: a written answer or a drill attempt."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", "Awaiting grading"
        GRADED = "graded", "Graded"
        RETURNED = "returned", "Returned"
        SUPERSEDED = "superseded", "Replaced by a newer version"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    # Exactly one of question and attempt is set.
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="submissions", null=True, blank=True
    )
    attempt = models.OneToOneField(
        Attempt,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="submission",
        help_text="A drill attempt handed in for an instructor to review.",
    )
    answer = models.TextField()
    # Structured answers, such as the rows of a learner's own workflow.
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING)
    # 1 for a learner's first hand-in of a question or drill; a new one supersedes the pending.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Equal for submissions with identical answers, so an instructor can grade them once.
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # Sent with the form that hands the work in: a repeated or racing submit of the same form
    # finds the first submission instead of storing a copy.
    token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("grade_submission", "Can grade learners' submissions"),
            ("view_all_submissions", "Can see every learner's submissions"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(question__isnull=False, attempt__isnull=True)
                    | models.Q(question__isnull=True, attempt__isnull=False)
                ),
                name="submission_question_or_attempt",
                violation_error_message="A submission answers either a question or a drill.",
            )
        ]

    def __str__(self) -> str:
        if self.question_id:
            return f"{self.learner} on {self.answered_question.slug}"
        return f"{self.learner} on drill {self.drill_attempt.drill.slug}"

    # The check constraint sets exactly one of question and attempt, so a caller that has seen
    # which id is set reads the matching one of these two.
    @property
    def answered_question(self) -> Question:
        """The question this answers; only for a submission whose ``question_id`` is set."""
        assert self.question is not None, "this submission hands in a drill attempt"
        return self.question

    @property
    def drill_attempt(self) -> Attempt:
        """The drill attempt handed in; only for a submission whose ``attempt_id`` is set."""
        assert self.attempt is not None, "this submission answers a question"
        return self.attempt

    @property
    def max_score(self) -> Decimal:
        """The most this work can score, as the question or drill says today."""
        if self.question_id:
            return Decimal(self.answered_question.max_score)
        return Decimal(self.drill_attempt.total)

    @property
    def shown_answer(self) -> str:
        """The answer as every page shows it. An own workflow is written out again from its
        rows, so one handed in while the builder still let a tick set the path shows the path
        its structure gives, as newer ones do."""
        text = workflow.payload_text(self.payload) if isinstance(self.payload, dict) else None
        return text or self.answer

    @property
    def released_grade(self):
        """The instructor's grade once released to the learner; None before that."""
        grade = getattr(self, "grade", None)
        return grade if grade is not None and grade.released else None

    @property
    def learner_status_display(self) -> str:
        # Drafts stay private to instructors, so a learner sees "awaiting" until release.
        if self.status == self.Status.RETURNED:
            return "Graded"
        if self.released_grade is not None:
            return "Regrade requested"
        return "Awaiting grading"


class GradeQuerySet(models.QuerySet):
    def released(self) -> "GradeQuerySet":
        return self.filter(released=True)

    def drafts(self) -> "GradeQuerySet":
        return self.filter(released=False)

    def in_section(self, slug: str) -> "GradeQuerySet":
        """The grades of the learners in the sections called ``slug``; all when it is blank."""
        if not slug:
            return self
        return self.filter(
            submission__learner_id__in=SectionMembership.objects.learner_ids_in(slug))

    def unseen_by(self, user) -> "GradeQuerySet":
        """Released grades the learner has not opened yet."""
        return self.filter(submission__learner=user, released=True, seen_at__isnull=True)


class Grade(models.Model):
    """An instructor's grade of one submission: a draft until it is released to the learner."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="grade")
    score = models.DecimalField(max_digits=6, decimal_places=2)
    # The maximum when the work was graded: a later change to the question does not move it.
    max_score = models.DecimalField(max_digits=6, decimal_places=2, editable=False)
    # The ids of the criteria the instructor ticked, read against ``rubric``.
    criteria_met = models.JSONField(default=list, blank=True)
    # The rubric as it stood when graded ({"id", "label", "points"} each): a later edit of the
    # rubric changes a grade only when the instructor applies it to existing grades.
    rubric = models.JSONField(default=list, blank=True, editable=False)
    feedback_markdown = models.TextField(blank=True)
    feedback_html = models.TextField(blank=True, editable=False)
    released = models.BooleanField(default=False)
    released_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(
        null=True, blank=True, help_text="When the learner first opened the released grade."
    )
    # Bumped on every change; a save that names an older version is refused.
    version = models.PositiveIntegerField(default=1)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GradeQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        permissions = [("release_grade", "Can release grades to learners")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=0), name="grade_score_not_negative",
                violation_error_message="The score cannot be below 0.",
            ),
            models.CheckConstraint(
                condition=models.Q(score__lte=models.F("max_score")),
                name="grade_score_within_maximum",
                violation_error_message="The score cannot be above the maximum.",
            ),
            models.CheckConstraint(
                condition=models.Q(released=False) | models.Q(released_at__isnull=False),
                name="grade_released_has_time",
                violation_error_message="A released grade records when it was released.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission}: {self.score}"

    def save(self, *args, **kwargs) -> None:
        if self.max_score is None:
            self.max_score = self.submission.max_score
        if self._state.adding and not self.rubric:
            from grading.assessments import for_submission

            self.rubric = for_submission(self.submission).snapshot()
        self._check_release()
        if self.released and self.released_at is None:
            self.released_at = timezone.now()
        self.feedback_html = render_markdown(self.feedback_markdown).html
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.max_score is None and self.submission_id:
            self.max_score = self.submission.max_score
        if self.score is not None and self.max_score is not None and not (
            0 <= self.score <= self.max_score
        ):
            raise ValidationError(
                {"score": f"The score must be between 0 and {self.max_score.normalize():f}."}
            )
        if self._state.adding and not self.rubric and self.submission_id:
            from grading.assessments import for_submission

            self.rubric = for_submission(self.submission).snapshot()
        if self.rubric or self.criteria_met:
            known = {str(c.get("id")) for c in self.rubric or [] if isinstance(c, dict)}
            chosen = self.criteria_met if isinstance(self.criteria_met, list) else [None]
            unknown = [str(c) for c in chosen if str(c) not in known]
            if unknown:
                raise ValidationError({"criteria_met": (
                    f"Not criteria of this grade's rubric: {', '.join(unknown)}. Name criteria "
                    f"by id: {', '.join(sorted(known)) or 'this rubric has none'}."
                )})
        self._check_release()

    def _check_release(self) -> None:
        # Taking a grade back from the learner would change what they were shown without
        # telling them; a released grade changes only by a regrade or a correction.
        if self.pk and not self.released and Grade.objects.filter(
            pk=self.pk, released=True
        ).exists():
            raise ValidationError(
                {"released": "A released grade cannot be taken back. Correct it instead, "
                             "giving the learner a reason."}
            )

    @property
    def is_new_to_learner(self) -> bool:
        return self.released and self.seen_at is None

    def criteria_rows(self) -> list[tuple[str, str, Decimal, bool]]:
        """(id, label, points, met) for each criterion of the rubric this grade was given on."""
        met = set(self.criteria_met or [])
        return [
            (str(c["id"]), str(c.get("label", "")), Decimal(str(c.get("points", 0))),
             c["id"] in met)
            for c in self.rubric or []
        ]

    def labels(self, ids) -> list[str]:
        chosen = set(ids)
        return [label for cid, label, _, _ in self.criteria_rows() if cid in chosen]


class GradeChange(models.Model):
    """One line of a grade's history: who changed what, when and why."""

    class Action(models.TextChoices):
        CREATED = "created", "Graded"
        EDITED = "edited", "Edited"
        GROUP = "group", "Graded with identical answers"
        RELEASED = "released", "Released"
        REGRADED = "regraded", "Regraded on request"
        ADMIN = "admin", "Edited in the admin"
        CORRECTED = "corrected", "Grade corrected"
        RUBRIC = "rubric", "Rubric change applied"

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=20, choices=Action.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    old_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    new_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    old_criteria = models.JSONField(default=list, blank=True)
    new_criteria = models.JSONField(default=list, blank=True)
    old_feedback = models.TextField(blank=True)
    new_feedback = models.TextField(blank=True)
    old_released = models.BooleanField(null=True, blank=True)
    new_released = models.BooleanField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        when = f"{self.changed_at:%Y-%m-%d %H:%M}"
        return f"{self.get_action_display()} by {self.changed_by} at {when}"

    @property
    def score_changed(self) -> bool:
        return self.old_score != self.new_score

    @property
    def feedback_changed(self) -> bool:
        return self.old_feedback != self.new_feedback

    @property
    def criteria_changed(self) -> bool:
        return self.old_score is not None and self.old_criteria != self.new_criteria

    @property
    def release_changed(self) -> bool:
        return self.old_released is not None and self.old_released != self.new_released


class FeedbackSnippetQuerySet(models.QuerySet):
    def for_submission(self, submission: Submission) -> "FeedbackSnippetQuerySet":
        if submission.question_id:
            return self.filter(question_id=submission.question_id)
        return self.filter(drill_id=submission.drill_attempt.drill_id)


class FeedbackSnippet(models.Model):
    """A comment an instructor wrote once and inserts wherever the same point comes up again."""

    # Saved for one question or one drill.
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="snippets"
    )
    drill = models.ForeignKey(
        Drill, on_delete=models.CASCADE, null=True, blank=True, related_name="snippets"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FeedbackSnippetQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(question__isnull=False, drill__isnull=True)
                    | models.Q(question__isnull=True, drill__isnull=False)
                ),
                name="snippet_question_or_drill",
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]


class RegradeRequestQuerySet(models.QuerySet):
    def open(self) -> "RegradeRequestQuerySet":
        return self.filter(resolved_at__isnull=True)


class RegradeRequest(models.Model):
    """A learner's request to look at a released grade again, and the instructor's answer."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="regrade_requests"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    answer = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    score_before = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    score_after = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # The instructor's answer while drafted: the learner sees it, and any new score, only once
    # it is returned. Until then the released grade stays as the learner knows it.
    draft_answer = models.TextField(blank=True)
    draft_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    draft_criteria = models.JSONField(default=list, blank=True)
    draft_feedback = models.TextField(blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    drafted_at = models.DateTimeField(null=True, blank=True)

    objects = RegradeRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_regrade_per_submission",
            )
        ]

    def __str__(self) -> str:
        return f"Regrade of {self.submission}"

    @property
    def is_drafted(self) -> bool:
        return self.resolved_at is None and self.drafted_at is not None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None



class RubricChange(models.Model):
    """An edit of a question's rubric, and whether the existing grades were brought along."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    old_rubric = models.JSONField(default=list)
    new_rubric = models.JSONField(default=list)
    # False: existing grades keep the rubric they were given on; new grades use the new one.
    applied = models.BooleanField()
    grades_changed = models.PositiveIntegerField(default=0)
    reason = models.TextField()
    # Blank on edits made before the maximum could be changed here.
    old_max_score = models.PositiveIntegerField(null=True, blank=True)
    new_max_score = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"Rubric of {self.question.slug} changed at {self.changed_at:%Y-%m-%d %H:%M}"

    def summary(self) -> list[str]:
        """What changed, criterion by criterion, in words."""
        old = {c["id"]: c for c in self.old_rubric}
        new = {c["id"]: c for c in self.new_rubric}
        lines = []
        for cid, criterion in new.items():
            before = old.get(cid)
            points = f"{Decimal(str(criterion['points'])).normalize():f}"
            if before is None:
                lines.append(f"Added “{criterion['label']}” ({points} pts)")
                continue
            if before["label"] != criterion["label"]:
                lines.append(f"Reworded “{before['label']}” as “{criterion['label']}”")
            if Decimal(str(before["points"])) != Decimal(str(criterion["points"])):
                was = f"{Decimal(str(before['points'])).normalize():f}"
                lines.append(f"“{criterion['label']}”: {was} → {points} pts")
        lines += [f"Removed “{c['label']}”" for cid, c in old.items() if cid not in new]
        if not lines and list(old) != list(new):
            lines.append("Criteria reordered")
        if self.old_max_score is not None and self.old_max_score != self.new_max_score:
            lines.append(f"Maximum score: {self.old_max_score} → {self.new_max_score}")
        return lines


class ClaimQuerySet(models.QuerySet):
    def active(self) -> "ClaimQuerySet":
        return self.filter(expires_at__gt=timezone.now())


class Claim(models.Model):
    """A grader's hold on one submission, so graders who split a queue never grade the same one.

    A claim lapses by itself: a grader who walks away does not block the submission for long.
    """

    # One row per submission, ever: a lapsed claim is taken over by a conditional update, so of
    # two graders claiming at once exactly one succeeds.
    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="claim")
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["expires_at"]

    def __str__(self) -> str:
        return f"{self.grader} holds {self.submission_id} until {self.expires_at:%H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class GradingOptions(models.Model):
    """How one question is graded, beyond its rubric."""

    question = models.OneToOneField(Question, on_delete=models.CASCADE, primary_key=True,
                                    related_name="+")
    # Graders see a pseudonym instead of the learner's name until the grade is released, so
    # who wrote an answer does not colour how it is read.
    anonymous = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "grading options"

    def __str__(self) -> str:
        return f"Grading options of {self.question.slug}"


def _question_or_drill(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            models.Q(question__isnull=False, drill__isnull=True)
            | models.Q(question__isnull=True, drill__isnull=False)
        ),
        name=name,
        violation_error_message="Set either a question or a drill, not both.",
    )


class DueDateQuerySet(models.QuerySet):
    def for_assessment(self, *, question_id: int | None = None, drill_id: int | None = None
                       ) -> "DueDateQuerySet":
        if question_id is not None:
            return self.filter(question_id=question_id)
        return self.filter(drill_id=drill_id)


class DueDate(models.Model):
    """When one section must hand in one question or drill, and what a late hand-in costs.

    Late work is always accepted and marked. The penalty takes a share of the score for each
    day or part of a day late, up to the cap; a penalty of 0 marks late work without a cost.
    """

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="due_dates")
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="due_dates"
    )
    drill = models.ForeignKey(
        Drill, on_delete=models.CASCADE, null=True, blank=True, related_name="due_dates"
    )
    due_at = models.DateTimeField()
    penalty_per_day = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0),
        help_text="Percent of the score taken for each day or part of a day late; 0 for none.",
    )
    penalty_cap = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(100),
        help_text="The most, in percent, a late hand-in can lose.",
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = DueDateQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            _question_or_drill("due_date_question_or_drill"),
            models.UniqueConstraint(
                fields=["section", "question"], condition=models.Q(question__isnull=False),
                name="one_due_date_per_section_question",
                violation_error_message="This section already has a due date for this question.",
            ),
            models.UniqueConstraint(
                fields=["section", "drill"], condition=models.Q(drill__isnull=False),
                name="one_due_date_per_section_drill",
                violation_error_message="This section already has a due date for this drill.",
            ),
            models.CheckConstraint(
                condition=models.Q(penalty_per_day__gte=0, penalty_per_day__lte=100),
                name="due_date_penalty_is_a_percent",
                violation_error_message="The daily penalty is a percent from 0 to 100.",
            ),
            models.CheckConstraint(
                condition=models.Q(penalty_cap__gte=0, penalty_cap__lte=100),
                name="due_date_cap_is_a_percent",
                violation_error_message="The cap is a percent from 0 to 100.",
            ),
        ]

    def __str__(self) -> str:
        item = self.question.slug if self.question else self.drill.slug if self.drill else "?"
        return f"{item} due {self.due_at:%Y-%m-%d %H:%M} for {self.section}"


class Extension(models.Model):
    """A later due date for one learner on one question or drill, whatever their section says."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions"
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="extensions"
    )
    drill = models.ForeignKey(
        Drill, on_delete=models.CASCADE, null=True, blank=True, related_name="extensions"
    )
    due_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            _question_or_drill("extension_question_or_drill"),
            models.UniqueConstraint(
                fields=["learner", "question"], condition=models.Q(question__isnull=False),
                name="one_extension_per_learner_question",
                violation_error_message="This learner already has an extension for this question.",
            ),
            models.UniqueConstraint(
                fields=["learner", "drill"], condition=models.Q(drill__isnull=False),
                name="one_extension_per_learner_drill",
                violation_error_message="This learner already has an extension for this drill.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} until {self.due_at:%Y-%m-%d %H:%M}"


class ScheduledReleaseQuerySet(models.QuerySet):
    def pending(self) -> "ScheduledReleaseQuerySet":
        return self.filter(outcome=ScheduledRelease.Outcome.PENDING)


class ScheduledRelease(models.Model):
    """A grade to be released at a set time, exactly as it stood when the release was set.

    One bulk schedule is one batch, released by one task; a grade changed after it was
    scheduled is skipped and reported, never released unseen.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting"
        RELEASED = "released", "Released"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="scheduled_releases")
    # The grade's version when scheduled: only that version is released.
    grade_version = models.PositiveIntegerField()
    batch = models.UUIDField(db_index=True)
    release_at = models.DateTimeField()
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    note = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScheduledReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["release_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["grade"], condition=models.Q(outcome="pending"),
                name="one_pending_release_per_grade",
                violation_error_message="This grade already has a release scheduled.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.grade} at {self.release_at:%Y-%m-%d %H:%M}: {self.outcome}"
