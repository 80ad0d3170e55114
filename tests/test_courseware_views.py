import io
import json
import os
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.roles import INSTRUCTORS
from config.context_processors import is_instructor
from courseware import figures, lesson_figures, versioning
from courseware.models import (
    ContentSource,
    Lesson,
    LessonProgress,
    Question,
    QuickCheck,
)
from courseware.services import record_visit
from courseware.versioning import content_version
from courseware.views import DRAFTS_KEY
from grading.models import Submission
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LESSON_SLUGS = [
    "two-styles", "why-it-matters", "worked-example", "misconceptions", "decision-procedure",
    "rest-grpc-and-backbones", "choreography-orchestration", "latency-math", "check-yourself",
    "further-reading",
]


@pytest.fixture
def question(course) -> Question:
    found = Question.objects.filter(kind=Question.Kind.TEXT).first()
    assert found is not None
    return found


@pytest.fixture
def quick_check(course) -> QuickCheck:
    found = QuickCheck.objects.filter(multiple=False).prefetch_related("options").first()
    assert found is not None
    return found


def right_key(check: QuickCheck) -> str:
    return next(option.key for option in check.options.all() if option.correct)


def wrong_key(check: QuickCheck) -> str:
    return next(option.key for option in check.options.all() if not option.correct)


def answer_url(question: Question) -> str:
    return reverse("courseware:answer_question", args=[question.slug])


# Pages ------------------------------------------------------------------------------------


def test_home_lists_every_lesson(client, course):
    response = client.get(reverse("courseware:home"))
    assert response.status_code == 200
    for lesson in Lesson.objects.all():
        assert lesson.get_absolute_url() in response.content.decode()
    assert b"Start the course" in response.content
    assert b"plotly" not in response.content


@pytest.mark.parametrize("slug", LESSON_SLUGS)
def test_every_lesson_page_renders_with_navigation(client, course, slug):
    response = client.get(reverse("courseware:lesson", args=[slug]))
    assert response.status_code == 200
    html = response.content.decode()
    lesson = response.context["lesson"]
    # The body is drawn in runs, with the lesson's figures between them.
    for part in figures.split(lesson.body_html):
        assert part.html in html
        assert not part.figure or f'id="fig-{part.figure}"' in html
    assert f"Lesson {LESSON_SLUGS.index(slug) + 1} of 10" in html
    if slug != LESSON_SLUGS[0]:
        assert 'rel="prev"' in html
    if slug != LESSON_SLUGS[-1]:
        assert 'rel="next"' in html
    for entry in lesson.toc:
        assert f'href="#{entry["id"]}"' in html


def test_unknown_lesson_is_a_styled_404(client, course):
    response = client.get("/lessons/no-such-lesson/")
    assert response.status_code == 404
    assert b"We could not find that page" in response.content
    assert b"navbar" in response.content


def test_model_answer_hidden_until_learner_submits(learner_client, question):
    response = learner_client.get(question.lesson.get_absolute_url())
    assert question.model_answer_html.encode() not in response.content
    assert b"Submit answer" in response.content


# Check-yourself answers --------------------------------------------------------------------


def test_anonymous_answer_goes_to_login_and_keeps_the_text(client, question, learner):
    response = client.post(answer_url(question), {"answer": "Failures multiply along a chain."})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert f"question-{question.slug}" in response["Location"]
    assert not Submission.objects.exists()
    assert client.session[DRAFTS_KEY][question.slug] == "Failures multiply along a chain."

    response = client.post(
        response["Location"], {"username": learner.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#question-{question.slug}")
    page = client.get(question.lesson.get_absolute_url())
    assert b"Failures multiply along a chain.</textarea>" in page.content


def test_anonymous_htmx_answer_asks_the_browser_to_go_to_login(client, question):
    response = client.post(answer_url(question), {"answer": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_learner_answer_is_stored_and_reveals_model_answer(learner_client, learner, question):
    response = learner_client.post(answer_url(question), {"answer": "  Timeouts and retries.  "})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert (submission.learner, submission.question) == (learner, question)
    assert submission.answer == "Timeouts and retries."
    assert submission.status == Submission.Status.AWAITING
    assert list(Submission.objects.awaiting_grading()) == [submission]
    page = learner_client.get(question.lesson.get_absolute_url()).content.decode()
    assert question.model_answer_html in page
    for point in question.key_points:
        assert point in page or point.replace("'", "&#x27;") in page


def test_htmx_answer_returns_only_the_question_fragment(learner_client, question):
    response = learner_client.post(
        answer_url(question), {"answer": "Async frees the caller."}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div class="activity-card" id="question-{question.slug}"')
    assert "<html" not in html and "navbar" not in html
    assert question.model_answer_html in html


def test_the_draft_is_dropped_once_submitted(client, learner, question):
    client.post(answer_url(question), {"answer": "draft"})
    client.force_login(learner)
    client.post(answer_url(question), {"answer": "final"})
    assert question.slug not in client.session[DRAFTS_KEY]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("", "Write an answer before submitting."),
        ("    ", "Write an answer before submitting."),
        ("x" * 5001, "Keep your answer to 5000 characters"),
    ],
)
def test_bad_answers_are_form_errors_and_store_nothing(learner_client, question, answer, message):
    response = learner_client.post(answer_url(question), {"answer": answer})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Submission.objects.exists()
    htmx = learner_client.post(
        answer_url(question), {"answer": answer}, headers={"HX-Request": "true"}
    )
    assert message in htmx.content.decode() and "<html" not in htmx.content.decode()
    assert not Submission.objects.exists()


def test_answer_of_exactly_5000_characters_is_accepted(learner_client, question):
    learner_client.post(answer_url(question), {"answer": "y" * 5000})
    assert Submission.objects.get().answer == "y" * 5000


def test_learner_html_is_shown_escaped(learner_client, question):
    learner_client.post(answer_url(question), {"answer": "<script>alert('x')</script><b>hi</b>"})
    page = learner_client.get(question.lesson.get_absolute_url()).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;b&gt;hi&lt;/b&gt;" in page


def test_unknown_question_is_404(learner_client, course):
    assert learner_client.post("/questions/nope/answer/", {"answer": "a"}).status_code == 404


def test_post_without_csrf_token_is_a_styled_403(learner, question):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    response = client.post(answer_url(question), {"answer": "hello"})
    assert response.status_code == 403
    assert b"The form had expired" in response.content
    assert not Submission.objects.exists()


def test_get_on_a_post_endpoint_is_a_readable_405(learner_client, question):
    response = learner_client.get(answer_url(question))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert b"That page only accepts a form" in response.content
    htmx = learner_client.get(answer_url(question), headers={"HX-Request": "true"})
    assert htmx.status_code == 405 and htmx.content == b""


def test_favicon_points_at_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")


# Quick checks: see tests/test_quick_checks.py ----------------------------------------------


def check_url(check: QuickCheck) -> str:
    return reverse("courseware:check_quick_check", args=[check.slug])


# Progress ----------------------------------------------------------------------------------


def test_completing_a_lesson_moves_on_and_shows_progress(learner_client, learner, course):
    first, second = Lesson.objects.in_order()[:2]
    response = learner_client.post(reverse("courseware:complete_lesson", args=[first.slug]))
    assert response["Location"] == second.get_absolute_url()
    assert LessonProgress.objects.get(learner=learner, lesson=first).completed_at is not None
    learner_client.get(second.get_absolute_url())
    home = learner_client.get(reverse("courseware:home")).content.decode()
    assert "1 / 10" in home
    assert f"Continue: {second.title}" in home


def test_htmx_completion_returns_the_fragment(learner_client, course):
    lesson = Lesson.objects.in_order().first()
    assert lesson is not None
    response = learner_client.post(
        reverse("courseware:complete_lesson", args=[lesson.slug]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="completion"') and "Lesson done" in html


def test_anonymous_completion_asks_to_log_in(client, course):
    lesson = Lesson.objects.in_order().first()
    assert lesson is not None
    response = client.post(reverse("courseware:complete_lesson", args=[lesson.slug]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_progress_counts_answers_and_quick_checks(learner_client, question, quick_check):
    learner_client.post(answer_url(question), {"answer": "one"})
    learner_client.post(answer_url(question), {"answer": "two"})
    learner_client.post(check_url(quick_check), {"choice": right_key(quick_check)})
    learner_client.post(check_url(quick_check), {"choice": wrong_key(quick_check)})
    progress = learner_client.get(reverse("courseware:home")).context["progress"]
    assert progress.answered_questions == 1
    assert progress.quick_checks_correct == 1


# Accounts ----------------------------------------------------------------------------------


def test_signup_logs_in_and_returns_to_next(client, course):
    response = client.post(
        reverse("signup") + "?next=/lessons/two-styles/",
        {"username": "newbie", "email": "newbie@example.org", "password1": "a-strong-pass-9876",
         "password2": "a-strong-pass-9876", "next": "/lessons/two-styles/"},
    )
    assert response.status_code == 302 and response["Location"] == "/lessons/two-styles/"
    assert client.get("/").context["user"].username == "newbie"


def test_signup_refuses_an_outside_next(client, course):
    response = client.post(
        reverse("signup"),
        {"username": "newbie", "email": "newbie@example.org", "password1": "a-strong-pass-9876",
         "password2": "a-strong-pass-9876", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("courseware:home")


def test_signup_errors_are_shown(client, course):
    response = client.post(
        reverse("signup"), {"username": "x", "password1": "abc", "password2": "abd"}
    )
    assert response.status_code == 200
    assert b"The two password fields" in response.content
    assert not get_user_model().objects.filter(username="x").exists()


def test_auth_pages_render(client, learner_client):
    for name in ("login", "signup"):
        assert Client().get(reverse(name)).status_code == 200
    assert learner_client.get(reverse("password_change")).status_code == 200


def test_password_change(learner_client, learner):
    response = learner_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "another-pass-5678",
         "new_password2": "another-pass-5678"},
    )
    assert response["Location"] == reverse("password_change_done")
    learner.refresh_from_db()
    assert learner.check_password("another-pass-5678")


def test_logout_is_post_only_and_ends_session(learner_client):
    response = learner_client.post(reverse("logout"))
    assert response.status_code in (200, 302)
    assert "_auth_user_id" not in learner_client.session


# Demo accounts -----------------------------------------------------------------------------


def test_demo_accounts_need_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only created when DEBUG is on"):
        call_command("create_demo_accounts", stdout=io.StringIO())
    assert not get_user_model().objects.exists()


def test_demo_accounts_are_created_once(db, settings):
    settings.DEBUG = True
    call_command("create_demo_accounts", stdout=io.StringIO())
    out = io.StringIO()
    call_command("create_demo_accounts", stdout=out)
    assert "already there" in out.getvalue()
    User = get_user_model()
    assert User.objects.count() == 2
    instructor = User.objects.get(username="instructor")
    assert instructor.check_password("critical-path")
    assert instructor.groups.filter(name=INSTRUCTORS).exists()
    assert instructor.has_perm("grading.grade_submission")
    assert not User.objects.get(username="learner").has_perm("grading.grade_submission")


# Roles -------------------------------------------------------------------------------------


def grader_by_permission(make_user):
    user = make_user("direct")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="grading", codename="grade_submission")
    )
    return user


def inactive_instructor(make_user):
    user = make_user("retired", instructor=True)
    user.is_active = False
    user.save()
    return user


def superuser(make_user):
    user = make_user("root")
    user.is_superuser = True
    user.save()
    return user


@pytest.mark.parametrize("make, expected", [
    (lambda make_user: AnonymousUser(), False),
    (lambda make_user: make_user("plain"), False),
    (lambda make_user: make_user("teacher", instructor=True), True),
    (grader_by_permission, True),
    (superuser, True),
    (inactive_instructor, False),
])
def test_is_instructor_agrees_with_has_perm(make_user, make, expected):
    user = make(make_user)
    assert is_instructor(user) is expected
    assert user.has_perm("grading.grade_submission") is expected


def test_is_instructor_asks_one_query(instructor, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert is_instructor(instructor)


def test_the_grading_link_shows_for_instructors_only(client, course, learner, instructor):
    link = f'href="{reverse("grading:queue")}">Grading</a>'
    client.force_login(learner)
    assert link not in client.get(reverse("courseware:home")).content.decode()
    client.force_login(instructor)
    assert link in client.get(reverse("courseware:home")).content.decode()


# Content read fresh, fragments cached by content version ------------------------------------------


def lesson_page(client, slug: str = "check-yourself", query: dict | None = None) -> str:
    response = client.get(reverse("courseware:lesson", args=[slug]), query or {})
    assert response.status_code == 200
    return response.content.decode()


def content_key(name: str) -> str:
    return f"content:{content_version()}:{name}"


def test_a_lesson_is_read_once_and_kept_under_the_content_version(
    client, course, django_assert_max_num_queries
):
    lesson = Lesson.objects.get(slug="two-styles")
    lesson_page(client, lesson.slug)
    kept_lesson, questions, checks, problems = cache.get(content_key(f"lesson:{lesson.slug}"))
    assert kept_lesson.pk == lesson.pk and kept_lesson.body_html == lesson.body_html
    assert [check.slug for check in checks] == [
        check.slug for check in lesson.quick_checks.all()
    ]
    # The kept body places a figure; the figure is drawn for this request's inputs.
    kept_lesson.body_html = "<p>The kept body.</p>\n<p>[[figure request-timeline]]</p>"
    cache.set(content_key(f"lesson:{lesson.slug}"), (kept_lesson, questions, checks, problems))
    page = lesson_page(client, lesson.slug, {"timeline-callee_ms": "900"})
    assert "The kept body." in page and "The user waits 940 ms" in page
    # Once drawn for these inputs, a visitor's page reads the version, the kept content, the
    # lesson's drills and the kept drawing: no query of lessons, questions or options.
    with django_assert_max_num_queries(4):
        again = lesson_page(client, lesson.slug, {"timeline-callee_ms": "900"})
    assert drawing(again) == drawing(page)


def drawing(page: str) -> str:
    return re.search(r'<figure class="lesson-figure".*?</figure>', page, re.S).group()


def test_a_figure_is_drawn_once_per_set_of_inputs(client, course, monkeypatch):
    lesson = Lesson.objects.get(slug="two-styles")
    url = reverse("courseware:figure", args=[lesson.slug, "request-timeline"])
    inputs = {"timeline-callee_ms": "700"}
    first = lesson_page(client, lesson.slug, inputs)
    fragment = client.get(url, inputs, headers={"HX-Request": "true"}).content.decode()
    assert "The user waits 740 ms" in first and "The user waits 740 ms" in fragment
    assert "<form" not in fragment  # only the drawing comes back to htmx

    def refuse(**kwargs):
        raise AssertionError("the figure was computed again")

    monkeypatch.setattr(lesson_figures, "request_timeline", refuse)
    assert drawing(lesson_page(client, lesson.slug, inputs)) == drawing(first)
    assert client.get(url, inputs, headers={"HX-Request": "true"}).content.decode() == fragment
    # New inputs are a new drawing.
    with pytest.raises(AssertionError, match="computed again"):
        lesson_page(client, lesson.slug, {"timeline-callee_ms": "650"})


def test_an_edit_is_shown_at_once_although_the_old_content_is_kept(client, course):
    lesson = Lesson.objects.get(slug="two-styles")
    lesson_page(client, lesson.slug)
    lesson.title = "A title nobody has seen"
    lesson.save()
    assert "A title nobody has seen" in lesson_page(client, lesson.slug)
    check = lesson.quick_checks.first()
    check.prompt = "A prompt nobody has seen?"
    check.save()
    assert "A prompt nobody has seen?" in lesson_page(client, lesson.slug)


def test_an_unknown_lesson_is_a_404_and_is_not_kept(client, course):
    assert client.get(reverse("courseware:lesson", args=["no-such-lesson"])).status_code == 404
    assert cache.get(content_key("lesson:no-such-lesson")) is None


def test_a_very_long_slug_is_a_404_on_every_cache(client, course):
    slug = "a" * 400
    assert client.get(reverse("courseware:lesson", args=[slug])).status_code == 404
    assert client.get(reverse("drills:detail", args=[slug])).status_code == 404
    # A drill's variant comes from the form: odd characters never reach the cache's query.
    response = client.post(reverse("drills:submit", args=["no-such-thing"]), {"variant": "\x00"})
    assert response.status_code in (400, 404)


def test_the_same_content_serves_anonymous_and_signed_in_readers(client, learner, course):
    anonymous = lesson_page(client)
    client.force_login(learner)
    signed_in = lesson_page(client)
    kept_lesson, *_ = cache.get(content_key("lesson:check-yourself"))
    assert kept_lesson.body_html in anonymous and kept_lesson.body_html in signed_in


def test_a_content_save_gives_a_new_version(course):
    before = content_version()
    question = Question.objects.filter(lesson__slug="check-yourself").first()
    assert question is not None
    question.save()
    assert content_version() != before
    middle = content_version()
    question.delete()
    assert content_version() != middle


def test_a_lost_version_is_replaced_by_a_new_one_never_an_old_one(db):
    before = content_version()
    cache.delete(versioning.CACHE_KEY)
    after = content_version()
    assert after and after != before
    assert content_version() == after


def test_in_development_a_template_edit_gives_new_fragments(db, settings, tmp_path):
    settings.DEBUG = True
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    template = tmp_path / "page.html"
    template.write_text("{% load cache %}")
    before = content_version()
    changed = template.stat().st_mtime_ns + 10**9
    os.utime(template, ns=(changed, changed))
    assert content_version() != before


def test_load_course_gives_a_new_version_only_when_it_changes_something(course):
    before = content_version()
    call_command("load_course", stdout=io.StringIO())
    assert content_version() == before
    # Queryset updates send no signal; the loader's own writes must still give a new version.
    Lesson.objects.filter(slug="two-styles").update(title="Edited elsewhere")
    ContentSource.objects.update(digest="from an older file")
    assert content_version() == before
    call_command("load_course", stdout=io.StringIO())
    assert content_version() != before


def test_an_edited_question_is_shown_at_once(learner_client, course):
    assert "A freshly written prompt." not in lesson_page(learner_client)
    question = Question.objects.filter(lesson__slug="check-yourself").first()
    assert question is not None
    question.prompt = "A freshly written prompt."
    question.save()
    assert "A freshly written prompt." in lesson_page(learner_client)


def admin_client(client, make_user):
    admin = make_user("admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def admin_form_data(client, url: str) -> dict:
    """The change form's current values, as the admin page would post them back."""
    form = client.get(url).context["adminform"].form
    return {
        name: value.pk if hasattr(value, "pk") else value
        for name, value in ((name, form[name].value()) for name in form.fields)
        if value is not None
    }


def test_a_lesson_edited_in_the_admin_is_shown_at_once(client, make_user, course):
    lesson = Lesson.objects.get(slug="two-styles")
    assert "Rewritten in the admin" not in lesson_page(client, lesson.slug)
    admin = admin_client(client, make_user)
    url = reverse("admin:courseware_lesson_change", args=[lesson.pk])
    data = admin_form_data(admin, url)
    data["body_markdown"] = "## Rewritten in the admin\n\nA new first paragraph."
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    page = lesson_page(client, lesson.slug)
    assert "A new first paragraph." in page
    # Its table of contents too, in both places it is shown.
    assert page.count('href="#rewritten-in-the-admin"') == 2


def test_a_question_edited_in_the_admin_is_shown_at_once(client, make_user, course):
    question = Question.objects.filter(lesson__slug="check-yourself").first()
    assert question is not None
    lesson_page(client)
    admin = admin_client(client, make_user)
    url = reverse("admin:courseware_question_change", args=[question.pk])
    data = admin_form_data(admin, url)
    data["prompt"] = "A prompt the author rewrote."
    for name in ("key_points", "rubric"):
        data[name] = json.dumps(getattr(question, name))
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    client.logout()
    assert "A prompt the author rewrote." in lesson_page(client)


def test_an_edited_quick_check_option_is_graded_at_once(learner_client, quick_check):
    slug = quick_check.lesson.slug
    lesson_page(learner_client, slug)
    option = quick_check.options.filter(correct=False).first()
    option.text = "An option reworded by its author"
    option.save()
    assert "An option reworded by its author" in lesson_page(learner_client, slug)


def test_one_learners_choice_never_shows_on_anothers_page(client, learner, other_learner,
                                                         quick_check):
    slug = quick_check.lesson.slug
    wrong = quick_check.options.filter(correct=False).first()
    client.force_login(learner)
    response = client.post(reverse("courseware:check_quick_check", args=[quick_check.slug]),
                           {"choice": wrong.key}, HTTP_HX_REQUEST="true")
    assert re.search(rf'value="{wrong.key}" id="[^"]+"\s+checked', response.content.decode())
    client.force_login(other_learner)
    card = lesson_page(client, slug).split(f'id="check-{quick_check.slug}"')[1].split("</form>")[0]
    assert not re.search(r"\bchecked\b", card)


def test_a_lesson_added_by_an_author_joins_the_contents_at_once(client, course):
    client.get(reverse("courseware:home"))
    lesson_page(client, "two-styles")
    first = Lesson.objects.in_order().first()
    assert first is not None
    Lesson.objects.create(module=first.module, slug="added-lesson", title="An added lesson",
                          order=99, body_markdown="Text.")
    assert "An added lesson" in client.get(reverse("courseware:home")).content.decode()
    assert "An added lesson" in lesson_page(client, "two-styles")
    assert client.get(reverse("courseware:lesson", args=["added-lesson"])).status_code == 200


def test_an_unknown_lesson_is_a_404(client, course):
    assert client.get(reverse("courseware:lesson", args=["no-such-lesson"])).status_code == 404


def test_a_repeat_visit_is_one_update(learner_client, learner, course, django_assert_num_queries):
    lesson = Lesson.objects.get(slug="two-styles")
    record_visit(learner=learner, lesson=lesson)
    first = LessonProgress.objects.get(learner=learner, lesson=lesson).last_visited_at
    with django_assert_num_queries(1):
        record_visit(learner=learner, lesson=lesson)
    progress = LessonProgress.objects.get(learner=learner, lesson=lesson)
    assert progress.last_visited_at > first
    assert LessonProgress.objects.filter(learner=learner).count() == 1
