"""Class-wide figures per question and drill, and the chart of the most missed interactions."""

from __future__ import annotations

import json
import statistics as stats
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

import plotly.graph_objects as go
from django.db.models import Count, Min, Q

from courseware.mastery import ClassRow, class_question_rows
from drills.models import Attempt, AttemptAnswer
from grading.assessments import Assessment, all_assessments
from grading.gradebook import learners
from grading.models import Grade, Submission
from grading.scores import DRILL, QUESTION, scores

CHART_SIZE = 12


@dataclass
class CriterionRate:
    label: str
    met: int
    graded: int

    @property
    def percent(self) -> int:
        return round(100 * self.met / self.graded) if self.graded else 0


@dataclass
class AssessmentStats:
    assessment: Assessment
    submissions: int = 0
    learners: int = 0
    graded: int = 0
    released: int = 0
    scores: list[Decimal] = field(default_factory=list)
    criteria: list[CriterionRate] = field(default_factory=list)

    @property
    def mean(self) -> Decimal | None:
        return _round(stats.fmean(self.scores)) if self.scores else None

    @property
    def median(self) -> Decimal | None:
        return _round(stats.median(self.scores)) if self.scores else None

    @property
    def mean_percent(self) -> int | None:
        if not self.scores or not self.assessment.max_score:
            return None
        return round(100 * stats.fmean(self.scores) / float(self.assessment.max_score))


@dataclass
class Misconception:
    """How often learners marked one drill interaction wrongly."""

    drill: str
    label: str
    expected: str
    answers: int
    wrong: int
    commonest_wrong: str = ""

    @property
    def percent(self) -> int:
        return round(100 * self.wrong / self.answers) if self.answers else 0


@dataclass
class ClassStatistics:
    assessments: list[AssessmentStats]
    misconceptions: list[Misconception]
    first_attempts_only: bool = True
    mastery: list[ClassRow] = field(default_factory=list)

    @property
    def chart(self) -> list[Misconception]:
        return self.misconceptions[:CHART_SIZE]

    def figure(self) -> dict | None:
        return misconception_figure(self.chart) if self.chart else None


def _round(value: float | Decimal) -> Decimal:
    return Decimal(str(round(value, 2)))


def _learner_scores(by_pk: dict, kind: str, learner_ids: list[int]) -> None:
    """Each learner's score from the selector the gradebook reads, so the two agree."""
    for (_, found_kind, pk), cell in scores(learner_ids=learner_ids).items():
        entry = by_pk.get(pk) if found_kind == kind else None
        if entry is not None and cell.score is not None:
            entry.scores.append(cell.score)


def question_statistics(assessments: list[Assessment],
                        learner_ids: list[int]) -> list[AssessmentStats]:
    by_pk = {a.pk: AssessmentStats(assessment=a) for a in assessments if not a.is_drill}
    learners: dict[int, set[int]] = defaultdict(set)
    for question_id, learner_id in Submission.objects.counted().filter(
        question__isnull=False, learner_id__in=learner_ids
    ).values_list("question_id", "learner_id"):
        if question_id in by_pk:
            by_pk[question_id].submissions += 1
            learners[question_id].add(learner_id)
    for question_id, people in learners.items():
        by_pk[question_id].learners = len(people)
    met: dict[int, list[str]] = defaultdict(list)
    for question_id, released, criteria in Grade.objects.filter(
        submission__question__isnull=False, submission__learner_id__in=learner_ids
    ).values_list("submission__question_id", "released", "criteria_met"):
        entry = by_pk.get(question_id)
        if entry is None:
            continue
        entry.graded += 1
        entry.released += released
        met[question_id].extend(criteria or [])
    _learner_scores(by_pk, QUESTION, learner_ids)
    for question_id, entry in by_pk.items():
        ticks = met[question_id]
        entry.criteria = [
            CriterionRate(label=c.label, met=ticks.count(c.id), graded=entry.graded)
            for c in entry.assessment.rubric
        ]
    return list(by_pk.values())


def drill_statistics(assessments: list[Assessment],
                     learner_ids: list[int]) -> list[AssessmentStats]:
    """Per drill: attempts, learners, each learner's best score, instructor grades."""
    by_pk = {a.pk: AssessmentStats(assessment=a) for a in assessments if a.is_drill}
    people: dict[int, set[int]] = defaultdict(set)
    for drill_id, learner_id in Attempt.objects.filter(learner_id__in=learner_ids).values_list(
        "drill_id", "learner_id"
    ):
        if drill_id in by_pk:
            by_pk[drill_id].submissions += 1
            people[drill_id].add(learner_id)
    for drill_id, group in people.items():
        by_pk[drill_id].learners = len(group)
    _learner_scores(by_pk, DRILL, learner_ids)
    for drill_id, released in Grade.objects.filter(
        submission__attempt__isnull=False, submission__learner_id__in=learner_ids
    ).values_list("submission__attempt__drill_id", "released"):
        if drill_id in by_pk:
            by_pk[drill_id].graded += 1
            by_pk[drill_id].released += released
    return list(by_pk.values())


def misconceptions(learner_ids: list[int], *, first_only: bool = True) -> list[Misconception]:
    """Interactions answered wrongly at least once, the most missed first.

    By default each learner counts once per drill, with their first attempt: one learner who
    retries a drill many times would otherwise outweigh the rest of the class.
    """
    answers = AttemptAnswer.objects.filter(attempt__learner_id__in=learner_ids)
    if first_only:
        first = (
            Attempt.objects.filter(learner_id__in=learner_ids).order_by()
            .values("learner_id", "drill_id").annotate(first=Min("pk")).values("first")
        )
        answers = answers.filter(attempt_id__in=first)
    rows = (
        answers.order_by()
        .values(
            "interaction_id", "interaction__caller", "interaction__callee",
            "interaction__answer", "interaction__drill__title",
        )
        .annotate(answers=Count("pk"), wrong=Count("pk", filter=Q(correct=False)))
        .filter(wrong__gt=0)
    )
    wrong_choices: dict[int, Counter] = defaultdict(Counter)
    for interaction_id, choice, count in (
        answers.filter(correct=False)
        .order_by()
        .values_list("interaction_id", "choice")
        .annotate(n=Count("pk"))
    ):
        wrong_choices[interaction_id][choice] = count
    items = [
        Misconception(
            drill=row["interaction__drill__title"],
            label=f"{row['interaction__caller']} → {row['interaction__callee']}",
            expected=row["interaction__answer"],
            answers=row["answers"],
            wrong=row["wrong"],
            commonest_wrong=_commonest(wrong_choices[row["interaction_id"]]),
        )
        for row in rows
    ]
    return sorted(items, key=lambda m: (-m.wrong / m.answers, -m.wrong, m.drill, m.label))


def _commonest(counter: Counter) -> str:
    if not counter:
        return ""
    choice, count = counter.most_common(1)[0]
    return f"{choice} ({count}×)"


def class_statistics(*, first_attempts_only: bool = True) -> ClassStatistics:
    assessments = all_assessments()
    # Only learners: instructors trying their own questions out are not the class.
    learner_ids = list(learners().values_list("id", flat=True))
    return ClassStatistics(
        assessments=question_statistics(assessments, learner_ids)
        + drill_statistics(assessments, learner_ids),
        misconceptions=misconceptions(learner_ids, first_only=first_attempts_only),
        first_attempts_only=first_attempts_only,
        mastery=class_question_rows(learner_ids),
    )


def misconception_figure(items: list[Misconception]) -> dict:
    """A horizontal bar per interaction, the most missed at the top, as Plotly JSON."""
    ordered = list(reversed(items))
    figure = go.Figure(
        go.Bar(
            x=[m.percent for m in ordered],
            # Two short lines per label keep the bars wide on a phone.
            y=[
                f"{escape(m.label)}<br><span style='font-size:11px'>{escape(m.drill)}</span>"
                for m in ordered
            ],
            orientation="h",
            marker={"color": "#c2410c"},
            text=[f"{m.percent}% ({m.wrong}/{m.answers})" for m in ordered],
            textposition="auto",
            hovertemplate="%{y}<br>%{x}% answered it wrongly<extra></extra>",
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        height=max(200, 46 * len(items) + 50),
        xaxis={
            "range": [0, 104],
            "tickmode": "array",
            "tickvals": [0, 25, 50, 75, 100],
            "ticktext": ["0%", "25%", "50%", "75%", "100%"],
            "fixedrange": True,
        },
        yaxis={"automargin": True, "fixedrange": True},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        font={"family": "system-ui, sans-serif", "size": 13},
    )
    return json.loads(figure.to_json())
