"""Reads the course from its files in the repository and brings the database in line with them.

Layout of ``courseware/content/``::

    course.yaml                    the course and its modules, in order
    <module>/NN-<slug>.md          one lesson: YAML front matter between '---' lines, then Markdown
    <module>/questions.yaml        check-yourself questions and quick checks of that module

Every file is parsed and validated before anything is written, so a bad file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from django.db import transaction
from django.db.models import Model

from courseware import embeds, figures, problems
from courseware.models import (
    DECIDING_QUESTIONS,
    ContentSource,
    Course,
    Lesson,
    Module,
    Problem,
    Question,
    QuickCheck,
    QuickCheckOption,
)
from courseware.rubrics import with_ids

CONTENT_DIR = Path(__file__).resolve().parent / "content"
LESSON_FILE = re.compile(r"^(?P<order>\d+)-(?P<slug>[a-z0-9-]+)\.md$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Fewer than three options turn a quick check into a coin toss.
MIN_OPTIONS = 3


class ContentLoader(Protocol):
    """A module that reads an app's content files and writes them: courseware's and drills'."""

    def read_content(self, root: Path | None = None) -> Any: ...

    def apply(self, plan: Any) -> LoadReport: ...


_loaders: list[ContentLoader] = []


def register(content_loader: ContentLoader) -> None:
    """Called by each app's ready(), in INSTALLED_APPS order: the order they load in."""
    if content_loader not in _loaders:
        _loaders.append(content_loader)


def registered() -> list[ContentLoader]:
    return list(_loaders)


class ContentError(Exception):
    """A content file that cannot be loaded; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # Rows edited in the admin whose files have not changed since they were last loaded.
    kept: list[str] = field(default_factory=list)
    # Rows whose files changed since the last load (or were never loaded before).
    refreshed: set[str] = field(default_factory=set)
    unchanged: int = 0
    # Rows no longer in the files: deleted, or retired where stored work refers to them.
    removed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed or self.retired)

    def lines(self) -> list[str]:
        lines = [f"created {name}" for name in self.created]
        lines += [f"updated {name}" for name in self.updated]
        lines += [f"removed {name}: no longer in the content files" for name in self.removed]
        lines += [
            f"retired {name}: no longer in the content files, and kept hidden from learners "
            "because stored work or grading refers to it" for name in self.retired
        ]
        lines += [
            f"kept {name}: edited in the admin, and its file has not changed" for name in self.kept
        ]
        lines.append(
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )
        return lines


# libyaml's parser, where PyYAML was built with it, reads the course many times faster than the
# pure-Python one; both accept exactly the safe subset of YAML.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)


def read_yaml(path: Path) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(path, f"invalid YAML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(path, f"cannot be read ({exc})") from exc


def split_front_matter(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(path, f"cannot be read ({exc})") from exc
    if not text.startswith("---\n"):
        raise ContentError(path, "must start with a '---' line opening the front matter")
    try:
        header, body = text[4:].split("\n---\n", 1)
    except ValueError:
        raise ContentError(path, "front matter is not closed by a '---' line") from None
    try:
        meta = load_yaml(header) or {}
    except yaml.YAMLError as exc:
        raise ContentError(path, f"invalid front matter ({exc})") from exc
    if not isinstance(meta, dict):
        raise ContentError(path, "front matter must be a mapping of keys to values")
    return meta, body.strip() + "\n"


def require(path: Path, data: dict, key: str, kind: type = str) -> Any:
    value = data.get(key)
    if value is None or (kind is str and not str(value).strip()):
        raise ContentError(path, f"'{key}' is missing")
    if not isinstance(value, kind):
        raise ContentError(path, f"'{key}' must be a {kind.__name__}")
    return value


def require_slug(path: Path, value: Any, what: str) -> str:
    if not isinstance(value, str) or not SLUG.match(value):
        raise ContentError(path, f"{what} {value!r} is not a slug (lowercase letters, digits, '-')")
    return value


@dataclass
class Plan:
    """Everything the files describe, as field dictionaries keyed by slug."""

    course: dict
    modules: list[dict] = field(default_factory=list)
    lessons: list[dict] = field(default_factory=list)
    questions: list[dict] = field(default_factory=list)
    quick_checks: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


def read_content(root: Path | None = None) -> Plan:
    root = root or CONTENT_DIR
    course_file = root / "course.yaml"
    data = read_yaml(course_file)
    if not isinstance(data, dict):
        raise ContentError(course_file, "must be a mapping with 'slug', 'title' and 'modules'")
    plan = Plan(
        course={
            "slug": require_slug(course_file, data.get("slug"), "course slug"),
            "title": require(course_file, data, "title"),
            "summary": str(data.get("summary", "")).strip(),
        }
    )
    modules = require(course_file, data, "modules", list)
    for module_order, module in enumerate(modules, start=1):
        if not isinstance(module, dict):
            raise ContentError(course_file, f"module #{module_order} must be a mapping")
        slug = require_slug(course_file, module.get("slug"), "module slug")
        plan.modules.append(
            {
                "slug": slug,
                "title": require(course_file, module, "title"),
                "summary": str(module.get("summary", "")).strip(),
                "order": module_order,
            }
        )
        module_dir = root / slug
        if not module_dir.is_dir():
            raise ContentError(module_dir, "module folder named in course.yaml does not exist")
        read_module(module_dir, slug, plan)
    check_unique(course_file, "lesson", [lesson["slug"] for lesson in plan.lessons])
    check_unique(course_file, "question", [q["slug"] for q in plan.questions])
    check_unique(course_file, "quick check", [q["slug"] for q in plan.quick_checks])
    check_unique(course_file, "problem", [p["slug"] for p in plan.problems])
    return plan


def check_unique(path: Path, what: str, slugs: list[str]) -> None:
    seen = set()
    for slug in slugs:
        if slug in seen:
            raise ContentError(path, f"{what} slug {slug!r} is used twice")
        seen.add(slug)


def read_module(module_dir: Path, module_slug: str, plan: Plan) -> None:
    lesson_slugs = set()
    for path in sorted(module_dir.glob("*.md")):
        match = LESSON_FILE.match(path.name)
        if not match:
            raise ContentError(path, "lesson files are named NN-slug.md")
        meta, body = split_front_matter(path)
        slug = match["slug"]
        lesson_slugs.add(slug)
        plan.lessons.append(
            {
                "slug": slug,
                "module": module_slug,
                "order": int(match["order"]),
                "title": require(path, meta, "title"),
                "summary": str(meta.get("summary", "")).strip(),
                "embed": read_embed(path, meta),
                "body_markdown": read_figures(path, body),
                "source_path": str(path.relative_to(module_dir.parent)),
            }
        )
    if not lesson_slugs:
        raise ContentError(module_dir, "module has no lesson files")
    questions_file = module_dir / "questions.yaml"
    if questions_file.exists():
        read_questions(questions_file, lesson_slugs, plan)


def read_figures(path: Path, body: str) -> str:
    for name in figures.markers(body):
        if figures.get(name) is None:
            known = ", ".join(figures.names()) or "none"
            raise ContentError(path, f"figure {name!r} is not a figure (known: {known}).")
    return body


def read_embed(path: Path, meta: dict) -> str:
    name = str(meta.get("embed", "") or "").strip()
    if name and embeds.get(name) is None:
        known = ", ".join(embeds.names()) or "none"
        raise ContentError(path, f"embed {name!r} is not an interactive part (known: {known}).")
    return name


def read_questions(path: Path, lesson_slugs: set[str], plan: Plan) -> None:
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ContentError(path, "must be a mapping with 'check_yourself' and 'quick_checks'")
    for order, item in enumerate(data.get("check_yourself") or [], start=1):
        where = f"check_yourself #{order}"
        if not isinstance(item, dict):
            raise ContentError(path, f"{where} must be a mapping")
        lesson = item.get("lesson")
        if lesson not in lesson_slugs:
            raise ContentError(path, f"{where} names unknown lesson {lesson!r}")
        kind = item.get("kind", Question.Kind.TEXT)
        if kind not in Question.Kind.values:
            raise ContentError(path, f"{where} has unknown kind {kind!r}")
        rubric = item.get("rubric") or []
        if not isinstance(rubric, list) or not all(
            isinstance(c, dict)
            and isinstance(c.get("label"), str)
            and isinstance(c.get("points"), int)
            and c["points"] > 0
            and isinstance(c.get("id", ""), str)
            for c in rubric
        ):
            raise ContentError(path, f"{where}: rubric items need a 'label' and positive 'points'")
        ids = [c["id"] for c in rubric if c.get("id")]
        if len(set(ids)) != len(ids):
            raise ContentError(path, f"{where}: two rubric items share an id")
        key_points = item.get("key_points") or []
        if not isinstance(key_points, list) or not all(isinstance(k, str) for k in key_points):
            raise ContentError(path, f"{where}: key_points must be a list of sentences")
        max_score = item.get("max_score", sum(c["points"] for c in rubric) or 10)
        if not isinstance(max_score, int) or max_score <= 0:
            raise ContentError(path, f"{where}: max_score must be a positive whole number")
        plan.questions.append(
            {
                "slug": require_slug(path, item.get("slug"), f"{where} slug"),
                "lesson": lesson,
                "order": order,
                "kind": kind,
                "prompt": require(path, item, "prompt").strip(),
                "model_answer_markdown": require(path, item, "model_answer").strip(),
                "key_points": key_points,
                "rubric": [
                    {**({"id": c["id"]} if c.get("id") else {}), "label": c["label"],
                     "points": c["points"]}
                    for c in rubric
                ],
                "max_score": max_score,
            }
        )
    for order, item in enumerate(data.get("quick_checks") or [], start=1):
        where = f"quick_checks #{order}"
        if not isinstance(item, dict):
            raise ContentError(path, f"{where} must be a mapping")
        lesson = item.get("lesson")
        if lesson not in lesson_slugs:
            raise ContentError(path, f"{where} names unknown lesson {lesson!r}")
        options = item.get("options")
        if not isinstance(options, list) or len(options) < MIN_OPTIONS:
            raise ContentError(path, f"{where} needs at least {MIN_OPTIONS} options")
        parsed = []
        for number, option in enumerate(options, start=1):
            if not isinstance(option, dict) or not str(option.get("text", "")).strip():
                raise ContentError(path, f"{where}: every option needs a 'text'")
            if not str(option.get("feedback", "")).strip():
                raise ContentError(
                    path, f"{where}: option #{number} needs 'feedback' saying why it is right or "
                          "wrong"
                )
            if not isinstance(option.get("correct", False), bool):
                raise ContentError(
                    path, f"{where}: option #{number} 'correct' must be true or false"
                )
            parsed.append(
                {
                    "key": require_slug(path, option.get("key"), f"{where}: option #{number} key"),
                    "text": str(option["text"]).strip(),
                    "correct": option.get("correct", False),
                    "feedback": str(option["feedback"]).strip(),
                }
            )
        keys = [option["key"] for option in parsed]
        if len(set(keys)) != len(keys):
            raise ContentError(path, f"{where}: two options share a key")
        right = sum(option["correct"] for option in parsed)
        multiple = item.get("multiple", False) is True
        if right == 0:
            raise ContentError(path, f"{where}: mark at least one option correct")
        if not multiple and right != 1:
            raise ContentError(path, f"{where}: a single-choice check needs exactly one correct "
                                     "option")
        deciding = item.get("deciding_question")
        if deciding is not None and (
            not isinstance(deciding, int) or isinstance(deciding, bool)
            or deciding not in DECIDING_QUESTIONS
        ):
            raise ContentError(
                path, f"{where}: deciding_question {deciding!r} is not one of the deciding "
                      f"questions {DECIDING_QUESTIONS[0]} to {DECIDING_QUESTIONS[-1]}; leave it "
                      "out for a check that practises none of them"
            )
        plan.quick_checks.append(
            {
                "slug": require_slug(path, item.get("slug"), f"{where} slug"),
                "lesson": lesson,
                "order": order,
                "prompt": require(path, item, "prompt").strip(),
                "multiple": multiple,
                "explanation": str(item.get("explanation", "")).strip(),
                "hint": require(path, item, "hint").strip(),
                "deciding_question": deciding,
                "options": parsed,
            }
        )
    read_problems(path, data, lesson_slugs, plan)


def read_problems(path: Path, data: dict, lesson_slugs: set[str], plan: Plan) -> None:
    for order, item in enumerate(data.get("problems") or [], start=1):
        where = f"problems #{order}"
        if not isinstance(item, dict):
            raise ContentError(path, f"{where} must be a mapping")
        lesson = item.get("lesson")
        if lesson not in lesson_slugs:
            raise ContentError(path, f"{where} names unknown lesson {lesson!r}")
        kind = str(item.get("type", "") or "").strip()
        if problems.get(kind) is None:
            known = ", ".join(problems.names()) or "none"
            raise ContentError(path, f"{where} has unknown type {kind!r} (known: {known})")
        plan.problems.append(
            {
                "slug": require_slug(path, item.get("slug"), f"{where} slug"),
                "lesson": lesson,
                "order": order,
                "kind": kind,
            }
        )


def digest(values: dict, extra: Any = None, *, optional: Collection[str] = ()) -> str:
    """The digest of a row's values; ``optional`` fields count only when they are set."""
    def plain(value: Any) -> Any:
        return f"{type(value).__name__}:{value.pk}" if hasattr(value, "pk") else value

    data = {
        name: plain(value) for name, value in values.items()
        if not (name in optional and value is None)
    }
    return hashlib.sha256(
        json.dumps([data, extra], sort_keys=True, default=str).encode()
    ).hexdigest()


def sync(model, lookup: dict, values: dict, label: str, report: LoadReport, extra: Any = None,
         *, optional: Collection[str] = ()):
    """Create or update one row, touching the database only when something differs.

    The file's version wins only when the file changed since it was last loaded, so an
    instructor's edit in the admin survives reloads until someone edits the file itself.
    ``optional`` names fields added to the files after rows were first loaded: left blank,
    they leave a row's digest as it was, so the row is not taken for an edited file.
    """
    source_digest = digest(values, extra, optional=optional)
    source = ContentSource.objects.filter(label=label).first()
    file_changed = source is None or source.digest != source_digest
    if file_changed:
        report.refreshed.add(label)
        ContentSource.objects.update_or_create(label=label, defaults={"digest": source_digest})
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.save()
        report.created.append(label)
        return obj
    differs = any(getattr(obj, name) != value for name, value in values.items())
    if differs and not file_changed:
        report.kept.append(label)
    elif differs:
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()
        report.updated.append(label)
    else:
        report.unchanged += 1
    return obj


@transaction.atomic
def apply(plan: Plan) -> LoadReport:
    report = LoadReport()
    course = sync(
        Course,
        {"slug": plan.course["slug"]},
        {k: v for k, v in plan.course.items() if k != "slug"},
        f"course {plan.course['slug']}",
        report,
    )
    modules = {}
    for module in plan.modules:
        values = {k: v for k, v in module.items() if k != "slug"}
        modules[module["slug"]] = sync(
            Module, {"slug": module["slug"]}, {**values, "course": course},
            f"module {module['slug']}", report,
        )
    lessons = {}
    for lesson in plan.lessons:
        values = {k: v for k, v in lesson.items() if k not in {"slug", "module"}}
        lessons[lesson["slug"]] = sync(
            Lesson, {"slug": lesson["slug"]}, {**values, "module": modules[lesson["module"]]},
            f"lesson {lesson['slug']}", report,
        )
    for question in plan.questions:
        values = {k: v for k, v in question.items() if k not in {"slug", "lesson"}}
        # A file names criteria by label; matching them to the stored ones keeps their ids.
        stored = Question.objects.filter(slug=question["slug"]).values_list("rubric", flat=True)
        values["rubric"] = with_ids(values["rubric"], list(stored.first() or []))
        label = f"question {question['slug']}"
        saved = sync(
            Question, {"slug": question["slug"]},
            {**values, "lesson": lessons[question["lesson"]]}, label, report,
        )
        if saved.retired:
            # Back in the files: asked again, with the work handed in before it was retired.
            saved.retired = False
            saved.save(update_fields=["retired"])
            report.updated.append(f"{label} back in the course")
    remove_stale_questions(plan, report)
    for check in plan.quick_checks:
        values = {k: v for k, v in check.items() if k not in {"slug", "lesson", "options"}}
        label = f"quick check {check['slug']}"
        quick_check = sync(
            QuickCheck, {"slug": check["slug"]}, {**values, "lesson": lessons[check["lesson"]]},
            label, report, extra=check["options"], optional={"deciding_question"},
        )
        current = [
            {"key": o.key, "text": o.text, "correct": o.correct, "feedback": o.feedback}
            for o in quick_check.options.all()
        ]
        if current != check["options"] and label in report.refreshed:
            # Stored tries name options by key, so replacing the rows keeps them meaningful.
            quick_check.options.all().delete()
            QuickCheckOption.objects.bulk_create(
                QuickCheckOption(quick_check=quick_check, order=order, **option)
                for order, option in enumerate(check["options"])
            )
            if label not in report.created + report.updated:
                report.updated.append(f"{label} options")
    for problem in plan.problems:
        values = {k: v for k, v in problem.items() if k not in {"slug", "lesson"}}
        sync(
            Problem, {"slug": problem["slug"]}, {**values, "lesson": lessons[problem["lesson"]]},
            f"problem {problem['slug']}", report,
        )
    return report


def references(obj: Model) -> list[str]:
    """The models whose rows refer to this row ("app.model"), from every installed app's
    foreign keys, one-to-one and many-to-many fields, so an app added above is covered too."""
    return [
        relation.related_model._meta.label_lower
        for relation in obj._meta.related_objects
        if relation.related_model._base_manager.filter(**{relation.field.name: obj}).exists()
    ]


def remove_stale_questions(plan: Plan, report: LoadReport) -> None:
    """Questions of the files' lessons that the files no longer have: deleted when nothing
    refers to them, retired (kept, hidden from learners) when anything does, so no learner's
    answer, grade or regrade request and no instructor's setting is lost with them."""
    stale = (
        Question.objects.filter(lesson__slug__in=[lesson["slug"] for lesson in plan.lessons])
        .exclude(slug__in=[question["slug"] for question in plan.questions])
        .order_by("slug")
    )
    for question in stale:
        label = f"question {question.slug}"
        if references(question):
            if not question.retired:
                question.retired = True
                question.save(update_fields=["retired"])
                report.retired.append(label)
            continue
        question.delete()
        ContentSource.objects.filter(label=label).delete()
        report.removed.append(label)


def load(root: Path | None = None) -> LoadReport:
    return apply(read_content(root))
