import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Max
from django.urls import reverse

from drills import grading


class Difficulty(models.IntegerChoices):
    INTRO = 1, "Intro"
    INTERMEDIATE = 2, "Intermediate"
    ADVANCED = 3, "Advanced"


class Choice(models.TextChoices):
    SYNC = "sync", "Sync"
    ASYNC = "async", "Async"


class KeyAnswer(models.TextChoices):
    SYNC = "sync", "Sync"
    ASYNC = "async", "Async"
    EITHER = "either", "Either, depending on a condition"


DECIDING_QUESTION_CHOICES = [
    (number, f"{number}. {question.text}") for number, question in grading.QUESTIONS.items()
] + [(grading.OFF_PATH, f"Off-path rule. {grading.OFF_PATH_RULE.text}")]


class DrillQuerySet(models.QuerySet):
    def in_order(self) -> "DrillQuerySet":
        return self.order_by("difficulty", "order", "title")

    def with_interaction_count(self) -> "DrillQuerySet":
        return self.annotate(interaction_count=Count("interactions"))


class Drill(models.Model):
    """A workflow whose service-to-service interactions the learner marks sync or async."""

    Difficulty = Difficulty

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    domain = models.CharField(max_length=100, help_text="The kind of business, e.g. 'Banking'.")
    difficulty = models.PositiveSmallIntegerField(
        choices=Difficulty.choices, default=Difficulty.INTRO
    )
    summary = models.CharField(max_length=300)
    scenario = models.TextField(help_text="What the user does and which services take part.")
    entry = models.CharField(
        max_length=200,
        blank=True,
        help_text="The user's own request into the system, e.g. 'Rider app → Rides'. It is "
        "always synchronous and is not counted as a hop.",
    )
    debrief = models.TextField(
        blank=True, help_text="What a good design looks like, shown after an attempt."
    )
    order = models.PositiveIntegerField(default=0)
    review_by_instructor = models.BooleanField(
        default=False,
        help_text="When on, instructors grade the justifications in learners' attempts.",
    )
    lesson = models.ForeignKey(
        "courseware.Lesson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drills",
        help_text="The lesson this drill practises.",
    )
    source_path = models.CharField(max_length=300, blank=True, editable=False)
    techniques = models.JSONField(
        default=list, blank=True,
        help_text="The techniques learners choose from for each interaction; none: not asked.",
    )
    # Each: {"slug", "title", "change", "answers": {key: {field: value}}}, as the loader reads it.
    variants = models.JSONField(default=list, blank=True, editable=False)
    hop_p99_ms = models.PositiveIntegerField(
        default=100, help_text="The p99 latency of one sync hop, for the design's figures."
    )
    hop_failure = models.FloatField(
        default=grading.HOP_FAILURE_RATE,
        help_text="The chance that one sync hop fails, for the design's figures.",
    )

    objects = DrillQuerySet.as_manager()

    class Meta:
        ordering = ["difficulty", "order", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("drills:detail", kwargs={"slug": self.slug})

    def answer_key(self, interactions=None) -> list[grading.KeyItem]:
        interactions = self.interactions.all() if interactions is None else interactions
        return [interaction.key_item() for interaction in interactions]

    def variant(self, slug: str) -> dict | None:
        """The variant with this slug; the drill as written is the variant ''."""
        return next((v for v in self.variants if v.get("slug") == slug), None)

    @property
    def variant_slugs(self) -> list[str]:
        """The drill as written first, then its variants in file order."""
        return ["", *(str(v.get("slug")) for v in self.variants)]


class Interaction(models.Model):
    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="interactions")
    key = models.SlugField(help_text="Names the interaction within its drill; used by the form.")
    order = models.PositiveIntegerField(default=0)
    caller = models.CharField(max_length=100)
    callee = models.CharField(max_length=100)
    exchange = models.CharField(max_length=300, help_text="What the caller sends or asks for.")
    on_critical_path = models.BooleanField(
        default=True,
        help_text="Made while the user's request is still open, so the user would wait if it "
        "were synchronous.",
    )
    after = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followers",
        help_text="The interaction whose handling makes this one. It is on the critical path "
        "only while that one is on it and synchronous.",
    )
    answer = models.CharField(max_length=10, choices=KeyAnswer.choices)
    condition = models.TextField(blank=True, help_text="For 'either': what decides.")
    rationale = models.TextField()
    deciding_question = models.PositiveSmallIntegerField(choices=DECIDING_QUESTION_CHOICES)
    wrong_answer_why = models.TextField(
        help_text="The typical wrong answer and why it hurts; for 'either', the trap to avoid."
    )
    other_questions = models.JSONField(
        default=list, blank=True, help_text="Other reasons accepted as settling it."
    )
    techniques = models.JSONField(
        default=list, blank=True,
        help_text="The techniques the key accepts, when the drill asks for one.",
    )
    weight = models.PositiveSmallIntegerField(
        default=1, help_text="How much a wrong answer here costs; the loader sets it."
    )

    class Meta:
        ordering = ["drill", "order"]
        constraints = [
            models.UniqueConstraint(fields=["drill", "key"], name="interaction_key_unique_in_drill")
        ]

    def __str__(self) -> str:
        return f"{self.caller} → {self.callee}"

    def clean(self) -> None:
        if self.answer == KeyAnswer.EITHER and not self.condition.strip():
            raise ValidationError({"condition": "Say what decides when the answer is 'either'."})
        if self.after is not None and self.after.drill_id != self.drill_id:
            raise ValidationError({"after": "Choose an interaction of the same drill."})

    def key_item(self) -> grading.KeyItem:
        return grading.KeyItem(
            key=self.key,
            caller=self.caller,
            callee=self.callee,
            exchange=self.exchange,
            on_critical_path=self.on_critical_path,
            after=self.after.key if self.after is not None else None,
            answer=self.answer,
            condition=self.condition,
            rationale=self.rationale,
            deciding_question=self.deciding_question,
            wrong_answer_why=self.wrong_answer_why,
            other_questions=tuple(self.other_questions or ()),
            techniques=tuple(self.techniques or ()),
            weight=self.weight,
        )


def record_fields() -> dict:
    """A learner's record on a drill: best score, its total and the number of attempts."""
    return {"best": Max("score"), "total": Max("total"), "attempts": Count("id")}


class AttemptQuerySet(models.QuerySet):
    def for_learner(self, user) -> "AttemptQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(learner=user)

    def best_by_drill(self, user) -> dict[int, dict]:
        """Per drill id: the learner's best score, its total and how many attempts they made."""
        rows = (
            self.for_learner(user)
            .values("drill_id")
            .annotate(**record_fields())
            .order_by()
        )
        return {row["drill_id"]: row for row in rows}

    def record_for(self, drill: Drill) -> dict | None:
        """The learner's best score at one drill, its total and how many attempts they made
        (as best_by_drill gives them per drill), or None before the first attempt."""
        row = self.filter(drill=drill).aggregate(**record_fields())
        return row if row["attempts"] else None

    def for_review(self) -> "AttemptQuerySet":
        """Attempts whose justifications an instructor grades."""
        return self.filter(drill__review_by_instructor=True)


class Attempt(models.Model):
    """A signed-in learner's graded answers to one drill; anonymous attempts are not kept."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="attempts")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drill_attempts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    score = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    critical_sync_hops = models.PositiveIntegerField()
    key_critical_sync_hops = models.PositiveIntegerField()
    # Which version of the drill was answered: '' for the drill as written, else a variant slug.
    variant = models.SlugField(blank=True, default="")
    # Sent with the form, so a second submit of the same form finds the first attempt.
    token = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # A learner's record on a drill (best score and number of attempts, read after every
            # submission; their best attempt) stays one short index range however many attempts
            # they make.
            models.Index(
                fields=["learner", "drill", "-score", "-created_at"], name="attempt_learner_best"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.drill.slug}: {self.score}/{self.total}"

    def get_absolute_url(self) -> str:
        return reverse("drills:attempt", kwargs={"slug": self.drill.slug, "pk": self.pk})

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.total) if self.total else 0


class AttemptAnswer(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    # Protected: the loader refuses to drop an interaction that learners have answered.
    interaction = models.ForeignKey(
        Interaction, on_delete=models.PROTECT, related_name="attempt_answers"
    )
    choice = models.CharField(max_length=10, choices=Choice.choices)
    justification = models.CharField(max_length=300, blank=True)
    # Every part that was asked is right.
    correct = models.BooleanField()
    # The parts; reason and technique are null where they were not asked.
    style_correct = models.BooleanField(null=True)
    reason = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=DECIDING_QUESTION_CHOICES
    )
    reason_correct = models.BooleanField(null=True)
    technique = models.CharField(max_length=20, blank=True, default="")
    technique_correct = models.BooleanField(null=True)

    class Meta:
        ordering = ["attempt", "interaction__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "interaction"], name="one_answer_per_interaction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.interaction}: {self.choice}"
