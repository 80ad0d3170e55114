"""Reads the drills from ``drills/content/<slug>.yaml`` and brings the database in line with them.

One file per drill, named by its slug. Every file is parsed and checked before anything is
written, so a bad file changes nothing. A drill whose file disappears is left in place (it may
have been made in the admin, and learners' attempts point at it); an interaction that leaves its
file is deleted, unless learners have answered it, in which case loading stops and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from courseware.loader import SLUG, ContentError, LoadReport, read_yaml, require, require_slug, sync
from courseware.models import Lesson
from drills import grading
from drills.models import AttemptAnswer, Difficulty, Drill, Interaction

CONTENT_DIR = Path(__file__).resolve().parent / "content"
MIN_INTERACTIONS = 4
MAX_INTERACTIONS = 8
# Paths under /drills/ that a drill slug would shadow.
RESERVED_SLUGS = {"own"}

DRILL_FIELDS = {
    "title", "domain", "difficulty", "order", "lesson", "summary", "scenario", "entry", "debrief",
    "review_by_instructor", "interactions",
}
INTERACTION_FIELDS = {
    "key", "caller", "callee", "exchange", "critical_path", "after", "answer", "condition",
    "question", "rationale", "wrong_answer_why",
}
DIFFICULTY_NAMES = {label.lower(): value for value, label in Difficulty.choices}


@dataclass
class DrillLoadReport(LoadReport):
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"warning: {warning}" for warning in self.warnings]
        body = super().lines()
        return lines + body[:-1] + [f"drills: {body[-1]}"]


@dataclass
class Plan:
    drills: list[dict] = field(default_factory=list)


def text(path: Path, data: dict, key: str, where: str = "", required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ContentError(path, f"{where}'{key}' is missing")
        return ""
    if not isinstance(value, str):
        raise ContentError(path, f"{where}'{key}' must be text")
    # Paragraphs are kept; the line breaks inside one are only how the file was wrapped.
    paragraphs = [" ".join(block.split()) for block in value.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def read_content(root: Path | None = None) -> Plan:
    root = root or CONTENT_DIR
    plan = Plan()
    for path in sorted(root.glob("*.yaml")):
        plan.drills.append(read_drill(path))
    check_orders_unique(plan)
    check_answered_interactions_kept(plan)
    return plan


def check_orders_unique(plan: Plan) -> None:
    seen: dict[int, str] = {}
    for drill in plan.drills:
        if drill["order"] in seen:
            raise ContentError(
                drill["source_path"],
                f"order {drill['order']} is already used by {seen[drill['order']]!r}",
            )
        seen[drill["order"]] = drill["slug"]


def check_answered_interactions_kept(plan: Plan) -> None:
    """Refuse to drop an interaction that learners answered: their attempts would lose rows."""
    for drill in plan.drills:
        kept = {item["key"] for item in drill["interactions"]}
        answered = (
            AttemptAnswer.objects.filter(interaction__drill__slug=drill["slug"])
            .exclude(interaction__key__in=kept)
            .values_list("interaction__key", flat=True)
            .distinct()
        )
        for key in answered:
            raise ContentError(
                drill["source_path"],
                f"interaction {key!r} is no longer in the file, but learners have answered it; "
                "keep it (you may reword it) or delete those attempts in the admin first",
            )


def read_drill(path: Path) -> dict:
    slug = path.stem
    if not SLUG.match(slug):
        raise ContentError(
            path, "drill files are named <slug>.yaml (lowercase letters, digits, '-')"
        )
    if slug in RESERVED_SLUGS:
        raise ContentError(path, f"{slug!r} is reserved for a page of its own; rename the file")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ContentError(path, "must be a mapping with 'title', 'scenario' and 'interactions'")
    unknown = sorted(set(data) - DRILL_FIELDS)
    if unknown:
        raise ContentError(path, f"unknown field(s): {', '.join(unknown)}")

    difficulty = data.get("difficulty")
    if isinstance(difficulty, str):
        difficulty = DIFFICULTY_NAMES.get(difficulty.strip().lower())
    if difficulty not in Difficulty.values:
        raise ContentError(
            path, "'difficulty' must be intro, intermediate or advanced (or 1, 2, 3)"
        )
    order = data.get("order")
    if not isinstance(order, int) or isinstance(order, bool) or order < 0:
        raise ContentError(path, "'order' must be a whole number")
    lesson = data.get("lesson")
    if lesson is not None:
        require_slug(path, lesson, "lesson")
    review = data.get("review_by_instructor", False)
    if not isinstance(review, bool):
        raise ContentError(path, "'review_by_instructor' must be true or false")
    summary = text(path, data, "summary")
    if len(summary) > 300:
        raise ContentError(path, "'summary' must be at most 300 characters")

    items = require(path, data, "interactions", list)
    if not MIN_INTERACTIONS <= len(items) <= MAX_INTERACTIONS:
        raise ContentError(
            path,
            f"a drill has {MIN_INTERACTIONS} to {MAX_INTERACTIONS} interactions, "
            f"this one has {len(items)}",
        )
    interactions = [read_interaction(path, item, number) for number, item in
                    enumerate(items, start=1)]
    check_interactions(path, interactions)
    return {
        "slug": slug,
        "title": text(path, data, "title"),
        "domain": text(path, data, "domain"),
        "difficulty": difficulty,
        "order": order,
        "lesson": lesson,
        "summary": summary,
        "scenario": text(path, data, "scenario"),
        "entry": text(path, data, "entry", required=False),
        "debrief": text(path, data, "debrief", required=False),
        "review_by_instructor": review,
        "source_path": f"drills/content/{path.name}",
        "interactions": interactions,
    }


def read_interaction(path: Path, item: Any, number: int) -> dict:
    where = f"interaction #{number}: "
    if not isinstance(item, dict):
        raise ContentError(path, f"{where}must be a mapping")
    unknown = sorted(set(item) - INTERACTION_FIELDS)
    if unknown:
        raise ContentError(path, f"{where}unknown field(s): {', '.join(unknown)}")
    key = item.get("key")
    if not isinstance(key, str) or not SLUG.match(key):
        raise ContentError(path, f"{where}'key' {key!r} is not a slug")
    where = f"interaction {key!r}: "
    answer = item.get("answer")
    if answer not in grading.KEY_ANSWERS:
        raise ContentError(path, f"{where}'answer' must be sync, async or either, not {answer!r}")
    question = item.get("question")
    if question == grading.OFF_PATH_SLUG:
        question = grading.OFF_PATH
    elif question not in grading.QUESTIONS or isinstance(question, bool):
        raise ContentError(
            path,
            f"{where}'question' must be one of 1 to 5, or {grading.OFF_PATH_SLUG} for a call "
            f"no user waits for, not {question!r}",
        )
    reason = grading.REASONS[question]
    if answer != grading.EITHER and answer != reason.points_to:
        raise ContentError(
            path, f"{where}{reason.label} points to {reason.points_to}, but the answer is {answer}"
        )
    condition = text(path, item, "condition", where, required=answer == grading.EITHER)
    if condition and answer != grading.EITHER:
        raise ContentError(path, f"{where}'condition' belongs to 'either' answers only")
    after = item.get("after")
    critical = item.get("critical_path")
    if after is None and not isinstance(critical, bool):
        raise ContentError(path, f"{where}'critical_path' must be true or false")
    if after is not None and critical is not None:
        raise ContentError(
            path,
            f"{where}leave out 'critical_path' when 'after' is given: it follows from the "
            "interaction it comes after",
        )
    exchange = text(path, item, "exchange", where)
    if len(exchange) > 300:
        raise ContentError(path, f"{where}'exchange' must be at most 300 characters")
    return {
        "key": key,
        "order": number,
        "caller": text(path, item, "caller", where),
        "callee": text(path, item, "callee", where),
        "exchange": exchange,
        "on_critical_path": bool(critical) if after is None else False,
        "after": after,
        "answer": answer,
        "condition": condition,
        "deciding_question": question,
        "rationale": text(path, item, "rationale", where),
        "wrong_answer_why": text(path, item, "wrong_answer_why", where),
    }


def check_interactions(path: Path, interactions: list[dict]) -> None:
    by_key: dict[str, dict] = {}
    for item in interactions:
        if item["key"] in by_key:
            raise ContentError(path, f"interaction key {item['key']!r} is used twice")
        after = item["after"]
        if after is not None:
            parent = by_key.get(after)
            if parent is None:
                raise ContentError(
                    path,
                    f"interaction {item['key']!r} comes after {after!r}, which must be listed "
                    "before it",
                )
            if parent["callee"] != item["caller"]:
                raise ContentError(
                    path,
                    f"interaction {item['key']!r} comes after {after!r}, so its caller must be "
                    f"{parent['callee']!r} (the service handling that call)",
                )
        by_key[item["key"]] = item
    key = [key_item(item) for item in interactions]
    for problem in grading.check_reasons_fit_place(key):
        raise ContentError(path, problem)
    hops = grading.count_critical_sync_hops(key, grading.key_choices(key))
    if hops > grading.MAX_SYNC_HOPS:
        raise ContentError(
            path,
            f"the answer key puts {hops} sync hops on the critical path; the course teaches at "
            f"most {grading.MAX_SYNC_HOPS}",
        )


def key_item(item: dict) -> grading.KeyItem:
    return grading.KeyItem(
        key=item["key"],
        caller=item["caller"],
        callee=item["callee"],
        exchange=item["exchange"],
        on_critical_path=item["on_critical_path"],
        after=item["after"],
        answer=item["answer"],
        condition=item["condition"],
        rationale=item["rationale"],
        deciding_question=item["deciding_question"],
        wrong_answer_why=item["wrong_answer_why"],
    )


@transaction.atomic
def apply(plan: Plan) -> DrillLoadReport:
    report = DrillLoadReport()
    lessons = {lesson.slug: lesson for lesson in Lesson.objects.all()}
    for data in plan.drills:
        lesson = lessons.get(data["lesson"]) if data["lesson"] else None
        if data["lesson"] and lesson is None:
            report.warnings.append(
                f"drill {data['slug']}: lesson {data['lesson']!r} does not exist; the drill is "
                "not linked to a lesson"
            )
        values = {k: v for k, v in data.items() if k not in {"slug", "interactions", "lesson"}}
        drill = sync(
            Drill, {"slug": data["slug"]}, {**values, "lesson": lesson},
            f"drill {data['slug']}", report,
        )
        apply_interactions(drill, data["interactions"], report)
    return report


def apply_interactions(drill: Drill, items: list[dict], report: DrillLoadReport) -> None:
    saved: dict[str, Interaction] = {}
    for item in items:
        values = {k: v for k, v in item.items() if k not in {"key", "after"}}
        values["after"] = saved[item["after"]] if item["after"] else None
        saved[item["key"]] = sync(
            Interaction, {"drill": drill, "key": item["key"]}, values,
            f"interaction {drill.slug}/{item['key']}", report,
        )
    stale = drill.interactions.exclude(key__in=saved)
    for interaction in stale:
        report.updated.append(f"interaction {drill.slug}/{interaction.key} removed")
    stale.delete()


def load(root: Path | None = None) -> DrillLoadReport:
    return apply(read_content(root))
