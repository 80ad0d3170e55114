import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courseware import loader
from courseware.loader import ContentError, load
from courseware.models import Lesson, Question, QuickCheck

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
    options:
      - {text: Sync, correct: true, feedback: It blocks.}
      - {text: Async, feedback: It moves on.}
"""


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
    assert QuickCheck.objects.get(slug="pick-one").options.count() == 2


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
        ("basics/questions.yaml",
         "quick_checks:\n  - slug: two-right\n    lesson: first\n    prompt: P\n    options:\n"
         "      - {text: A, correct: true}\n      - {text: B, correct: true}\n",
         "exactly one correct option"),
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
    assert Question.objects.filter(kind=Question.Kind.TEXT).count() >= 5
    assert Question.objects.filter(slug="own-workflow", kind=Question.Kind.WORKFLOW).exists()
    assert QuickCheck.objects.count() >= 6
    assert Lesson.objects.get(slug="latency-math").embed == "simulator"
    assert not load().changed
