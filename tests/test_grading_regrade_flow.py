"""The regrade flow says one thing at a time."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from grading import services
from grading.desk import GradingDesk
from grading.models import Grade, RegradeRequest, Submission
from tests.grading_factories import make_question, make_submission

pytestmark = pytest.mark.django_db


def statuses(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", s).strip() for s in
            re.findall(r'<span class="badge[^"]*grade-status">([^<]*)</span>', html)]


def test_the_grading_page_shows_one_status_and_the_score_as_typed(learner, instructor):
    submission = make_submission(learner)
    client = Client()
    client.force_login(instructor)
    url = reverse("grading:grade", args=[submission.pk])
    assert statuses(client.get(url).content.decode()) == ["Awaiting grading"]
    grade = services.save_grade(submission=submission, grader=instructor, score=Decimal(5),
                                criteria=[], feedback="", expected_version=0).grade
    html = client.get(url).content.decode()
    assert statuses(html) == ["Draft"]
    assert re.search(r'name="score" value="5"', html)
    services.release_grade(grade=grade, by=instructor)
    assert statuses(client.get(url).content.decode())[0].startswith("Released")
    services.request_regrade(submission=submission, learner=learner, reason="Look again, please.")
    assert statuses(client.get(url).content.decode()) == ["Regrade requested"]


# A regrade answer is a draft until it is returned ------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def released(learner, instructor, score=6, question=None):
    submission = make_submission(learner, question)
    grade = services.save_grade(submission=submission, grader=instructor, score=Decimal(score),
                                criteria=["c1"], feedback="First look.", expected_version=0).grade
    services.release_grade(grade=grade, by=instructor)
    return submission


def form(grade, **extra):
    return {"criteria": ["c1", "c2"], "score": "8", "feedback": "Second look.",
            "version": grade.version, "regrade_answer": "You named the caller; two more points.",
            **extra}


def test_a_regrade_answer_can_be_drafted_before_it_is_returned(learner, instructor):
    submission = released(learner, instructor)
    services.request_regrade(submission=submission, learner=learner, reason="Line 2 names it.")
    grade = Grade.objects.get(submission=submission)
    grader, owner = client_for(instructor), client_for(learner)
    url = reverse("grading:grade", args=[submission.pk])
    response = grader.post(url, form(grade, action="save"))
    assert response.status_code == 302
    grade.refresh_from_db()
    request = RegradeRequest.objects.get(submission=submission)
    # The learner's grade is as they know it; the draft waits on the request.
    assert (grade.score, grade.released, grade.criteria_met) == (Decimal(6), True, ["c1"])
    assert request.is_open and request.is_drafted and request.draft_score == 8
    mine = owner.get(reverse("grading:my_submission", args=[submission.pk])).content.decode()
    assert "two more points" not in mine and "Waiting for an instructor" in mine
    page = grader.get(url).content.decode()
    assert statuses(page) == ["Regrade answer drafted"]
    assert 'name="score" value="8"' in page and "two more points" in page

    response = grader.post(url, form(grade, action="release"))
    assert response.status_code == 302
    grade.refresh_from_db()
    assert (grade.score, grade.criteria_met) == (Decimal(8), ["c1", "c2"])
    mine = owner.get(reverse("grading:my_submission", args=[submission.pk])).content.decode()
    assert "two more points" in mine and "score 6 → 8" in mine


def test_a_grader_who_may_not_release_drafts_a_regrade_answer_only(learner, instructor,
                                                                    make_user):
    submission = released(learner, instructor)
    services.request_regrade(submission=submission, learner=learner, reason="Line 2 names it.")
    grade = Grade.objects.get(submission=submission)
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]))
    client = client_for(grader)
    url = reverse("grading:grade", args=[submission.pk])
    refused = client.post(url, form(grade, action="release"))
    assert refused.status_code == 403
    assert "two more points" in refused.content.decode()  # the text is kept
    assert client.post(url, form(grade, action="save")).status_code == 302
    assert RegradeRequest.objects.get(submission=submission).drafted_by == grader
    assert Grade.objects.get(submission=submission).score == 6


def test_a_stale_regrade_draft_is_refused(learner, instructor):
    submission = released(learner, instructor)
    services.request_regrade(submission=submission, learner=learner, reason="Line 2 names it.")
    grade = Grade.objects.get(submission=submission)
    response = client_for(instructor).post(reverse("grading:grade", args=[submission.pk]),
                                           form(grade, action="save", version=grade.version - 1))
    assert response.status_code == 409
    assert "two more points" in response.content.decode()
    assert not RegradeRequest.objects.get(submission=submission).is_drafted


# Limits on regrade requests ---------------------------------------------------------------


def answer(submission, instructor):
    grade = Grade.objects.get(submission=submission)
    services.save_and_release(submission=submission, grader=instructor, score=grade.score,
                              criteria=[], feedback="", expected_version=grade.version,
                              regrade_answer="Looked again: it stands.")


def test_regrades_per_grade_are_limited(learner, instructor, settings):
    settings.GRADING_REGRADES_PER_GRADE = 2
    submission = released(learner, instructor)
    client = client_for(learner)
    url = reverse("grading:request_regrade", args=[submission.pk])
    for _ in range(2):
        assert client.post(url, {"reason": "Please read line two again."}).status_code == 302
        answer(submission, instructor)
    page = client.get(reverse("grading:my_submission", args=[submission.pk])).content.decode()
    assert "Ask for a regrade" not in page
    assert "asked for a regrade of this grade 2 times, the most allowed (2)" in page
    refused = client.post(url, {"reason": "Please read line two again."})
    assert refused.status_code == 409
    assert "the most allowed (2)" in refused.content.decode()
    assert RegradeRequest.objects.filter(submission=submission).count() == 2


def test_open_regrades_per_learner_are_limited(learner, instructor, settings):
    settings.GRADING_OPEN_REGRADES_PER_LEARNER = 1
    first, second = released(learner, instructor), released(learner, instructor)
    services.request_regrade(submission=first, learner=learner, reason="Please look again.")
    client = client_for(learner)
    refused = client.post(reverse("grading:request_regrade", args=[second.pk]),
                          {"reason": "And this one too please."})
    assert refused.status_code == 409
    assert "1 regrade request waiting for an answer, the most at once (1)" in (
        refused.content.decode())
    answer(first, instructor)
    assert client.post(reverse("grading:request_regrade", args=[second.pk]),
                       {"reason": "And this one too please."}).status_code == 302


# Identical own workflows are grouped ------------------------------------------------------


ROWS = [{"caller": "checkout", "callee": "payments", "exchange": "charge the card",
         "style": "sync", "why": "The user waits for the answer."}]


def test_identical_own_workflows_are_grouped_and_grouping_starts_ticked(make_user, instructor):
    question = make_question(rubric=[])
    desk = GradingDesk()
    handed = []
    for n, (name, rows) in enumerate([("Shop", ROWS), ("My shop", [
        {**ROWS[0], "why": "  the USER waits for the answer "}
    ]), ("Other", [{**ROWS[0], "style": "async"}])]):
        payload = {"workflow": name, "rows": rows, "proposal": "", "critical_sync_hops": 1}
        receipt, _ = desk.hand_in(learner=make_user(f"w{n}"), item=question,
                                  answer=name, payload=payload)
        handed.append(Submission.objects.get(pk=receipt.pk))
    same, twin, other = handed
    assert same.fingerprint and same.fingerprint == twin.fingerprint != other.fingerprint
    assert list(services.identical_submissions(same)) == [twin]
    page = client_for(instructor).get(reverse("grading:grade", args=[same.pk])).content.decode()
    box = re.search(r'<input[^>]*name="apply_to_group"[^>]*>', page)
    assert box is not None and "checked" in box.group()


def test_written_answers_are_never_grouped(learner, make_user):
    question = make_question()
    first = make_submission(learner, question, answer="Same words.")
    make_submission(make_user("copy"), question, answer="Same words.")
    assert not services.identical_submissions(first).exists()


def test_a_drafted_regrade_answer_can_go_to_identical_answers_still_unreleased(make_user,
                                                                              instructor):
    question = make_question(rubric=[])
    desk = GradingDesk()
    handed = {}
    for name in ("asker", "waiting", "returned"):
        payload = {"workflow": "Shop", "rows": ROWS, "proposal": "", "critical_sync_hops": 1}
        receipt, _ = desk.hand_in(learner=make_user(name), item=question, answer="Shop",
                                  payload=payload)
        handed[name] = Submission.objects.get(pk=receipt.pk)
    for name in ("asker", "returned"):
        grade = services.save_grade(submission=handed[name], grader=instructor,
                                    score=Decimal(6), criteria=[], feedback="First look.",
                                    expected_version=0).grade
        services.release_grade(grade=grade, by=instructor)
    asker = handed["asker"]
    services.request_regrade(submission=asker, learner=asker.learner, reason="Look again.")
    grade = Grade.objects.get(submission=asker)
    response = client_for(instructor).post(
        reverse("grading:grade", args=[asker.pk]),
        {"score": "8", "feedback": "Second look.", "version": grade.version, "action": "save",
         "regrade_answer": "Two more points.", "apply_to_group": "on"}, follow=True)
    text = response.content.decode()
    assert "regrade request as a draft" in text
    assert "The same grade went to 1 identical submission." in text
    assert "1 already released were left alone." in text
    copied = Grade.objects.get(submission=handed["waiting"])
    assert (copied.score, copied.released, copied.feedback_markdown) == (
        Decimal(8), False, "Second look.")
    assert Grade.objects.get(submission=handed["returned"]).score == 6
    assert Grade.objects.get(submission=asker).score == 6  # still a draft on the request
