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
    "review_by_instructor", "interactions", "techniques", "hop_p99_ms", "hop_failure", "variants",
}
INTERACTION_FIELDS = {
    "key", "caller", "callee", "exchange", "critical_path", "after", "answer", "condition",
    "question", "also", "technique", "weight", "rationale", "wrong_answer_why",
}
VARIANT_FIELDS = {"slug", "title", "change", "interactions"}
# What a variant may change about an interaction: its answer and what is said about it. Who
# calls whom stays, so an interaction keeps its identity (and its weight) across variants.
VARIANT_OVERRIDES = {
    "exchange", "answer", "condition", "question", "also", "technique", "rationale",
    "wrong_answer_why",
}
# The resolved fields a variant stores for an interaction it changes.
VARIANT_STORED = (
    "exchange", "answer", "condition", "deciding_question", "other_questions", "techniques",
    "rationale", "wrong_answer_why",
)
MAX_WEIGHT = 3
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

    offered = read_techniques(path, data.get("techniques"))
    hop_p99_ms = data.get("hop_p99_ms", 100)
    if not isinstance(hop_p99_ms, int) or isinstance(hop_p99_ms, bool) or not (
        1 <= hop_p99_ms <= 60_000
    ):
        raise ContentError(path, "'hop_p99_ms' must be a whole number of milliseconds, 1 to 60000")
    hop_failure = data.get("hop_failure", grading.HOP_FAILURE_RATE)
    if not isinstance(hop_failure, int | float) or isinstance(hop_failure, bool) or not (
        0 <= hop_failure < 1
    ):
        raise ContentError(path, "'hop_failure' must be a probability from 0 to below 1")

    items = require(path, data, "interactions", list)
    if not MIN_INTERACTIONS <= len(items) <= MAX_INTERACTIONS:
        raise ContentError(
            path,
            f"a drill has {MIN_INTERACTIONS} to {MAX_INTERACTIONS} interactions, "
            f"this one has {len(items)}",
        )
    interactions = [read_interaction(path, item, number, offered) for number, item in
                    enumerate(items, start=1)]
    check_interactions(path, interactions)
    set_weights(interactions)
    variants = read_variants(path, data.get("variants"), items, interactions, offered)
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
        "techniques": list(offered),
        "hop_p99_ms": hop_p99_ms,
        "hop_failure": float(hop_failure),
        "variants": variants,
        "interactions": interactions,
    }


def read_techniques(path: Path, value: Any) -> tuple[str, ...]:
    """The techniques a drill offers; none means the drill does not ask for one."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError(path, "'techniques' must be a list of technique names")
    unknown = [v for v in value if v not in grading.TECHNIQUES]
    if unknown:
        raise ContentError(
            path,
            f"unknown technique(s): {', '.join(unknown)}; known are "
            f"{', '.join(grading.TECHNIQUES)}",
        )
    if len(set(value)) != len(value) or len(value) < 2:
        raise ContentError(path, "'techniques' lists at least two techniques, each once")
    return tuple(value)


def read_question(path: Path, where: str, question: Any) -> int:
    if question == grading.OFF_PATH_SLUG:
        return grading.OFF_PATH
    if question not in grading.QUESTIONS or isinstance(question, bool):
        raise ContentError(
            path,
            f"{where}'question' must be one of 1 to 5, or {grading.OFF_PATH_SLUG} for a call "
            f"no user waits for, not {question!r}",
        )
    return question


def set_weights(interactions: list[dict]) -> None:
    """Fill in the weights the file leaves out, from where each call sits in the key."""
    defaults = grading.default_weights([key_item(item) for item in interactions])
    for item in interactions:
        if item["weight"] is None:
            item["weight"] = defaults[item["key"]]


def read_variants(path: Path, value: Any, raw_items: list, interactions: list[dict],
                  offered: tuple[str, ...]) -> list[dict]:
    """Variants of the drill: one constraint changed, so that at least one answer flips.

    Each is checked as a whole drill of its own (reasons, techniques, the hop limit), so a
    variant can never serve a key that the course's procedure contradicts.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContentError(path, "'variants' must be a list")
    base = {item["key"]: item for item in interactions}
    raw_by_key = {item["key"]: item for item in raw_items if isinstance(item, dict)}
    variants: list[dict] = []
    for number, variant in enumerate(value, start=1):
        where = f"variant #{number}: "
        if not isinstance(variant, dict):
            raise ContentError(path, f"{where}must be a mapping")
        unknown = sorted(set(variant) - VARIANT_FIELDS)
        if unknown:
            raise ContentError(path, f"{where}unknown field(s): {', '.join(unknown)}")
        slug = variant.get("slug")
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise ContentError(path, f"{where}'slug' {slug!r} is not a slug")
        if any(v["slug"] == slug for v in variants):
            raise ContentError(path, f"variant {slug!r} is listed twice")
        where = f"variant {slug!r}: "
        changes = variant.get("interactions")
        if not isinstance(changes, dict) or not changes:
            raise ContentError(path, f"{where}'interactions' maps interaction keys to changes")
        merged_raw = []
        for key, raw in raw_by_key.items():
            change = changes.get(key)
            if change is None:
                merged_raw.append(raw)
                continue
            if not isinstance(change, dict):
                raise ContentError(path, f"{where}the change to {key!r} must be a mapping")
            bad = sorted(set(change) - VARIANT_OVERRIDES)
            if bad:
                raise ContentError(
                    path,
                    f"{where}{key!r} may change only {', '.join(sorted(VARIANT_OVERRIDES))}, "
                    f"not {', '.join(bad)}",
                )
            merged = {**raw, **change}
            # A flipped answer drops what belonged to the old one unless the change restates it.
            if "answer" in change:
                for belongs in ("condition", "technique", "also"):
                    if belongs not in change:
                        merged.pop(belongs, None)
            merged_raw.append(merged)
        strangers = sorted(set(changes) - set(raw_by_key))
        if strangers:
            raise ContentError(path, f"{where}no interaction {', '.join(strangers)} to change")
        try:
            resolved = [read_interaction(path, item, n, offered)
                        for n, item in enumerate(merged_raw, start=1)]
            check_interactions(path, resolved)
        except ContentError as exc:
            raise ContentError(path, f"{where}{exc.reason}") from exc
        flipped = [item["key"] for item in resolved
                   if item["answer"] != base[item["key"]]["answer"]]
        if not flipped:
            raise ContentError(
                path, f"{where}changes no answer; a variant flips at least one call"
            )
        stored = {
            item["key"]: {name: item[name] for name in VARIANT_STORED}
            for item in resolved if item["key"] in changes
        }
        variants.append({
            "slug": slug,
            "title": text(path, variant, "title", where),
            "change": text(path, variant, "change", where),
            "interactions": stored,
        })
    return variants


def read_interaction(path: Path, item: Any, number: int,
                     offered: tuple[str, ...] = ()) -> dict:
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
    question = read_question(path, where, item.get("question"))
    also = item.get("also", [])
    if not isinstance(also, list):
        also = [also]
    others = [read_question(path, where + "'also': ", q) for q in also]
    for number_ in (question, *others):
        reason = grading.REASONS[number_]
        if answer != grading.EITHER and answer != reason.points_to:
            raise ContentError(
                path,
                f"{where}{reason.label} points to {reason.points_to}, but the answer is {answer}",
            )
    if question in others or len(set(others)) != len(others):
        raise ContentError(path, f"{where}'also' repeats a reason")
    techniques = read_key_techniques(path, where, item.get("technique"), answer, offered)
    weight = item.get("weight")
    if weight is not None and (
        not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= MAX_WEIGHT
    ):
        raise ContentError(path, f"{where}'weight' must be a whole number from 1 to {MAX_WEIGHT}")
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
        "other_questions": others,
        "techniques": techniques,
        "weight": weight,
        "rationale": text(path, item, "rationale", where),
        "wrong_answer_why": text(path, item, "wrong_answer_why", where),
    }


def read_key_techniques(path: Path, where: str, value: Any, answer: str,
                        offered: tuple[str, ...]) -> list[str]:
    """The techniques the key accepts: as written, or the plain default for its answer."""
    if not offered:
        if value is not None:
            raise ContentError(
                path, f"{where}'technique' needs the drill to offer 'techniques' to choose from"
            )
        return []
    if value is None:
        chosen = list(grading.DEFAULT_TECHNIQUES[answer])
    elif isinstance(value, str):
        chosen = [value]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        chosen = list(value)
    else:
        raise ContentError(path, f"{where}'technique' must be a technique name or a list of them")
    for slug in chosen:
        if slug not in offered:
            raise ContentError(
                path,
                f"{where}technique {slug!r} is not among the drill's 'techniques' "
                f"({', '.join(offered)})",
            )
        if answer != grading.EITHER and answer not in grading.TECHNIQUES[slug].styles:
            raise ContentError(
                path, f"{where}technique {slug!r} is not a way of making a {answer} call"
            )
    if answer == grading.EITHER:
        covered = {style for slug in chosen for style in grading.TECHNIQUES[slug].styles}
        if covered != set(grading.CHOICES):
            raise ContentError(
                path, f"{where}an 'either' answer needs a technique for sync and one for async"
            )
    return chosen


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
        other_questions=tuple(item["other_questions"]),
        techniques=tuple(item["techniques"]),
        weight=item["weight"] or 1,
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
