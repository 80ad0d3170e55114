"""What a placed link opens, written as one short string a platform stores and sends back.

``lesson:<slug>``, ``question:<slug>``, ``drill:<slug>``, ``simulator:<page>`` or ``home``. The
string travels in the link's custom parameters, so a link placed once keeps working even if
the tool forgets its own records of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse

from courseware.models import Lesson, Question
from drills.models import Drill

HOME = "home"
SIMULATOR_PAGES = {
    "calculator": "simulator:calculator",
    "path": "simulator:path",
    "outage": "simulator:outage",
}


@dataclass(frozen=True)
class Target:
    kind: str
    slug: str
    title: str
    url: str
    # The grading key of what is graded here ("q-…" or "d-…"), empty when nothing is.
    assessment_key: str = ""
    max_score: Decimal | None = None

    @property
    def name(self) -> str:
        return HOME if self.kind == HOME else f"{self.kind}:{self.slug}"

    @property
    def graded(self) -> bool:
        return bool(self.assessment_key)


def name_of(assessment_key: str) -> str:
    """The target that grades under ``assessment_key``: "q-x" is "question:x", "d-x" "drill:x"."""
    kind, _, slug = assessment_key.partition("-")
    return f"{'question' if kind == 'q' else 'drill'}:{slug}"


def home() -> Target:
    return Target(kind=HOME, slug="", title="Critical Path", url=reverse("courseware:home"))


def resolve(name: str | None) -> Target | None:
    """The target a string names, or None when it names nothing that exists."""
    if not name or name == HOME:
        return home() if name == HOME else None
    kind, _, slug = name.partition(":")
    if kind == "lesson":
        lesson = Lesson.objects.filter(slug=slug).first()
        if lesson:
            return Target(kind, slug, lesson.title, lesson.get_absolute_url())
    elif kind == "question":
        question = Question.objects.select_related("lesson").filter(slug=slug).first()
        if question:
            url = f"{question.lesson.get_absolute_url()}#question-{question.slug}"
            return Target(kind, slug, _short(question.prompt), url,
                          f"q-{question.slug}", Decimal(question.max_score))
    elif kind == "drill":
        drill = Drill.objects.filter(slug=slug).first()
        if drill:
            return Target(kind, slug, drill.title, reverse("drills:detail", args=[slug]),
                          f"d-{drill.slug}", Decimal(drill.interactions.count()))
    elif kind == "simulator" and slug in SIMULATOR_PAGES:
        return Target(kind, slug, f"Latency simulator: {slug}", reverse(SIMULATOR_PAGES[slug]))
    return None


def catalogue() -> list[Target]:
    """Everything an instructor may place in a course, in reading order."""
    found: list[Target] = [home()]
    for lesson in Lesson.objects.in_order():
        found.append(Target("lesson", lesson.slug, lesson.title, lesson.get_absolute_url()))
        for question in lesson.questions.filter(retired=False):
            url = f"{lesson.get_absolute_url()}#question-{question.slug}"
            found.append(Target("question", question.slug, _short(question.prompt), url,
                                f"q-{question.slug}", Decimal(question.max_score)))
    for drill in Drill.objects.order_by("pk").prefetch_related("interactions"):
        found.append(Target("drill", drill.slug, drill.title,
                            reverse("drills:detail", args=[drill.slug]), f"d-{drill.slug}",
                            Decimal(len(drill.interactions.all()))))
    for page, url_name in SIMULATOR_PAGES.items():
        found.append(Target("simulator", page, f"Latency simulator: {page}", reverse(url_name)))
    return found


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
