import io
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

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
        ("basics/questions.yaml",
         CHECK.format(extra=HINT + "    deciding_question: 7\n", options=A + B + C),
         "deciding_question 7 is not one of the deciding questions 1 to 5"),
        ("basics/questions.yaml",
         CHECK.format(extra=HINT + "    deciding_question: 0\n", options=A + B + C),
         "deciding_question 0 is not one of the deciding questions 1 to 5"),
        ("basics/questions.yaml",
         CHECK.format(extra=HINT + "    deciding_question: three\n", options=A + B + C),
         "deciding_question 'three' is not one of the deciding questions"),
        ("basics/questions.yaml",
         CHECK.format(extra=HINT + "    deciding_question: true\n", options=A + B + C),
         "deciding_question True is not one of the deciding questions"),
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


# Deciding questions of quick checks ----------------------------------------------------------


@pytest.mark.django_db
def test_a_quick_check_names_the_deciding_question_it_practises(content):
    path = content / "basics" / "questions.yaml"
    path.write_text(QUESTIONS.replace("    hint: Ask", "    deciding_question: 1\n    hint: Ask"))
    load(content)
    assert QuickCheck.objects.get(slug="pick-one").deciding_question == 1
    assert not load(content).changed
    path.write_text(QUESTIONS)
    assert load(content).updated == ["quick check pick-one"]
    assert QuickCheck.objects.get(slug="pick-one").deciding_question is None


def test_a_blank_deciding_question_leaves_a_rows_digest_as_it_was():
    # Rows loaded before checks could name a question are not taken for edited files, so an
    # admin edit of theirs survives the first load that knows the field.
    values = {"prompt": "Which style waits?", "hint": "Think."}
    blank = {**values, "deciding_question": None}
    assert loader.digest(blank, optional={"deciding_question"}) == loader.digest(values)
    tagged = {**values, "deciding_question": 2}
    assert loader.digest(tagged, optional={"deciding_question"}) != loader.digest(values)


def test_the_course_tags_only_checks_that_apply_a_deciding_question(course_checks):
    tagged = {check["slug"]: check["deciding_question"] for check in course_checks
              if check["deciding_question"] is not None}
    assert set(tagged.values()) <= {1, 2, 3, 4, 5}
    assert tagged["reset-email-question"] == 3 and tagged["chain-of-three"] == 5
    assert tagged["audit-must-not-be-lost"] == 4 and tagged["comment-spam-score"] == 1
    # Arithmetic is practised for its own sake, not as one of the five questions.
    assert not any(check["lesson"] == "latency-math" for check in course_checks
                   if check["slug"] in tagged)


# Questions that left the files ---------------------------------------------------------------


def courseware_rows() -> dict[str, dict]:
    from courseware.models import ContentSource, QuickCheckOption
    from tests.course_copy import all_rows

    return {model.__name__: all_rows(model) for model in (
        ContentSource, Lesson, Question, QuickCheck, QuickCheckOption, Problem)}


def old_question(lesson: Lesson, slug: str) -> Question:
    """A check-yourself question as an earlier version of the files left it in the database."""
    from courseware.models import ContentSource

    question = Question.objects.create(
        lesson=lesson, slug=slug, order=9, prompt="Work out the chain's failure rate by hand.",
        model_answer_markdown="1 − 0.99³.", rubric=[{"label": "Right number", "points": 10}],
    )
    ContentSource.objects.create(label=f"question {slug}", digest="0" * 64)
    return question


@pytest.mark.django_db
def test_a_question_no_longer_in_the_files_is_removed_and_nothing_else_changes(content):
    load(content)
    before = courseware_rows()
    old_question(Lesson.objects.get(slug="first"), "chain-arithmetic")
    report = load(content)
    assert report.removed == ["question chain-arithmetic"] and report.changed
    assert "removed question chain-arithmetic: no longer in the content files" in report.lines()
    assert report.created == report.updated == report.retired == []
    assert courseware_rows() == before
    assert not load(content).changed


@pytest.mark.django_db
def test_a_dropped_question_with_work_handed_in_is_retired_with_its_grades(
        content, learner, client):
    from django.utils import timezone

    from courseware import handins
    from grading.models import Grade, Submission

    load(content)
    stale = old_question(Lesson.objects.get(slug="first"), "fan-out-tail")
    submission = Submission.objects.create(learner=learner, question=stale, answer="63%.",
                                           status=Submission.Status.GRADED)
    Grade.objects.create(submission=submission, score=7, max_score=10, released=True,
                         released_at=timezone.now())
    grades = list(Grade.objects.values())
    submissions = list(Submission.objects.values())
    before = courseware_rows()

    report = load(content)
    assert report.retired == ["question fan-out-tail"] and report.removed == []
    stale.refresh_from_db()
    assert stale.retired
    after = courseware_rows()
    assert after["Question"].pop(stale.pk)["retired"] is True
    before["Question"].pop(stale.pk)
    assert after == before
    assert list(Grade.objects.values()) == grades
    assert list(Submission.objects.values()) == submissions
    # The learner still finds the released grade through the seam the course reads it from.
    receipt = handins.desk().latest(learner=learner, items=[stale])[stale.pk]
    assert receipt.score == 7
    assert not load(content).changed

    # Learners are no longer asked it, and an answer posted to it is refused with the reason.
    client.force_login(learner)
    page = client.get(stale.lesson.get_absolute_url()).content.decode()
    assert "question-why-chains-hurt" in page and "question-fan-out-tail" not in page
    assert "Work out the chain" not in page
    response = client.post(reverse("courseware:answer_question", args=[stale.slug]),
                           {"answer": "New answer", "token": str(uuid.uuid4())})
    assert response.status_code == 410
    assert "has left the course" in response.content.decode()
    response = client.post(reverse("courseware:answer_question", args=[stale.slug]),
                           {"answer": "New answer", "token": str(uuid.uuid4())},
                           headers={"HX-Request": "true"})
    assert response.status_code == 410 and response["Content-Type"].startswith("text/plain")
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_a_retired_question_that_comes_back_to_the_files_is_asked_again(content, learner):
    from grading.models import Submission

    load(content)
    question = Question.objects.get(slug="why-chains-hurt")
    Submission.objects.create(learner=learner, question=question, answer="They multiply.")
    path = content / "basics" / "questions.yaml"
    path.write_text(QUESTIONS[QUESTIONS.index("quick_checks:"):])
    assert load(content).retired == ["question why-chains-hurt"]
    path.write_text(QUESTIONS)
    report = load(content)
    assert report.updated == ["question why-chains-hurt back in the course"]
    assert not Question.objects.get(slug="why-chains-hurt").retired


@pytest.mark.django_db
def test_the_replaced_questions_of_an_old_database_leave_on_the_next_load(learner):
    from grading.models import Submission

    load()
    lesson = Lesson.objects.get(slug="check-yourself")
    before = courseware_rows()
    old_question(lesson, "chain-arithmetic")
    answered = old_question(lesson, "fan-out-tail")
    Submission.objects.create(learner=learner, question=answered, answer="About 63%.")
    report = load()
    assert report.removed == ["question chain-arithmetic"]
    assert report.retired == ["question fan-out-tail"]
    assert not Question.objects.filter(slug="chain-arithmetic").exists()
    after = courseware_rows()
    assert after["Question"].pop(answered.pk)["retired"] is True
    after["ContentSource"] = {
        pk: row for pk, row in after["ContentSource"].items()
        if row["label"] != "question fan-out-tail"
    }
    assert after == before
    assert Question.objects.filter(lesson=lesson, retired=False).count() == \
        len([q for q in loader.read_content().questions if q["lesson"] == "check-yourself"])
