"""Drill pages: catalogue, drill, submit (htmx and plain POST), history, review, own workflow."""

import html
import re
import uuid

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courseware.models import Course, Lesson, Module, Question
from courseware.versioning import content_version
from drills import content, grading, services, views
from drills.models import Attempt, AttemptAnswer, Drill, Interaction
from drills.views import OWN_DRAFT_KEY
from grading.models import Submission
from tests.matching import search

HTMX = {"HTTP_HX_REQUEST": "true"}

# key, caller, callee, critical, after, answer, question
SHOP = [
    ("orders-payments", "Orders", "Payments", True, None, "sync", 1),
    ("payments-processor", "Payments", "Processor", None, "orders-payments", "sync", 1),
    ("orders-stock", "Orders", "Stock", True, None, "async", 3),
    ("orders-fraud", "Orders", "Fraud", True, None, "either", 1),
    ("orders-email", "Orders", "E-mail", True, None, "async", 3),
]
RIGHT = {"orders-payments": "sync", "payments-processor": "sync", "orders-stock": "async",
         "orders-fraud": "async", "orders-email": "async"}


@pytest.fixture
def lesson(db):
    course = Course.objects.create(slug="course", title="Course")
    module = Module.objects.create(course=course, slug="module", title="Module", order=1)
    return Lesson.objects.create(module=module, slug="worked-example", title="Worked example",
                                 order=1, body_markdown="The lesson text.")


@pytest.fixture
def drill(lesson):
    drill = Drill.objects.create(
        slug="shop", title="Buy a thing", domain="Retail", difficulty=1, order=1, lesson=lesson,
        summary="A shopper buys a thing.", scenario="The shopper presses Buy.",
        entry="Web → Orders", debrief="Only the payment is waited for.",
    )
    saved: dict[str | None, Interaction] = {}
    for order, (key, caller, callee, critical, after, answer, question) in enumerate(SHOP, 1):
        saved[key] = Interaction.objects.create(
            drill=drill, key=key, order=order, caller=caller, callee=callee,
            exchange=f"{key} exchange", on_critical_path=bool(critical), after=saved.get(after),
            answer=answer, condition="Sync when fraud must block." if answer == "either" else "",
            rationale=f"Rationale of {key}.", deciding_question=question,
            wrong_answer_why=f"Why the other choice hurts for {key}.",
        )
    return drill


@pytest.fixture
def other_drill(db):
    drill = Drill.objects.create(slug="sign-up", title="Sign up", domain="SaaS", difficulty=3,
                                 order=2, summary="Join.", scenario="A user joins.")
    for order, answer in enumerate(["sync", "async", "async", "async"], 1):
        Interaction.objects.create(
            drill=drill, key=f"step-{order}", order=order, caller="Accounts", callee=f"S{order}",
            exchange="x", answer=answer, rationale="r", deciding_question=1 if answer == "sync"
            else 4, wrong_answer_why="w",
        )
    return drill


QUESTION = {key: question for key, *_, question in SHOP}


def post_data(choices=None, token=None, reasons=None, **extra) -> dict:
    """A drill form with a style per interaction and, unless told otherwise, the key's reason."""
    data = {"token": str(token or uuid.uuid4())}
    for key, choice in (RIGHT if choices is None else choices).items():
        data[f"choice-{key}"] = choice
        if key in QUESTION:
            data[f"reason-{key}"] = str((reasons or {}).get(key, QUESTION[key]))
    data.update(extra)
    return data


def submit_url(drill) -> str:
    return reverse("drills:submit", args=[drill.slug])


# Catalogue -------------------------------------------------------------------------------------


def test_catalogue_lists_drills_for_anyone(client, drill, other_drill):
    response = client.get(reverse("drills:catalogue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Buy a thing" in html and "Sign up" in html
    assert drill.get_absolute_url() in html
    assert "5 interactions" in html
    assert "Log in</a> to save your attempts" in html
    assert reverse("drills:own_workflow") in html


def test_catalogue_shows_status_per_drill(learner_client, learner, drill, other_drill):
    Attempt.objects.create(drill=drill, learner=learner, score=3, total=5,
                           critical_sync_hops=3, key_critical_sync_hops=2)
    Attempt.objects.create(drill=drill, learner=learner, score=4, total=5,
                           critical_sync_hops=2, key_critical_sync_hops=2)
    html = learner_client.get(reverse("drills:catalogue")).content.decode()
    assert "Best 4/5 · 2 attempts" in html
    assert "Not started" in html  # the other drill
    assert "You have tried <strong>1</strong> of 2 drills" in html


def test_catalogue_filters_by_difficulty(client, drill, other_drill):
    html = client.get(reverse("drills:catalogue"), {"difficulty": "3"}).content.decode()
    assert "Sign up" in html and "Buy a thing" not in html
    assert 'aria-current="page" href="?difficulty=3"' in html


def test_catalogue_ignores_an_unknown_difficulty(client, drill, other_drill):
    response = client.get(reverse("drills:catalogue"), {"difficulty": "hard"})
    assert response.status_code == 200
    assert "Sign up" in response.content.decode() and "Buy a thing" in response.content.decode()


def test_catalogue_filter_over_htmx_returns_only_the_list(client, drill, other_drill):
    response = client.get(reverse("drills:catalogue"), {"difficulty": "1"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="drill-list"')
    assert "<html" not in html and "Buy a thing" in html and "Sign up" not in html


# Drill page ------------------------------------------------------------------------------------


def test_drill_page_has_one_fieldset_of_native_radios_per_interaction(client, drill):
    response = client.get(drill.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<fieldset class="interaction-row') == 5
    assert html.count('type="radio"') == 10
    assert 'name="choice-orders-payments"' in html and 'name="why-orders-payments"' in html
    assert 'maxlength="300"' in html
    assert 'name="token"' in html
    assert "Follows step 1" in html  # the processor hop follows the payments hop
    assert "this attempt won't be saved" in html
    assert reverse("courseware:lesson", args=["worked-example"]) in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_every_visit_gets_a_fresh_token(client, drill):
    first = client.get(drill.get_absolute_url()).context["form"]["token"].value()
    second = client.get(drill.get_absolute_url()).context["form"]["token"].value()
    assert first != second


def test_unknown_drill_is_a_styled_404(client, db):
    response = client.get(reverse("drills:detail", args=["no-such-drill"]))
    assert response.status_code == 404


def test_drill_page_refuses_post(client, drill):
    assert client.post(drill.get_absolute_url()).status_code == 405


# Submitting ------------------------------------------------------------------------------------


def test_anonymous_plain_post_gets_feedback_and_is_not_saved(client, drill):
    choices = {**RIGHT, "orders-stock": "sync", "orders-email": "sync"}
    response = client.post(submit_url(drill), post_data(choices))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "You scored 11 of 15 points." in html
    assert "This attempt was not saved." in html
    assert "Rationale of orders-stock." in html
    assert "Why the other choice hurts for orders-stock." in html
    assert "Settled by question 3" in html
    assert "either is accepted here" in html and "Sync when fraud must block." in html
    assert Attempt.objects.count() == 0


def test_anonymous_htmx_post_returns_only_the_feedback_fragment(client, drill):
    response = client.post(submit_url(drill), post_data(), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<nav" not in html
    assert 'id="result-heading"' in html and "Full marks: 15 of 15 points." in html
    assert 'id="drill-record"' not in html  # nothing to update for a visitor
    assert Attempt.objects.count() == 0


def test_learner_plain_post_stores_the_attempt_and_redirects_to_it(learner_client, learner,
                                                                   drill):
    choices = {**RIGHT, "orders-stock": "sync", "orders-email": "sync"}
    data = post_data(choices, **{"why-orders-stock": "Stock must be certain"})
    response = learner_client.post(submit_url(drill), data)
    attempt = Attempt.objects.get()
    assert response.status_code == 302 and response["Location"] == attempt.get_absolute_url()
    assert (attempt.learner, attempt.drill) == (learner, drill)
    assert (attempt.score, attempt.total) == (11, 15)
    assert (attempt.critical_sync_hops, attempt.key_critical_sync_hops) == (4, 2)
    assert str(attempt.token) == data["token"]
    answers = {a.interaction.key: a for a in attempt.answers.select_related("interaction")}
    assert answers["orders-stock"].choice == "sync" and not answers["orders-stock"].correct
    assert answers["orders-stock"].justification == "Stock must be certain"
    assert answers["orders-fraud"].correct

    page = learner_client.get(response["Location"])
    html = page.content.decode()
    assert "You scored 11 of 15 points." in html and "Saved to" in html
    assert 'hop-count">4<' in html
    # Stock and e-mail would each save one hop; the earlier one in the workflow is named.
    assert 'make <span class="text-nowrap">Orders → Stock</span> async first' in html
    assert "from 4 to 3 sync hops" in html
    simulator = reverse("simulator:calculator") + "?hop-TOTAL_FORMS=4&amp;"
    assert simulator in html and "Simulate your design's 4 sync hops" in html


def test_learner_htmx_post_stores_and_returns_fragment_with_record(learner_client, drill):
    response = learner_client.post(submit_url(drill), post_data(), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "Full marks: 15 of 15 points." in html
    assert 'id="drill-record" hx-swap-oob="true"' in html and "Best score <strong>15/15" in html
    assert Attempt.objects.count() == 1
    assert reverse("simulator:calculator") + "?hop-TOTAL_FORMS=2&amp;" in html
    assert "Simulate the key" not in html  # the same design as the key's


def test_double_submit_with_the_same_token_stores_one_attempt(learner_client, drill):
    data = post_data()
    first = learner_client.post(submit_url(drill), data)
    second = learner_client.post(submit_url(drill), data)
    assert Attempt.objects.count() == 1 and AttemptAnswer.objects.count() == 5
    assert first["Location"] == second["Location"]
    again = learner_client.post(submit_url(drill), data, **HTMX)
    assert again.status_code == 200 and "Full marks: 15 of 15 points." in again.content.decode()
    assert Attempt.objects.count() == 1


def test_a_repeated_token_shows_what_was_stored_first(learner_client, drill):
    token = uuid.uuid4()
    learner_client.post(submit_url(drill), post_data(token=token))
    changed = {**RIGHT, "orders-email": "sync"}
    response = learner_client.post(submit_url(drill), post_data(changed, token=token), **HTMX)
    assert "Full marks: 15 of 15 points." in response.content.decode()
    assert Attempt.objects.get().score == 15


def test_a_token_of_another_learner_is_refused(client, make_user, drill):
    data = post_data()
    client.force_login(make_user("first"))
    client.post(submit_url(drill), data)
    client.force_login(make_user("second"))
    response = client.post(submit_url(drill), data)
    assert response.status_code == 400
    assert "already used" in response.content.decode()
    assert Attempt.objects.count() == 1


def test_retries_are_separate_attempts(learner_client, drill):
    learner_client.post(submit_url(drill), post_data({**RIGHT, "orders-email": "sync"}))
    learner_client.post(submit_url(drill), post_data())
    assert sorted(Attempt.objects.values_list("score", flat=True)) == [13, 15]


@pytest.mark.parametrize("htmx", [False, True])
def test_unanswered_interactions_are_named_and_nothing_is_stored(learner_client, drill, htmx):
    choices = {k: v for k, v in RIGHT.items() if k not in {"orders-stock", "orders-email"}}
    response = learner_client.post(submit_url(drill), post_data(choices), **(HTMX if htmx else {}))
    assert response.status_code == (200 if htmx else 422)
    html = response.content.decode()
    assert "2 interactions still need an answer" in html
    assert '<a href="#row-orders-stock">Orders → Stock</a>' in html
    assert "Choose sync or async for 5. Orders → E-mail." in html
    assert ("<html" in html) is not htmx
    # What the learner had chosen is kept.
    assert 'value="sync" checked' in html
    assert Attempt.objects.count() == 0


def test_a_justification_over_300_characters_is_a_form_error(learner_client, drill):
    data = post_data(**{"why-orders-email": "x" * 301})
    response = learner_client.post(submit_url(drill), data)
    assert response.status_code == 422
    assert "Keep the reason to 300 characters (it has 301)." in response.content.decode()
    assert Attempt.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (post_data(**{"choice-ghost": "sync"}), "not part of this drill ('ghost')"),
        (post_data(**{"why-ghost": "hello"}), "not part of this drill ('ghost')"),
        (post_data({**RIGHT, "orders-email": "maybe"}), "'maybe' is not a choice"),
        (post_data({**RIGHT, "orders-email": "either"}), "'either' is not a choice"),
        ({k: v for k, v in post_data().items() if k != "token"}, "missing its one-time token"),
        (post_data(token="not-a-uuid"), "token is damaged"),
    ],
)
def test_a_tampered_form_is_a_400_with_the_reason(learner_client, drill, data, reason):
    response = learner_client.post(submit_url(drill), data)
    assert response.status_code == 400
    assert reason in html.unescape(response.content.decode())
    assert "<html" in response.content.decode()
    assert Attempt.objects.count() == 0


def test_a_tampered_htmx_form_gets_a_plain_text_reason(learner_client, drill):
    response = learner_client.post(submit_url(drill), post_data(**{"choice-ghost": "sync"}),
                                   **HTMX)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "not part of this drill" in response.content.decode()
    assert Attempt.objects.count() == 0


def test_two_choices_for_one_interaction_are_refused(learner_client, drill):
    data = post_data()
    data["choice-orders-email"] = ["sync", "async"]
    response = learner_client.post(submit_url(drill), data)
    assert response.status_code == 400 and "more than one choice" in response.content.decode()


def test_an_interaction_of_another_drill_is_tampering(learner_client, drill, other_drill):
    response = learner_client.post(submit_url(drill), post_data(**{"choice-step-1": "sync"}))
    assert response.status_code == 400


def test_a_drill_without_interactions_cannot_be_answered(client, db):
    empty = Drill.objects.create(slug="empty", title="Empty", domain="X", summary="s",
                                 scenario="s")
    assert "no interactions yet" in client.get(empty.get_absolute_url()).content.decode()
    response = client.post(submit_url(empty), {"token": str(uuid.uuid4())})
    assert response.status_code == 400 and not Attempt.objects.exists()


def test_submit_refuses_get(client, drill):
    assert client.get(submit_url(drill)).status_code == 405


def test_a_reviewed_drill_hands_the_attempt_in_for_grading(learner_client, drill):
    drill.review_by_instructor = True
    drill.save()
    learner_client.post(submit_url(drill), post_data(**{"why-orders-email": "Can wait"}))
    submission = Submission.objects.get()
    assert submission.attempt == Attempt.objects.get()
    assert submission.status == Submission.Status.AWAITING


def test_an_unreviewed_drill_makes_no_submission(learner_client, drill):
    learner_client.post(submit_url(drill), post_data())
    assert not Submission.objects.exists()


# History and review ----------------------------------------------------------------------------


def make_attempt(drill, learner, score=15, variant="") -> Attempt:
    attempt = Attempt.objects.create(drill=drill, learner=learner, score=score, total=15,
                                     critical_sync_hops=2, key_critical_sync_hops=2,
                                     variant=variant)
    for interaction in drill.interactions.all():
        choice = RIGHT[interaction.key]
        AttemptAnswer.objects.create(attempt=attempt, interaction=interaction, choice=choice,
                                     correct=True, style_correct=True,
                                     reason=QUESTION[interaction.key], reason_correct=True)
    return attempt


def test_history_needs_a_login(client, drill):
    url = reverse("drills:history", args=[drill.slug])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_history_lists_only_the_learners_own_attempts(client, learner, other_learner, drill):
    mine = [make_attempt(drill, learner, 9), make_attempt(drill, learner, 15)]
    theirs = make_attempt(drill, other_learner, 4)
    client.force_login(learner)
    html = client.get(reverse("drills:history", args=[drill.slug])).content.decode()
    assert "Best score <strong>15/15</strong> from 2 attempts" in html
    for attempt in mine:
        assert attempt.get_absolute_url() in html
    assert theirs.get_absolute_url() not in html


def test_history_of_a_drill_not_tried_yet(learner_client, drill):
    html = learner_client.get(reverse("drills:history", args=[drill.slug])).content.decode()
    assert "You have not tried this drill yet." in html


def test_review_anonymous_then_wrong_user_then_owner(client, learner, other_learner, drill):
    attempt = make_attempt(drill, learner)
    url = attempt.get_absolute_url()
    assert client.get(url).status_code == 302
    client.force_login(other_learner)
    assert client.get(url).status_code == 404
    client.force_login(learner)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "attempt 1" in html and "Full marks: 15 of 15 points." in html
    assert "Rationale of orders-payments." in html


def test_instructors_may_review_any_attempt(client, learner, instructor, drill):
    attempt = make_attempt(drill, learner)
    client.force_login(instructor)
    response = client.get(attempt.get_absolute_url())
    assert response.status_code == 200
    assert f"Attempt by {learner.username}" in response.content.decode()


def test_review_under_the_wrong_drill_is_404(learner_client, learner, drill, other_drill):
    attempt = make_attempt(drill, learner)
    url = reverse("drills:attempt", args=[other_drill.slug, attempt.pk])
    assert learner_client.get(url).status_code == 404


def test_review_says_when_the_key_has_changed(learner_client, learner, drill):
    attempt = make_attempt(drill, learner)
    Interaction.objects.filter(key="orders-email").update(answer="sync", deciding_question=1)
    html = learner_client.get(attempt.get_absolute_url()).content.decode()
    assert "The answer key of this drill has changed" in html


# Lesson pages ----------------------------------------------------------------------------------


def test_lesson_page_shows_a_practise_card_for_its_drills(client, drill, lesson):
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "Practise this" in html and drill.get_absolute_url() in html


def test_lesson_without_drills_has_no_practise_card(client, drill, lesson):
    drill.lesson = None
    drill.save()
    assert "Practise this" not in client.get(lesson.get_absolute_url()).content.decode()


def test_lesson_card_shows_the_learners_best(learner_client, learner, drill, lesson):
    make_attempt(drill, learner, 4)
    assert "Best 4/15" in learner_client.get(lesson.get_absolute_url()).content.decode()


def test_lesson_links_to_the_own_workflow_builder(client, own_question, lesson):
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert f'href="{reverse("drills:own_workflow")}"' in html


# Own workflow ----------------------------------------------------------------------------------


@pytest.fixture
def own_question(lesson):
    return Question.objects.create(lesson=lesson, slug="own-workflow", kind="workflow",
                                   prompt="Take a workflow you know.", model_answer_markdown="-")


OWN_URL = "/drills/own/"
HAND_IN_URL = "/drills/own/hand-in/"
UPDATE_URL = "/drills/own/rows/"
ADD_URL = "/drills/own/rows/add/"
PREVIEW_URL = "/drills/own/preview/"


def row(caller="Orders", callee="Payments", style="sync", why="The user waits", exchange="",
        entry=False, after="") -> dict:
    return {"caller": caller, "callee": callee, "exchange": exchange, "style": style,
            "justification": why, "entry": entry, "after": after}


def own_data(rows, name="Check in", proposal="", **extra) -> dict:
    data = {"name": name, "proposal": proposal, "token": str(uuid.uuid4()),
            "rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0"}
    for index, values in enumerate(rows):
        for key, value in values.items():
            if key == "entry":
                if value:
                    data[f"rows-{index}-{key}"] = "on"
            else:
                data[f"rows-{index}-{key}"] = value
    data.update(extra)
    return data


def test_own_workflow_url_is_the_named_one():
    assert reverse("drills:own_workflow") == OWN_URL


def test_own_workflow_page_starts_with_one_blank_row(client, own_question):
    response = client.get(OWN_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="rows-0-caller"' in html and 'name="rows-1-caller"' not in html
    assert f'formaction="{ADD_URL}#row-1"' in html
    assert f'name="rows-0-DELETE" value="on" formaction="{UPDATE_URL}"' in html
    assert "0</span> sync hops on the critical path" in html


def test_add_row_without_javascript_rerenders_with_one_more_row(client, own_question):
    data = own_data([row()])
    response = client.post(ADD_URL, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and 'id="row-1"' in page
    assert 'value="Orders"' in page and 'name="rows-1-caller"' in page
    new_box = search(r'<input [^>]*name="rows-1-caller"[^>]*>', page).group()
    assert 'autofocus' in new_box and 'maxlength="80"' in new_box and 'value=' not in new_box
    assert 'name="rows-TOTAL_FORMS" value="2"' in page
    # The next "Add" brings the learner back to the row it adds.
    assert f'formaction="{ADD_URL}#row-2"' in page
    assert not Submission.objects.exists()


def test_add_row_over_htmx_returns_only_the_new_row(client, own_question):
    response = client.post(ADD_URL, own_data([row(), row()]), **HTMX)
    page = response.content.decode()
    assert response["HX-Retarget"] == "#own-rows" and response["HX-Reswap"] == "beforeend"
    assert page.lstrip().startswith('<li id="row-2">')
    assert "<html" not in page and "<form" not in page and "__prefix__" not in page
    assert 'name="rows-2-caller"' in page and 'name="rows-1-caller"' not in page
    assert "Interaction 3" in page and 'name="rows-2-DELETE"' in page
    management = search(r'<div id="own-management" hx-swap-oob="true">.*?</div>', page, re.S)
    assert 'name="rows-TOTAL_FORMS" value="3"' in management.group()
    assert '3 of at most 20' in page and f'formaction="{ADD_URL}#row-3"' in page


def test_add_row_over_htmx_at_twenty_says_so(client, own_question):
    response = client.post(ADD_URL, own_data([row()] * 20), **HTMX)
    assert response["HX-Retarget"] == "#own-notice"
    assert "at most 20 interactions" in response.content.decode()
    assert 'name="rows-20-caller"' not in response.content.decode()


def test_remove_row_drops_that_row_only(client, own_question):
    data = own_data([row(caller="A"), row(caller="B"), row(caller="C")],
                    **{"rows-1-DELETE": "on"})
    page = client.post(UPDATE_URL, data).content.decode()
    assert 'value="A"' in page and 'value="C"' in page and 'value="B"' not in page
    assert 'name="rows-2-caller"' not in page
    assert 'name="rows-TOTAL_FORMS" value="2"' in page
    # The cursor goes to the row that took the removed one's place.
    assert 'autofocus' in search(r'<input [^>]*name="rows-1-caller"[^>]*>', page).group()


def test_remove_row_over_htmx_returns_the_builder_fragment(client, own_question):
    data = own_data([row(caller="A"), row(caller="B")], **{"rows-0-DELETE": "on"})
    page = client.post(UPDATE_URL, data, **HTMX).content.decode()
    assert page.lstrip().startswith('<form id="own-form"') and "<html" not in page
    assert 'value="B"' in page and 'value="A"' not in page


@pytest.mark.parametrize("name", ["rows-7-DELETE", "rows--1-DELETE", "rows-x-DELETE"])
def test_removing_a_row_that_does_not_exist_removes_nothing(client, own_question, name):
    response = client.post(UPDATE_URL, own_data([row(caller="Kept")], **{name: "on"}))
    assert response.status_code == 200 and 'value="Kept"' in response.content.decode()


@pytest.mark.parametrize("total", ["x", "-3", "", "100000"])
def test_a_damaged_row_count_is_not_a_500(client, own_question, total):
    for url in (ADD_URL, UPDATE_URL, PREVIEW_URL, HAND_IN_URL):
        response = client.post(url, own_data([row()], **{"rows-TOTAL_FORMS": total}))
        assert response.status_code in (200, 422), (url, response.status_code)
    assert not Submission.objects.exists()


def test_a_damaged_token_is_a_400_that_says_so(learner_client, own_question):
    response = learner_client.post(HAND_IN_URL, own_data([row()], token="not-a-uuid"))
    assert response.status_code == 400
    assert "token is damaged" in response.content.decode()
    assert not Submission.objects.exists()


def test_enter_in_a_text_box_updates_rather_than_hands_in(client, own_question):
    page = client.get(OWN_URL).content.decode()
    first_button = search(r'<button [^>]*type="submit"[^>]*>', page).group()
    assert f'formaction="{UPDATE_URL}"' in first_button and "name=" not in first_button


def test_add_row_stops_at_twenty(client, own_question):
    html = client.post(ADD_URL, own_data([row()] * 20)).content.decode()
    assert "at most 20 interactions" in html and 'name="rows-20-caller"' not in html


def test_preview_returns_the_hop_count_and_the_drawing_only(client, own_question):
    rows = [row(), row(callee="Pay"), row(callee="Stock"), row(style="async")]
    response = client.post(PREVIEW_URL, own_data(rows), **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="hop-counter hop-counter-over">')
    assert "<form" not in html and "<html" not in html
    assert '<div id="own-design" hx-swap-oob="innerHTML">' in html
    assert "3</span> sync hops on the critical path" in html and "more than 2" in html


def test_own_workflow_lands_in_the_queue_awaiting_grading(learner_client, learner, own_question):
    rows = [row(caller="Web", callee="Orders", exchange="Place the order", entry=True),
            row(),
            row(caller="Orders", callee="E-mail", style="async", why="Can wait")]
    response = learner_client.post(HAND_IN_URL, own_data(rows, name="Checkout"))
    assert response.status_code == 302
    assert response["Location"] == f"{OWN_URL}?handed_in={Submission.objects.get().pk}"
    submission = Submission.objects.get()
    assert submission.learner == learner and submission.question == own_question
    assert submission.status == Submission.Status.AWAITING
    assert submission.payload["workflow"] == "Checkout"
    assert submission.payload["critical_sync_hops"] == 1
    assert submission.payload["rows"][0] == {
        "caller": "Web", "callee": "Orders", "exchange": "Place the order", "style": "sync",
        "justification": "The user waits", "entry": True, "after": None,
    }
    assert "1. Web → Orders (Place the order): SYNC, the user's own request, not counted" \
        in submission.answer
    assert "2. Orders → Payments: SYNC, on the critical path" in submission.answer
    assert "Sync hops on the critical path: 1" in submission.answer
    assert Submission.objects.awaiting_grading().filter(pk=submission.pk).exists()
    page = learner_client.get(response["Location"]).content.decode()
    assert "Your workflow was handed in" in page and "Checkout" in page


def test_own_workflow_over_htmx_redirects_the_client(learner_client, own_question):
    response = learner_client.post(HAND_IN_URL, own_data([row()]), **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"].startswith(OWN_URL)
    assert Submission.objects.count() == 1


def test_own_workflow_double_submit_makes_one_submission(learner_client, own_question):
    data = own_data([row()])
    learner_client.post(HAND_IN_URL, data)
    learner_client.post(HAND_IN_URL, data)
    assert Submission.objects.count() == 1


def test_own_workflow_with_no_rows_is_a_form_error(learner_client, own_question):
    response = learner_client.post(HAND_IN_URL, own_data([]))
    assert response.status_code == 422
    assert "Add at least one interaction to your workflow." in response.content.decode()
    assert not Submission.objects.exists()


def test_blank_rows_do_not_count_as_interactions(learner_client, own_question):
    blank = row(caller="", callee="", style="", why="")
    response = learner_client.post(HAND_IN_URL, own_data([blank, blank]))
    assert response.status_code == 422
    assert "Add at least one interaction" in response.content.decode()


def test_own_workflow_with_more_than_twenty_rows_is_a_form_error(learner_client, own_question):
    rows = [row(callee=f"S{i}") for i in range(21)]
    response = learner_client.post(HAND_IN_URL, own_data(rows))
    assert response.status_code == 422
    assert "at most 20 interactions" in response.content.decode()
    assert not Submission.objects.exists()


def test_own_workflow_rows_need_a_reason_of_one_line(learner_client, own_question):
    rows = [row(why=""), row(why="y" * 301)]
    html = learner_client.post(HAND_IN_URL, own_data(rows)).content.decode()
    assert "Give a one-line reason." in html
    assert "Keep the reason to 300 characters (it has 301)." in html
    assert not Submission.objects.exists()


def test_more_than_two_hops_needs_a_proposal(learner_client, own_question):
    rows = [row(callee=name) for name in ("A", "B", "C")]
    response = learner_client.post(HAND_IN_URL, own_data(rows))
    assert response.status_code == 422
    assert "Your workflow has 3 sync hops on the critical path." in response.content.decode()
    assert not Submission.objects.exists()
    proposal = "Make Web → C async: the user does not need it."
    learner_client.post(HAND_IN_URL, own_data(rows, proposal=proposal))
    submission = Submission.objects.get()
    assert submission.payload["proposal"] == proposal
    assert "(more than 2)" in submission.answer and proposal in submission.answer


def test_anonymous_hand_in_asks_to_log_in_and_keeps_the_rows(client, learner, own_question):
    response = client.post(HAND_IN_URL, own_data([row(caller="Kiosk")], name="Kiosk flow"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.session[OWN_DRAFT_KEY]["name"] == "Kiosk flow"
    assert not Submission.objects.exists()
    client.force_login(learner)
    html = client.get(OWN_URL).content.decode()
    assert 'value="Kiosk flow"' in html and 'value="Kiosk"' in html
    client.post(HAND_IN_URL, own_data([row(caller="Kiosk")], name="Kiosk flow"))
    assert Submission.objects.count() == 1
    assert OWN_DRAFT_KEY not in client.session


def test_own_workflow_without_its_question_says_so_and_keeps_the_rows(learner_client, db):
    page = learner_client.get(OWN_URL)
    assert page.status_code == 200
    assert "handing it in for grading is not available yet" in page.content.decode()
    response = learner_client.post(HAND_IN_URL, own_data([row(caller="Kept")]))
    assert response.status_code == 503
    html = response.content.decode()
    assert "not available yet" in html and 'value="Kept"' in html
    assert not Submission.objects.exists()


def test_own_workflow_lists_what_the_learner_handed_in(learner_client, learner, other_learner,
                                                      own_question):
    Submission.objects.create(learner=other_learner, question=own_question, answer="theirs",
                              payload={"workflow": "Their flow"})
    Submission.objects.create(learner=learner, question=own_question, answer="mine",
                              payload={"workflow": "My flow"})
    html = learner_client.get(OWN_URL).content.decode()
    assert "My flow" in html and "Their flow" not in html


# Admin and query counts ------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("boss")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def test_drills_are_editable_in_the_admin_with_their_interactions(admin_client, drill):
    response = admin_client.get(reverse("admin:drills_drill_change", args=[drill.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="interactions-0-rationale"' in html and 'name="review_by_instructor"' in html
    assert admin_client.get(reverse("admin:drills_drill_changelist")).status_code == 200


def test_attempts_are_read_only_in_the_admin(admin_client, learner, drill):
    attempt = make_attempt(drill, learner)
    response = admin_client.get(reverse("admin:drills_attempt_change", args=[attempt.pk]))
    assert response.status_code == 200
    assert 'name="score"' not in response.content.decode()
    assert admin_client.get(reverse("admin:drills_attempt_add")).status_code == 403


def test_instructors_may_edit_drills(client, instructor):
    assert instructor.has_perm("drills.change_drill")
    assert instructor.has_perm("drills.change_interaction")
    assert not instructor.has_perm("drills.change_attempt")


def count_queries(client, url) -> int:
    client.get(url)  # Warm up: the first request of a session may write to it.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_catalogue_queries_do_not_grow_with_drills(learner_client, learner, drill, other_drill):
    make_attempt(drill, learner)
    before = count_queries(learner_client, reverse("drills:catalogue"))
    for n in range(3):
        extra = Drill.objects.create(slug=f"extra-{n}", title=f"Extra {n}", domain="X", order=9 + n,
                                     summary="s", scenario="s")
        make_attempt(extra, learner)
    assert count_queries(learner_client, reverse("drills:catalogue")) == before


def test_drill_page_queries_do_not_grow_with_interactions(learner_client, learner, drill):
    make_attempt(drill, learner)
    before = count_queries(learner_client, drill.get_absolute_url())
    for n in range(3):
        Interaction.objects.create(drill=drill, key=f"more-{n}", order=10 + n, caller="Orders",
                                   callee=f"More {n}", exchange="x", answer="async",
                                   rationale="r", deciding_question=4, wrong_answer_why="w",
                                   after=drill.interactions.get(key="orders-payments"))
    assert count_queries(learner_client, drill.get_absolute_url()) == before


def test_an_htmx_submission_reads_no_permissions(learner_client, learner, drill):
    make_attempt(drill, learner)
    learner_client.post(submit_url(drill), post_data(), **HTMX)
    with CaptureQueriesContext(connection) as queries:
        response = learner_client.post(submit_url(drill), post_data(), **HTMX)
    assert response.status_code == 200
    sql = [query["sql"] for query in queries]
    # The content version, the drill and its interactions, session and user, the interactions
    # still there, the next drill, the learner's record and the cached feedback rows.
    assert not [q for q in sql if "auth_permission" in q]
    assert len([q for q in sql if q.startswith("INSERT")]) == 2
    assert len([q for q in sql if q.startswith("SELECT")]) == 9


def test_the_record_after_a_submission_shows_the_best_and_the_count(learner_client, learner,
                                                                    drill):
    make_attempt(drill, learner, score=5)
    response = learner_client.post(submit_url(drill), post_data(ALL_ASYNC), **HTMX)
    record = html.unescape(response.content.decode()).split('id="drill-record"')[1]
    assert "Best score <strong>11/15</strong>" in record
    assert "2 attempts so far" in record


# Hop counts at the edges, badges, kept anonymous answers ---------------------------------------


ALL_ASYNC = {key: "async" for key in RIGHT}


def result_html(client, drill, choices) -> str:
    response = client.post(submit_url(drill), post_data(choices), **HTMX)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_result_with_no_sync_hop_offers_no_zero_hop_simulation(client, drill):
    page = result_html(client, drill, ALL_ASYNC)
    assert "no downstream service can fail or slow down the user's request" in page
    assert "See 0 hops" not in page and "hops=0" not in page
    # Only the key's design, drawn beside it, has hops and so a rule of thumb to compare.
    assert page.count("rule of thumb") == 1
    # The key keeps Orders → Payments → Processor sync, so its figure is still given.
    assert "The key's 2 hops would fail 1.99%" in page


def test_the_exact_failure_rate_is_shown_with_enough_digits_beside_the_rule_of_thumb(client,
                                                                                    drill):
    page = result_html(client, drill, {**RIGHT, "orders-fraud": "sync"})
    assert "3 hops would fail 2.97% of requests (the rule of thumb N × 1% says 3%)" in page
    assert "3.0%" not in page
    assert "The key's 2 hops would fail 1.99%" in page


def test_advice_names_every_step_down_to_the_limit(client, drill):
    page = result_html(client, drill, {key: "sync" for key in RIGHT})
    assert "That takes your critical path from 5 to 4 sync hops" in page
    assert "Still more than 2 after that, so next make" in page
    assert "async (4 to 3), then" in page and "async (3 to 2)." in page


def test_a_call_settled_by_the_off_path_rule_says_so(client, drill):
    processor = Interaction.objects.get(key="payments-processor")
    processor.deciding_question = 6
    processor.save()
    page = result_html(client, drill, RIGHT)
    assert "Settled by the off-path rule:</strong> No user waits for this call." in page
    assert "Settled by question 6" not in page


def test_the_sidebar_words_the_questions_as_lesson_5_does_and_names_the_off_path_rule(client,
                                                                                      drill):
    from drills import grading

    page = html.unescape(client.get(drill.get_absolute_url()).content.decode())
    for question in grading.QUESTIONS.values():
        assert question.text in page
    assert grading.OFF_PATH_TITLE + "." in page and grading.OFF_PATH_RULE.text in page


def test_a_result_with_one_sync_hop_says_the_rule_is_exact_there(client, drill):
    choices = {**ALL_ASYNC, "orders-stock": "sync"}
    page = result_html(client, drill, choices)
    assert "your one hop would fail" in page and "rule of thumb N × 1% is exact" in page
    assert "?hop-TOTAL_FORMS=1&" in page and "Simulate your design's 1 sync hop<" in page
    # The learner's own choices go to the outage lab, to be broken there.
    design = "%2C".join(f"{key}%3A{choice[0]}" for key, choice in choices.items())
    assert "Break your design in the outage lab" in page
    assert f"/simulator/outage/?workflow=shop&design={design}" in page


def test_critical_path_badge_is_conditional_on_the_choice(client, drill):
    page = html.unescape(client.get(drill.get_absolute_url()).content.decode())
    assert "if you make it sync, the user waits for it" in page
    assert ">On the critical path</span> made while" not in page


def test_anonymous_answers_are_waiting_after_logging_in(client, learner, drill):
    choices = {**RIGHT, "orders-fraud": "sync"}
    client.post(submit_url(drill), post_data(choices, **{"why-orders-fraud": "Block fraud"}))
    assert not Attempt.objects.exists()
    client.force_login(learner)
    page = client.get(drill.get_absolute_url()).content.decode()
    assert "Your answers from before you logged in are filled in" in page
    assert 'name="choice-orders-fraud" id="id_choice-orders-fraud_0" value="sync" checked' in page
    assert 'value="Block fraud"' in page
    response = client.post(submit_url(drill), post_data(choices))
    assert response.status_code == 302 and Attempt.objects.count() == 1
    page = client.get(drill.get_absolute_url()).content.decode()
    assert "from before you logged in" not in page and " checked" not in page


def test_anonymous_answers_are_not_filled_in_for_anonymous_visitors(client, drill):
    client.post(submit_url(drill), post_data())
    page = client.get(drill.get_absolute_url()).content.decode()
    assert "from before you logged in" not in page and " checked" not in page


def test_a_damaged_kept_attempt_is_ignored(client, learner, drill):
    client.force_login(learner)
    session = client.session
    session["drill_draft:shop"] = {"orders-payments": {"choice": "maybe"}, "gone": "x"}
    session.save()
    response = client.get(drill.get_absolute_url())
    assert response.status_code == 200
    assert "from before you logged in" not in response.content.decode()


# Own workflow: the user's own request, empty submits, the error summary ------------------------


def test_the_users_own_request_is_not_counted_as_a_hop(client, own_question):
    rows = [row(caller="Browser", callee="Checkout", entry=True), row(), row(callee="Stock")]
    html_ = client.post(PREVIEW_URL, own_data(rows), **HTMX).content.decode()
    assert "2</span> sync hops on the critical path" in html_ and "more than 2" not in html_


def test_the_builder_explains_that_the_entry_request_is_not_counted(client, own_question):
    page = client.get(OWN_URL).content.decode()
    assert 'name="rows-0-entry"' in page
    assert "is where the critical path starts, not a hop on it" in page


def test_an_entry_row_keeps_a_long_chain_under_the_limit(learner_client, own_question):
    rows = [row(caller="App", callee="Orders", entry=True), row(), row(callee="Stock")]
    response = learner_client.post(HAND_IN_URL, own_data(rows))
    assert response.status_code == 302
    assert Submission.objects.get().payload["critical_sync_hops"] == 2


def test_an_empty_hand_in_keeps_one_blank_row_to_type_into(learner_client, own_question):
    blank = row(caller="", callee="", style="", why="")
    response = learner_client.post(HAND_IN_URL, own_data([blank], name=""))
    assert response.status_code == 422
    page = html.unescape(response.content.decode())
    assert 'name="rows-0-caller"' in page and 'name="rows-1-caller"' not in page
    assert "No interactions yet" not in page
    assert '<a href="#id_rows-0-caller">Add at least one interaction' in page
    assert '<a href="#id_name">Workflow name: Give your workflow a name.</a>' in page
    assert 'name="rows-TOTAL_FORMS" value="1"' in page


def test_removing_the_last_row_leaves_a_blank_one(client, own_question):
    page = client.post(UPDATE_URL, own_data([row(caller="Only")], **{"rows-0-DELETE": "on"})
                       ).content.decode()
    assert 'name="rows-0-caller"' in page and 'value="Only"' not in page
    assert "No interactions yet" not in page


def test_the_error_summary_names_and_links_the_missing_proposal(learner_client, own_question):
    rows = [row(callee=name) for name in ("A", "B", "C")]
    response = learner_client.post(HAND_IN_URL, own_data(rows))
    page = html.unescape(response.content.decode())
    assert '<a href="#id_proposal">Which hop to make async: Your workflow has 3 sync hops' in page
    assert 'id="id_proposal"' in page


def test_the_error_summary_names_each_row_field(learner_client, own_question):
    rows = [row(), row(callee="", why="")]
    page = html.unescape(learner_client.post(HAND_IN_URL, own_data(rows))
                         .content.decode())
    assert '<a href="#id_rows-1-callee">Interaction 2, Callee: Name the service that is called.' \
        in page
    assert '<a href="#id_rows-1-justification">Interaction 2, Why (one line): Give a one-line' \
        in page


# Drills read fresh, rows cached by content version -----------------------------------------------


def test_a_drill_is_read_from_the_database_on_every_request(client, drill):
    # A queryset update sends no signal: the answer key is still today's, not a copy of it.
    Interaction.objects.filter(drill=drill, key="orders-stock").update(answer="sync")
    page = result_html(client, drill, RIGHT)
    assert "You scored 13 of 15 points." in page


def test_a_deleted_drill_is_gone_at_once(client, drill):
    client.get(drill.get_absolute_url())
    drill.delete()
    assert client.get(reverse("drills:detail", args=["shop"])).status_code == 404


def test_an_unknown_drill_is_not_found(db):
    with pytest.raises(Http404):
        content.get_drill("no-such-drill")


def test_the_next_drill_follows_catalogue_order(client, drill, other_drill):
    response = client.post(submit_url(drill), post_data(), **HTMX)
    assert "Next drill: Sign up" in html.unescape(response.content.decode())


def fragment_key(name: str, *vary_on) -> str:
    return make_template_fragment_key(name, [*vary_on, content_version()])


def verdict_row(page: str, key: str) -> str:
    return page.split(f'id="verdict-{key}"')[1].split('class="verdict-row')[0].split("</ol>")[0]


def test_feedback_rows_are_cached_and_reused_for_the_next_learner(client, drill):
    page = result_html(client, drill, RIGHT)
    key = fragment_key("verdict-rows", drill.pk, "", " ".join(
        f"{k}={c}/{QUESTION[k]}/None" for k, c in RIGHT.items()))
    kept = cache.get(key)
    assert kept is not None and "1. Orders → Payments" in html.unescape(kept)
    assert verdict_row(result_html(client, drill, RIGHT), "orders-payments") == verdict_row(
        page, "orders-payments")
    # The next rendering is the cached one, not a new one.
    cache.set(key, kept.replace("Orders → Payments", "Kept row"))
    assert "1. Kept row" in verdict_row(result_html(client, drill, RIGHT), "orders-payments")
    # Other choices are other rows.
    assert "Kept row" not in result_html(client, drill, ALL_ASYNC)


def test_the_rows_of_a_blank_drill_form_are_cached_and_reused(client, drill):
    client.get(drill.get_absolute_url())
    key = fragment_key("interaction-rows", drill.pk, "")
    kept = cache.get(key)
    assert kept is not None and "orders-stock exchange" in kept
    cache.set(key, kept.replace("orders-stock exchange", "The kept exchange"))
    page = client.get(drill.get_absolute_url()).content.decode()
    assert "The kept exchange" in page
    # A form of answers to correct is the learner's own and is never cached.
    page = client.post(submit_url(drill), post_data({"orders-payments": "sync"})).content.decode()
    assert "orders-stock exchange" in page and "The kept exchange" not in page


def test_a_cached_row_never_carries_another_learners_reason(client, make_user, drill):
    first, second = make_user("first"), make_user("second")
    client.force_login(first)
    reason = {"why-orders-stock": "<b>Stock can wait</b> for first"}
    page = client.post(submit_url(drill), post_data(RIGHT, **reason), **HTMX).content.decode()
    assert "Your reason: “&lt;b&gt;Stock can wait&lt;/b&gt; for first”" in page
    assert "<b>Stock" not in page
    client.force_login(second)
    page = client.post(submit_url(drill), post_data(
        RIGHT, **{"why-orders-stock": "Second's own reason"}), **HTMX).content.decode()
    assert "for first" not in page
    assert page.count("Your reason:") == 1 and "Second&#x27;s own reason" in page
    page = client.post(submit_url(drill), post_data(RIGHT), **HTMX).content.decode()
    assert "Your reason:" not in page and "Second" not in page
    # Rows holding a reason are never cached.
    assert all("Your reason" not in str(cache.get(key)) for key in cached_keys())


def cached_keys() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM critical_path_cache")
        return [row[0] for row in cursor.fetchall()]


def test_a_cached_form_row_never_carries_another_learners_answers(client, make_user, drill):
    first, second = make_user("first"), make_user("second")
    client.force_login(first)
    invalid = post_data({"orders-payments": "sync"}, **{"why-orders-stock": "First's reason"})
    page = client.post(submit_url(drill), invalid).content.decode()
    assert "First&#x27;s reason" in page and " checked" in page
    client.force_login(second)
    page = client.get(drill.get_absolute_url()).content.decode()
    assert "First&#x27;s reason" not in page and " checked" not in page


def test_a_cached_row_follows_the_hops_before_it(client, drill):
    """Payments → Processor is the same choice both times; only the hop before it differs."""
    chained = verdict_row(result_html(client, drill, RIGHT), "payments-processor")
    assert "Counts as a sync hop on your critical path" in chained
    cut = {**RIGHT, "orders-payments": "async"}
    alone = verdict_row(result_html(client, drill, cut), "payments-processor")
    assert "Counts as a sync hop on your critical path" not in alone
    assert "you chose <span class=\"badge badge-sync\">sync</span>, right." in alone


def test_an_edited_interaction_is_shown_as_edited_at_once(client, drill):
    assert "Rationale of orders-stock." in result_html(client, drill, RIGHT)
    assert "orders-stock exchange" in client.get(drill.get_absolute_url()).content.decode()
    before = content_version()
    interaction = drill.interactions.get(key="orders-stock")
    interaction.rationale = "A rewritten rationale."
    interaction.exchange = "A rewritten exchange"
    interaction.save()
    assert content_version() != before
    page = result_html(client, drill, RIGHT)
    assert "A rewritten rationale." in page and "Rationale of orders-stock." not in page
    page = client.get(drill.get_absolute_url()).content.decode()
    assert "A rewritten exchange" in page and "orders-stock exchange" not in page


# A drill that changed under its form --------------------------------------------------------------


def test_an_interaction_deleted_meanwhile_gives_a_409_and_stores_nothing(
        learner_client, drill, monkeypatch):
    # The page a learner answered, read before the drill lost an interaction in another process.
    stale = content.get_drill(drill.slug)
    Interaction.objects.filter(drill=drill, key="orders-email").delete()
    monkeypatch.setattr(views.content, "get_drill", lambda slug, variant="": stale)

    response = learner_client.post(submit_url(drill), post_data())
    assert response.status_code == 409
    assert "This drill changed, reload it" in response.content.decode()
    htmx = learner_client.post(submit_url(drill), post_data(), **HTMX)
    assert htmx.status_code == 409 and htmx["Content-Type"].startswith("text/plain")
    assert "Reload the drill" in htmx.content.decode()
    assert not Attempt.objects.exists() and not AttemptAnswer.objects.exists()


def test_a_deleted_drill_under_its_form_gives_a_409(learner, drill):
    stale = content.get_drill(drill.slug)
    Drill.objects.filter(pk=drill.pk).delete()
    with pytest.raises(services.DrillChanged):
        services.record_attempt(
            learner=learner, drill=stale.drill, interactions=list(stale.interactions),
            result=grading.grade(stale.key, {key: grading.Answer(choice) for key, choice
                                             in RIGHT.items()}), token=uuid.uuid4(),
        )
    assert not Attempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_interaction_deleted_between_the_check_and_the_insert_is_a_drill_change(
        drill, learner, monkeypatch):
    """The foreign key fails when the transaction commits; that is not a reused token."""
    stale = content.get_drill(drill.slug)
    Interaction.objects.filter(drill=drill, key="orders-email").delete()
    # The check ran just before another process deleted the interaction and committed.
    checks = iter([False, True])
    real = services._missing_interactions
    monkeypatch.setattr(services, "_missing_interactions",
                        lambda *args: next(checks) and real(*args))
    answers = {key: grading.Answer(choice, "") for key, choice in RIGHT.items()}
    with pytest.raises(services.DrillChanged):
        services.record_attempt(
            learner=learner, drill=stale.drill, interactions=list(stale.interactions),
            result=grading.grade(stale.key, answers), token=uuid.uuid4(),
        )
    assert not Attempt.objects.exists() and not AttemptAnswer.objects.exists()


def test_a_reused_token_is_still_told_apart_from_a_drill_change(learner_client, make_user, drill):
    token = uuid.uuid4()
    assert learner_client.post(submit_url(drill), post_data(token=token)).status_code == 302
    learner_client.force_login(make_user("grace"))
    response = learner_client.post(submit_url(drill), post_data(token=token))
    assert response.status_code == 400 and "already used" in response.content.decode()


def test_a_new_drill_joins_the_catalogue_at_once(client, drill):
    client.get(reverse("drills:catalogue"))
    Drill.objects.create(slug="added", title="An added drill", domain="Retail", difficulty=2,
                         order=5, summary="s", scenario="s")
    assert "An added drill" in client.get(reverse("drills:catalogue")).content.decode()


# Reasons, techniques and variants ----------------------------------------------------------


def test_a_missing_reason_is_a_form_error_naming_the_row(learner_client, drill):
    data = post_data()
    del data["reason-orders-stock"]
    response = learner_client.post(submit_url(drill), data)
    assert response.status_code == 422
    page = html.unescape(response.content.decode())
    assert "Choose what settles 3. Orders → Stock." in page
    assert '<a href="#row-orders-stock">Orders → Stock</a>' in page
    assert Attempt.objects.count() == 0


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"reason-orders-stock": "9"}, "'9' is not a reason for 'orders-stock'"),
        ({"reason-ghost": "1"}, "not part of this drill ('ghost')"),
        ({"technique-orders-stock": "event"}, "this drill offers no techniques"),
        ({"variant": "no-such-variant"}, "no variant 'no-such-variant'"),
    ],
)
def test_a_tampered_reason_technique_or_variant_is_a_400(learner_client, drill, extra, reason):
    response = learner_client.post(submit_url(drill), {**post_data(), **extra})
    assert response.status_code == 400
    assert reason in html.unescape(response.content.decode())
    assert Attempt.objects.count() == 0


def test_a_wrong_reason_is_named_and_costs_its_part(learner_client, drill):
    response = learner_client.post(submit_url(drill), post_data(reasons={"orders-stock": 1}),
                                   **HTMX)
    page = html.unescape(response.content.decode())
    row = verdict_row(page, "orders-stock")
    assert "Not quite: reason" in row
    assert "you cited question 1; it is question 3" in row
    assert "which would point to sync" in row
    assert "You scored 14 of 15 points." in page
    answer = AttemptAnswer.objects.get(interaction__key="orders-stock")
    assert (answer.style_correct, answer.reason, answer.reason_correct, answer.correct) == (
        True, 1, False, False)


@pytest.fixture
def technique_drill(drill):
    drill.techniques = ["plain-call", "event", "local-copy"]
    drill.save()
    for interaction in drill.interactions.all():
        interaction.techniques = {"sync": ["plain-call"], "async": ["event"],
                                  "either": ["plain-call", "event"]}[interaction.answer]
        if interaction.key == "orders-stock":
            interaction.techniques = ["local-copy"]
        interaction.save()
    return drill


def technique_data(**changes) -> dict:
    chosen = {"orders-payments": "plain-call", "payments-processor": "plain-call",
              "orders-stock": "local-copy", "orders-fraud": "event", "orders-email": "event"}
    chosen.update(changes)
    return post_data(**{f"technique-{key}": value for key, value in chosen.items()})


def test_a_drill_with_techniques_asks_for_one_per_interaction(client, technique_drill):
    page = client.get(technique_drill.get_absolute_url()).content.decode()
    assert page.count('name="technique-') == 5
    assert "Local copy fed by events" in page


def test_a_wrong_technique_is_named(learner_client, technique_drill):
    response = learner_client.post(submit_url(technique_drill),
                                   technique_data(**{"orders-stock": "event"}), **HTMX)
    row = verdict_row(html.unescape(response.content.decode()), "orders-stock")
    assert "Not quite: technique" in row
    assert "the key has “Local copy fed by events”" in row
    attempt = Attempt.objects.get()
    assert (attempt.score, attempt.total) == (19, 20)


def test_a_technique_the_drill_does_not_offer_is_a_400(learner_client, technique_drill):
    response = learner_client.post(submit_url(technique_drill),
                                   technique_data(**{"orders-stock": "saga-step"}))
    assert response.status_code == 400
    assert "this drill offers plain-call, event, local-copy" in html.unescape(
        response.content.decode())


@pytest.fixture
def variant_drill(drill):
    drill.variants = [{
        "slug": "stock-first", "title": "Stock is scarce",
        "change": "Only ten are left, and nobody may be told the order is placed without one.",
        "interactions": {"orders-stock": {
            "exchange": "Reserve one of the last ten", "answer": "sync", "condition": "",
            "deciding_question": 1, "other_questions": [], "techniques": [],
            "rationale": "Variant rationale of orders-stock.",
            "wrong_answer_why": "Variant: confirming stock that is gone.",
        }},
    }]
    drill.save()
    return drill


VARIANT_RIGHT = {**RIGHT, "orders-stock": "sync"}


def test_the_first_visit_serves_the_drill_as_written(client, variant_drill):
    page = client.get(variant_drill.get_absolute_url()).content.decode()
    assert 'name="variant" value=""' in page or 'name="variant" id' in page
    assert "Stock is scarce" not in page and "orders-stock exchange" in page


def test_after_the_key_was_seen_a_retry_serves_a_variant(learner_client, variant_drill):
    learner_client.post(submit_url(variant_drill), post_data())
    page = learner_client.get(variant_drill.get_absolute_url()).content.decode()
    assert "This time: Stock is scarce" in page
    assert "Reserve one of the last ten" in page and "orders-stock exchange" not in page
    assert 'name="variant" value="stock-first"' in page
    # The variant's own key grades it: the answer that was right before is wrong now.
    response = learner_client.post(submit_url(variant_drill),
                                   post_data(RIGHT, variant="stock-first"), **HTMX)
    row = verdict_row(html.unescape(response.content.decode()), "orders-stock")
    assert "Not quite: style" in row and "Variant rationale of orders-stock." in row
    assert list(Attempt.objects.order_by("pk").values_list("variant", flat=True)) == [
        "", "stock-first"]
    history = learner_client.get(reverse("drills:history", args=[variant_drill.slug]))
    assert "Variant: Stock is scarce" in history.content.decode()
    assert "As written" in history.content.decode()


def test_an_anonymous_retry_after_the_key_also_gets_a_variant(client, variant_drill):
    client.post(submit_url(variant_drill), post_data())
    page = client.get(variant_drill.get_absolute_url()).content.decode()
    assert "This time: Stock is scarce" in page
    client.post(submit_url(variant_drill), post_data(VARIANT_RIGHT, variant="stock-first"))
    # Every version seen: round the list again, to the drill as written.
    page = client.get(variant_drill.get_absolute_url()).content.decode()
    assert "This time:" not in page


def test_a_variant_attempt_is_reviewed_against_the_variants_key(learner_client, variant_drill):
    learner_client.post(submit_url(variant_drill), post_data(
        VARIANT_RIGHT, reasons={"orders-stock": 1}, variant="stock-first"))
    attempt = Attempt.objects.get()
    page = learner_client.get(attempt.get_absolute_url()).content.decode()
    assert "Full marks: 15 of 15 points." in page and "Stock is scarce" in page


def test_next_variant_rules():
    drill = Drill(slug="d", variants=[{"slug": "a"}, {"slug": "b"}])
    assert content.next_variant(drill, []) == ""
    assert content.next_variant(drill, [""]) == "a"
    assert content.next_variant(drill, ["", "a"]) == "b"
    assert content.next_variant(drill, ["", "a", "b"]) == ""
    assert content.next_variant(drill, ["a", "b", ""]) == "a"
    assert content.next_variant(Drill(slug="e"), [""]) == ""


def test_the_model_answer_is_shown_once_the_workflow_is_handed_in(client, learner,
                                                                  other_learner, own_question):
    own_question.model_answer_markdown = "Keep **one** sync hop: the seat."
    own_question.key_points = ["The seat reservation is the only call the user waits for."]
    own_question.save()
    client.force_login(learner)
    response = client.post(HAND_IN_URL, own_data([row()]))
    submission = Submission.objects.get()
    assert response["Location"] == f"{OWN_URL}?handed_in={submission.pk}"
    before = client.get(OWN_URL).content.decode()
    assert "Check your design against a model answer" not in before
    page = client.get(response["Location"]).content.decode()
    assert "Check your design against a model answer" in page
    assert "Keep <strong>one</strong> sync hop" in page
    assert "The seat reservation is the only call the user waits for." in page
    assert "Orders → Payments" in page
    # Someone else's hand-in number shows nobody's work and no model answer.
    client.force_login(other_learner)
    page = client.get(response["Location"]).content.decode()
    assert "Check your design against a model answer" not in page


def test_add_an_interaction_without_javascript_returns_to_the_new_row(client, own_question):
    page = client.get(OWN_URL).content.decode()
    assert f'formaction="{ADD_URL}#row-1"' in page
    page = client.post(ADD_URL, own_data([row()])).content.decode()
    assert 'id="row-1"' in page and f'formaction="{ADD_URL}#row-2"' in page


# The own workflow's path from its structure ------------------------------------------------


def test_own_workflow_hops_follow_which_call_is_made_while_handling_which():
    from drills import workflow

    rows = [
        {"caller": "Web", "callee": "Orders", "style": "sync", "entry": True},
        {"caller": "Orders", "callee": "Payments", "style": "sync", "after": 1},
        {"caller": "Payments", "callee": "Bank", "style": "sync", "after": 2},
        {"caller": "Orders", "callee": "Mail", "style": "async", "after": 1},
        {"caller": "Mail", "callee": "Provider", "style": "sync", "after": 4},
    ]
    # The tick is not asked for: the request and the sync calls under it make the path.
    assert workflow.on_path(rows) == {0, 1, 2, 3}
    assert workflow.count_hops(rows) == 2
    rows[1]["style"] = "async"
    assert workflow.count_hops(rows) == 0
    assert "3. Payments → Bank, made while handling 2: SYNC, off the critical path" in \
        workflow.as_text("Shop", [{**r, "justification": "j"} for r in rows])


@pytest.mark.parametrize(
    ("afters", "message"),
    [
        ({1: "7"}, "Interaction 2 is made while handling interaction 7, which does not exist."),
        ({0: "2", 1: "1"}, "Interactions 1, 2 are each made while handling another of them"),
        ({0: "1"}, "Interaction 1 is made while handling itself, so it is never started."),
    ],
)
def test_a_broken_structure_is_a_form_error_naming_the_rows(client, own_question, afters,
                                                           message):
    rows = [row(), row(caller="Payments", callee="Bank")]
    data = own_data(rows, **{f"rows-{i}-after": v for i, v in afters.items()})
    response = client.post(HAND_IN_URL, data)
    assert response.status_code == 422
    assert message in html.unescape(response.content.decode())
    assert Submission.objects.count() == 0


def test_the_users_request_marked_async_is_a_form_error(client, own_question):
    data = own_data([row(style="async", entry=True)])
    response = client.post(HAND_IN_URL, data)
    assert response.status_code == 422
    assert "the user's own request, which always waits for its reply: mark it sync" in \
        html.unescape(response.content.decode())
