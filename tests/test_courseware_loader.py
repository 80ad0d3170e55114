import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courseware import loader
from courseware.loader import ContentError, load
from courseware.models import Lesson, Problem, Question, QuickCheck

COURSE = """\
slug: demo-course
title: Demo course
modules:
  - slug: basics
    title: Basics
"""
LESSON = """\
---
title: {title}
summary: A short summary.
---
## First part

Some **bold** text and a <script>alert(1)</script> tag.

| Style | Waits |
|---|---|
| sync | yes |
"""
QUESTIONS = """\
check_yourself:
  - slug: why-chains-hurt
    lesson: first
    prompt: Why do long chains hurt?
    model_answer: Because failures multiply.
    key_points: [Failures compound]
    rubric: [{label: Names compounding, points: 6}, {label: Uses numbers, points: 4}]
quick_checks:
  - slug: pick-one
    lesson: second
    prompt: Which style waits?
    hint: Ask whether the caller can move on.
    options:
      - {key: sync, text: Sync, correct: true, feedback: It blocks.}
      - {key: async, text: Async, feedback: It moves on.}
      - {key: neither, text: Neither, feedback: One of them does.}
"""
CHECK = (
    "quick_checks:\n  - slug: c\n    lesson: first\n    prompt: P\n{extra}    options:\n{options}"
)
A = "      - {key: a, text: A, correct: true, feedback: Yes.}\n"
B = "      - {key: b, text: B, feedback: No.}\n"
C = "      - {key: c, text: C, feedback: No.}\n"
HINT = "    hint: Think.\n"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    (tmp_path / "course.yaml").write_text(COURSE)
    module = tmp_path / "basics"
    module.mkdir()
    (module / "01-first.md").write_text(LESSON.format(title="First lesson"))
    (module / "02-second.md").write_text(LESSON.format(title="Second lesson"))
    (module / "questions.yaml").write_text(QUESTIONS)
    return tmp_path


@pytest.mark.django_db
def test_load_creates_everything_in_order(content):
    report = load(content)
    assert "lesson first" in report.created
    assert [lesson.slug for lesson in Lesson.objects.in_order()] == ["first", "second"]
    question = Question.objects.get(slug="why-chains-hurt")
    assert question.max_score == 10
    assert question.model_answer_html == "<p>Because failures multiply.</p>"
    check = QuickCheck.objects.get(slug="pick-one")
    assert check.hint == "Ask whether the caller can move on."
    assert [o.key for o in check.options.all()] == ["sync", "async", "neither"]


@pytest.mark.django_db
def test_markdown_rendered_once_and_sanitized(content):
    load(content)
    lesson = Lesson.objects.get(slug="first")
    assert "<strong>bold</strong>" in lesson.body_html
    assert "<table>" in lesson.body_html
    assert "<script" not in lesson.body_html and "alert(1)" not in lesson.body_html
    assert lesson.toc == [{"id": "first-part", "name": "First part", "level": 2}]


@pytest.mark.django_db
def test_second_load_changes_nothing(content):
    load(content)
    before = list(Lesson.objects.values_list("pk", "body_html"))
    report = load(content)
    assert not report.changed
    assert report.created == [] and report.updated == []
    assert list(Lesson.objects.values_list("pk", "body_html")) == before


@pytest.mark.django_db
def test_edited_file_updates_lesson(content):
    load(content)
    (content / "basics" / "01-first.md").write_text(LESSON.format(title="Renamed lesson"))
    report = load(content)
    assert report.updated == ["lesson first"]
    assert Lesson.objects.get(slug="first").title == "Renamed lesson"


@pytest.mark.django_db
def test_admin_edits_survive_reloads_until_the_file_changes(content):
    load(content)
    lesson = Lesson.objects.get(slug="first")
    lesson.body_markdown = "## Edited in the admin\n"
    lesson.save()
    report = load(content)
    assert report.kept == ["lesson first"] and not report.changed
    assert "kept lesson first" in report.lines()[0]
    assert "Edited in the admin" in Lesson.objects.get(slug="first").body_html

    (content / "basics" / "01-first.md").write_text(LESSON.format(title="File wins"))
    report = load(content)
    assert report.updated == ["lesson first"]
    lesson = Lesson.objects.get(slug="first")
    assert lesson.title == "File wins" and "Edited in the admin" not in lesson.body_html


@pytest.mark.django_db
def test_changed_options_are_replaced(content):
    load(content)
    text = (content / "basics" / "questions.yaml").read_text()
    (content / "basics" / "questions.yaml").write_text(text.replace("It blocks.", "It waits."))
    report = load(content)
    assert report.updated == ["quick check pick-one options"]
    option = QuickCheck.objects.get(slug="pick-one").options.get(correct=True)
    assert option.feedback == "It waits."


@pytest.mark.parametrize(
    ("path", "text", "reason"),
    [
        ("basics/01-first.md", "no front matter\n", "must start with a '---' line"),
        ("basics/01-first.md", "---\ntitle: [unclosed\n---\nbody\n", "invalid front matter"),
        ("basics/01-first.md", "---\nsummary: no title\n---\nbody\n", "'title' is missing"),
        ("basics/questions.yaml", "check_yourself:\n  - slug: x\n    lesson: nowhere\n",
         "unknown lesson 'nowhere'"),
        ("basics/questions.yaml", CHECK.format(extra=HINT, options=A + A.replace("a,", "b,") + C),
         "exactly one correct option"),
        ("basics/questions.yaml", CHECK.format(extra=HINT, options=A + B), "at least 3 options"),
        ("basics/questions.yaml", CHECK.format(extra="", options=A + B + C), "'hint' is missing"),
        ("basics/questions.yaml",
         CHECK.format(extra=HINT + "    multiple: true\n", options=B + C + C.replace("c,", "d,")),
         "mark at least one option correct"),
        ("basics/questions.yaml", CHECK.format(extra=HINT, options=B + C + C),
         "two options share a key"),
        ("basics/questions.yaml",
         CHECK.format(extra=HINT, options=A + B + C.replace("key: c, ", "")), "option #3 key"),
        ("basics/questions.yaml",
         CHECK.format(extra=HINT, options=A + B + C.replace(", feedback: No.", "")),
         "option #3 needs 'feedback'"),
        ("basics/questions.yaml",
         CHECK.format(extra=HINT, options=A.replace("true", '"yes"') + B + C),
         "'correct' must be true or false"),
        ("course.yaml", "slug: Bad Slug\ntitle: T\nmodules: []\n", "is not a slug"),
    ],
)
@pytest.mark.django_db
def test_malformed_file_names_file_and_reason_and_changes_nothing(content, path, text, reason):
    load(content)
    before = list(Lesson.objects.values_list("slug", "title", "body_html"))
    (content / path).write_text(text)
    with pytest.raises(ContentError) as excinfo:
        load(content)
    assert path.split("/")[-1] in str(excinfo.value)
    assert reason in str(excinfo.value)
    assert list(Lesson.objects.values_list("slug", "title", "body_html")) == before


@pytest.mark.django_db
def test_command_reports_and_fails_cleanly(content, monkeypatch):
    monkeypatch.setattr(loader, "CONTENT_DIR", content)
    out = io.StringIO()
    call_command("load_course", stdout=out)
    assert "created lesson first" in out.getvalue()
    out = io.StringIO()
    call_command("load_course", stdout=out)
    assert "nothing changed" in out.getvalue()
    (content / "basics" / "02-second.md").write_text("broken")
    with pytest.raises(CommandError, match=r"Nothing was changed\..*02-second\.md"):
        call_command("load_course", stdout=io.StringIO())


@pytest.mark.django_db
def test_real_course_content_loads():
    report = load()
    lessons = list(Lesson.objects.in_order())
    assert len(lessons) == 10
    assert report.changed
    # The arithmetic ones are problems, graded at once with the learner's own numbers.
    assert Question.objects.filter(kind=Question.Kind.TEXT).count() >= 4
    assert not Question.objects.filter(slug__in=["chain-arithmetic", "fan-out-tail"]).exists()
    assert Problem.objects.values("kind").distinct().count() >= 6
    assert Question.objects.filter(slug="own-workflow", kind=Question.Kind.WORKFLOW).exists()
    assert QuickCheck.objects.count() >= 30
    assert Lesson.objects.get(slug="latency-math").embed == "simulator"
    assert not load().changed


@pytest.mark.django_db
def test_a_stored_try_keeps_its_meaning_when_options_are_reworded(content, learner):
    from courseware.models import QuickCheckResponse

    load(content)
    check = QuickCheck.objects.get(slug="pick-one")
    QuickCheckResponse.objects.create(learner=learner, quick_check=check, selected=["sync"],
                                      correct=True)
    path = content / "basics" / "questions.yaml"
    path.write_text(path.read_text().replace("text: Sync,", "text: Synchronous,"))
    load(content)
    chosen = check.options.get(key=QuickCheckResponse.objects.get().selected[0])
    assert (chosen.text, chosen.correct) == ("Synchronous", True)


# The course's own quick checks ---------------------------------------------------------------


@pytest.fixture(scope="module")
def course_checks() -> list[dict]:
    return loader.read_content().quick_checks


def test_every_lesson_but_the_reading_list_has_three_quick_checks(course_checks):
    plan = loader.read_content()
    per_lesson = {lesson["slug"]: 0 for lesson in plan.lessons}
    for check in course_checks:
        per_lesson[check["lesson"]] += 1
    assert per_lesson.pop("further-reading") == 0
    assert min(per_lesson.values()) >= 3, per_lesson
    assert len(course_checks) >= 30
    assert {check["multiple"] for check in course_checks} == {True, False}
    assert all(check["hint"] and check["explanation"] for check in course_checks)


def test_the_right_option_is_not_given_away_by_its_length(course_checks):
    single = [check for check in course_checks if not check["multiple"]]
    longest = shortest = 0
    for check in single:
        lengths = [len(option["text"]) for option in check["options"]]
        right = next(len(o["text"]) for o in check["options"] if o["correct"])
        longest += right == max(lengths)
        shortest += right == min(lengths)
    # Picking the longest (or the shortest) option must do no better than a lucky guess would.
    assert longest <= len(single) / 3 and shortest <= len(single) / 3, (longest, shortest)
    for check in course_checks:
        lengths = [len(option["text"]) for option in check["options"]]
        assert max(lengths) <= 1.6 * min(lengths), check["slug"]


def test_authored_positions_of_the_right_option_vary(course_checks):
    positions = [
        next(i for i, option in enumerate(check["options"]) if option["correct"])
        for check in course_checks if not check["multiple"]
    ]
    assert len(set(positions)) >= 3
    assert max(positions.count(p) for p in set(positions)) <= len(positions) / 2


PROBLEMS = "problems:\n  - {{slug: {slug}, lesson: {lesson}, type: {kind}}}\n"


@pytest.mark.django_db
def test_problems_load_onto_their_lessons_and_a_second_load_changes_nothing(content):
    path = content / "basics" / "questions.yaml"
    path.write_text(QUESTIONS + PROBLEMS.format(slug="chain", lesson="second",
                                                kind="chain-failure"))
    load(content)
    problem = Problem.objects.get(slug="chain")
    assert (problem.lesson.slug, problem.kind) == ("second", "chain-failure")
    assert not load(content).changed


@pytest.mark.django_db
@pytest.mark.parametrize("slug, lesson, kind, reason", [
    ("chain", "nowhere", "chain-failure", "unknown lesson 'nowhere'"),
    ("chain", "first", "guesswork", "unknown type 'guesswork' \\(known: .*chain-failure"),
    ("Not A Slug", "first", "chain-failure", "is not a slug"),
])
def test_a_bad_problem_entry_stops_the_load_with_its_reason(content, slug, lesson, kind, reason):
    path = content / "basics" / "questions.yaml"
    path.write_text(QUESTIONS + PROBLEMS.format(slug=f"'{slug}'", lesson=lesson, kind=kind))
    with pytest.raises(ContentError, match=reason):
        load(content)
    assert not Problem.objects.exists()
