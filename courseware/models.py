from django.conf import settings
from django.db import models
from django.urls import reverse

from courseware import embeds, problems
from courseware.rendering import render_markdown
from courseware.rubrics import with_ids

# The five deciding questions of the decision-procedure lesson, which the course cites by number.
# Their wording comes from the app that grades against them (courseware.cards.name_questions).
DECIDING_QUESTIONS = (1, 2, 3, 4, 5)


class ContentSource(models.Model):
    """The digest of what a content file said when it was last loaded, per loaded row."""

    label = models.CharField(max_length=200, unique=True)
    digest = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.label


class Course(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.title


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["course", "order"]

    def __str__(self) -> str:
        return self.title


class LessonQuerySet(models.QuerySet):
    def in_order(self) -> "LessonQuerySet":
        return self.select_related("module").order_by("module__order", "order")


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    body_markdown = models.TextField(help_text="Markdown; rendered to HTML when saved.")
    body_html = models.TextField(blank=True, editable=False)
    toc = models.JSONField(default=list, blank=True, editable=False)
    # An interactive part drawn below the text, from those the apps register.
    embed = models.CharField(max_length=50, blank=True, choices=embeds.choices)
    source_path = models.CharField(max_length=300, blank=True, editable=False)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["module__order", "order"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        rendered = render_markdown(self.body_markdown)
        self.body_html, self.toc = rendered.html, rendered.toc
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("courseware:lesson", kwargs={"slug": self.slug})


class Question(models.Model):
    """A check-yourself question: the learner writes an answer that an instructor grades."""

    class Kind(models.TextChoices):
        TEXT = "text", "Written answer"
        WORKFLOW = "workflow", "Own workflow"

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="questions")
    slug = models.SlugField(unique=True)
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TEXT)
    prompt = models.TextField()
    model_answer_markdown = models.TextField(blank=True)
    model_answer_html = models.TextField(blank=True, editable=False)
    key_points = models.JSONField(default=list, blank=True)
    # A list of {"id": str, "label": str, "points": int}: what an instructor ticks when grading.
    # Grades name the criteria they met by id, so ids never change or get reused.
    rubric = models.JSONField(default=list, blank=True)
    max_score = models.PositiveIntegerField(default=10)
    # No longer in the content files, but kept because learners' work or grading refers to it:
    # its grades stay in the gradebook while learners are no longer asked it.
    retired = models.BooleanField(
        default=False,
        help_text="Set by the course loader when the question leaves the content files while "
                  "work refers to it; a retired question is not shown to learners.",
    )

    class Meta:
        ordering = ["lesson__module__order", "lesson__order", "order"]

    def __str__(self) -> str:
        return self.prompt[:80]

    def save(self, *args, **kwargs) -> None:
        self.model_answer_html = render_markdown(self.model_answer_markdown).html
        stored = Question.objects.filter(pk=self.pk).values_list("rubric", flat=True).first() \
            if self.pk else None
        self.rubric = with_ids(list(self.rubric or []), list(stored or []))
        super().save(*args, **kwargs)


class QuickCheck(models.Model):
    """A single- or multiple-choice question graded on the spot."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="quick_checks")
    slug = models.SlugField(unique=True)
    order = models.PositiveIntegerField(default=0)
    prompt = models.TextField()
    multiple = models.BooleanField(default=False, help_text="More than one option may be right.")
    explanation = models.TextField(blank=True)
    hint = models.TextField(
        blank=True, help_text="Shown after a wrong first try, before the second."
    )
    # Blank for a check about something the five questions do not decide, such as latency
    # arithmetic: it then counts for its lesson's mastery only.
    deciding_question = models.PositiveSmallIntegerField(
        null=True, blank=True,
        choices=[(number, f"Question {number}") for number in DECIDING_QUESTIONS],
        help_text="The deciding question this check practises, if it practises one.",
    )

    class Meta:
        ordering = ["lesson__module__order", "lesson__order", "order"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deciding_question__isnull=True)
                | models.Q(deciding_question__gte=DECIDING_QUESTIONS[0],
                           deciding_question__lte=DECIDING_QUESTIONS[-1]),
                name="quick_check_deciding_question_1_to_5",
                violation_error_message="A quick check practises one of deciding questions 1 "
                                        "to 5, or none.",
            )
        ]

    def __str__(self) -> str:
        return self.prompt[:80]


class QuickCheckOption(models.Model):
    quick_check = models.ForeignKey(QuickCheck, on_delete=models.CASCADE, related_name="options")
    # What forms post and responses store: options are shown shuffled and may be reworded.
    key = models.SlugField(max_length=40)
    order = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=500)
    correct = models.BooleanField(default=False)
    feedback = models.TextField(blank=True)

    class Meta:
        ordering = ["quick_check", "order"]
        constraints = [
            models.UniqueConstraint(fields=["quick_check", "key"], name="one_option_per_key")
        ]

    def __str__(self) -> str:
        return self.text


class QuickCheckResponseQuerySet(models.QuerySet):
    def first_tries(self) -> "QuickCheckResponseQuerySet":
        return self.filter(attempt=1)


class QuickCheckResponse(models.Model):
    """One try at a quick check; a learner gets a first try and, after a wrong one, a second."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quick_check_responses"
    )
    quick_check = models.ForeignKey(QuickCheck, on_delete=models.CASCADE, related_name="responses")
    attempt = models.PositiveSmallIntegerField(default=1)
    # The keys of the options chosen.
    selected = models.JSONField(default=list)
    correct = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = QuickCheckResponseQuerySet.as_manager()

    class Meta:
        ordering = ["quick_check", "learner", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "quick_check", "attempt"], name="one_response_per_try"
            ),
            models.CheckConstraint(
                condition=models.Q(attempt__gte=1), name="quick_check_attempt_from_one"
            ),
        ]

    def __str__(self) -> str:
        verdict = "right" if self.correct else "wrong"
        return f"{self.learner} on {self.quick_check.slug}, try {self.attempt}: {verdict}"


class LessonProgress(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    last_visited_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson"], name="one_progress_per_lesson")
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.lesson.slug}"


class ReviewCardQuerySet(models.QuerySet):
    def for_learner(self, user) -> "ReviewCardQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(learner=user)

    def due_by(self, moment) -> "ReviewCardQuerySet":
        return self.filter(due__lte=moment)

    def later_than(self, moment) -> "ReviewCardQuerySet":
        return self.filter(due__gt=moment)


class ReviewCard(models.Model):
    """An item a learner missed, brought back on a spaced schedule (courseware/review.py)."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards"
    )
    # A kind registered in courseware/cards.py, and that kind's own name for the item.
    kind = models.CharField(max_length=40)
    ref = models.CharField(max_length=100)
    # The fsrs package's card, as its Card.to_dict() gives it.
    state = models.JSONField(default=dict)
    # The state's due date, kept as a column so that due cards are one indexed query.
    due = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviews = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)

    objects = ReviewCardQuerySet.as_manager()

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "kind", "ref"], name="one_card_per_item")
        ]
        indexes = [models.Index(fields=["learner", "due"], name="review_card_learner_due")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.kind} {self.ref}"

    def get_absolute_url(self) -> str:
        return reverse("courseware:review_card", kwargs={"pk": self.pk})

    @property
    def variant(self) -> str:
        """Seeds a new order of options or new numbers for each review, the same on a reload."""
        return f"review:{self.pk}:{self.reviews}"


class ReviewRecord(models.Model):
    """One answer given on a review card, with the rating and the log FSRS made of it."""

    card = models.ForeignKey(ReviewCard, on_delete=models.CASCADE, related_name="records")
    # What was answered, as the card's kind keeps it, and the variant it was asked in.
    answer = models.JSONField(default=dict)
    variant = models.CharField(max_length=100)
    correct = models.BooleanField()
    rating = models.PositiveSmallIntegerField()
    # Reviewed before the card was due: allowed, and told to the learner.
    early = models.BooleanField(default=False)
    log = models.JSONField(default=dict)
    reviewed_at = models.DateTimeField()
    # Sent with the form, so a second submit of the same form finds the first answer.
    token = models.UUIDField(unique=True)

    class Meta:
        ordering = ["card", "reviewed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.card}: {'right' if self.correct else 'wrong'}"


class SectionQuerySet(models.QuerySet):
    def of_course(self, course: Course) -> "SectionQuerySet":
        return self.filter(course=course).order_by("title", "pk")

    def with_learner(self, user) -> "SectionQuerySet":
        return self.filter(
            memberships__user=user, memberships__role=SectionMembership.Role.LEARNER
        )


class Section(models.Model):
    """A cohort of learners taking the course together: one class, one term, one LMS course.

    Sections live in courseware, the lowest app that knows about courses and learners, because
    every app above needs them: grading filters its queue, gradebook and exports by section and
    sets due dates per section; drills and the simulator may show a cohort's figures; an LMS
    integration above them all syncs a platform's course roster into a section. A learner is in
    at most one section of a course, so one due date applies to each piece of work; instructors
    and assistants may be listed in many.
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sections")
    slug = models.SlugField(help_text="Used in URLs and filters, e.g. ?section=spring-a.")
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SectionMembership", related_name="course_sections"
    )

    objects = SectionQuerySet.as_manager()

    class Meta:
        ordering = ["course", "title", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="one_section_per_slug")
        ]

    def __str__(self) -> str:
        return self.title

    def learner_ids(self) -> list[int]:
        return list(
            self.memberships.filter(role=SectionMembership.Role.LEARNER).values_list(
                "user_id", flat=True
            )
        )


class SectionMembershipQuerySet(models.QuerySet):
    def learners(self) -> "SectionMembershipQuerySet":
        return self.filter(role=SectionMembership.Role.LEARNER)

    def learner_ids_in(self, slug: str) -> models.QuerySet:
        """The ids of the learners in the sections called ``slug``, for use as a subquery."""
        return self.learners().filter(section__slug=slug).values("user_id")


class SectionMembership(models.Model):
    """Who is in a section and as what."""

    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"
        ASSISTANT = "assistant", "Teaching assistant"

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="section_memberships"
    )
    # Copied from the section so the database itself keeps a learner to one section per course.
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="+", editable=False
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = SectionMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["section", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["section", "user"], name="one_membership_per_section"),
            models.UniqueConstraint(
                fields=["course", "user"],
                condition=models.Q(role="learner"),
                name="learner_in_one_section_per_course",
                violation_error_message="A learner is in at most one section of a course.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.section}"

    def save(self, *args, **kwargs) -> None:
        self.course_id = self.section.course_id
        super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None) -> None:
        # The course is derived, so a form that leaves it out still checks the one-section rule.
        if self.section_id and not self.course_id:
            self.course_id = self.section.course_id
        if exclude is not None:
            exclude = set(exclude) - {"course"}
        super().validate_constraints(exclude=exclude)


class Problem(models.Model):
    """A numeric problem on a lesson; each learner answers it with numbers drawn for them."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="problems")
    slug = models.SlugField(unique=True)
    order = models.PositiveIntegerField(default=0)
    # The registered problem type (courseware/problems.py) that draws and grades the numbers.
    kind = models.CharField(max_length=50, choices=problems.choices)

    class Meta:
        ordering = ["lesson__module__order", "lesson__order", "order"]

    def __str__(self) -> str:
        return self.slug

    @property
    def problem_type(self) -> problems.ProblemType | None:
        return problems.get(self.kind)


class ProblemInstanceQuerySet(models.QuerySet["ProblemInstance"]):
    def of(self, learner, problem: Problem) -> "ProblemInstanceQuerySet":
        return self.filter(learner=learner, problem=problem)

    def current(self) -> "ProblemInstance | None":
        """The latest set of numbers: the one the learner is asked to answer."""
        return self.order_by("-number").first()


class ProblemInstance(models.Model):
    """One set of a learner's numbers for a problem; "new numbers" adds the next one."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="problem_instances"
    )
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="instances")
    # 1 for the learner's first numbers, then 2, 3...: a second identical "new numbers" request
    # asks for a number that exists already and stores nothing.
    number = models.PositiveIntegerField()
    seed = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProblemInstanceQuerySet.as_manager()

    class Meta:
        ordering = ["problem", "learner", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "problem", "number"], name="one_instance_per_number"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="problem_instance_number_from_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.problem.slug}, numbers #{self.number}"

    @property
    def params(self) -> problems.Params:
        problem_type = self.problem.problem_type
        return problem_type.generate(self.seed) if problem_type else {}


class ProblemAnswerQuerySet(models.QuerySet):
    def first_tries(self) -> "ProblemAnswerQuerySet":
        """The answers that count for score and mastery: each learner's first at a problem."""
        return self.filter(first_try=True)


class ProblemAnswer(models.Model):
    """A learner's answer to one set of their numbers; each set is answered once."""

    instance = models.OneToOneField(
        ProblemInstance, on_delete=models.CASCADE, related_name="answer"
    )
    # Copied from the instance so first tries are one unique, indexed query away.
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="problem_answers"
    )
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="answers")
    value = models.FloatField()
    correct = models.BooleanField()
    first_try = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProblemAnswerQuerySet.as_manager()

    class Meta:
        ordering = ["problem", "learner", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "problem"], condition=models.Q(first_try=True),
                name="one_first_try_per_problem",
            ),
        ]

    def __str__(self) -> str:
        verdict = "right" if self.correct else "wrong"
        return f"{self.learner} on {self.problem.slug}: {self.value} ({verdict})"


class Checkpoint(models.Model):
    """A final mixed set asked once: where the learner stands, and what to review."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkpoints"
    )
    # [{"kind": card kind name, "ref": the kind's reference}, ...] in the order asked.
    items = models.JSONField(default=list)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # A second "start" while one is open (a double click) finds the open one.
            models.UniqueConstraint(
                fields=["learner"], condition=models.Q(finished_at__isnull=True),
                name="one_open_checkpoint_per_learner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner}'s checkpoint of {self.started_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("courseware:checkpoint_item", kwargs={"pk": self.pk})

    def variant(self, position: int) -> str:
        return f"checkpoint:{self.pk}:{position}"


class CheckpointAnswer(models.Model):
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField()
    answer = models.JSONField(default=dict)
    correct = models.BooleanField()
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checkpoint", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "position"], name="one_answer_per_checkpoint_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint}, item {self.position + 1}"
