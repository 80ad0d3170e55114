"""Graders who split the work: claims hand each grader a submission nobody else holds."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grading import services
from grading.models import Claim, Grade
from tests.grading_factories import make_question, make_submission

pytestmark = pytest.mark.django_db

AWAITING: dict = {"status": "awaiting"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def queue(make_user):
    question = make_question()
    return [make_submission(make_user(f"learner{n}"), question) for n in range(4)]


@pytest.fixture
def colleague(make_user):
    return make_user("colleague", instructor=True)


def test_two_graders_claiming_in_turn_get_different_submissions(queue, instructor, colleague):
    mine = services.claim_next(grader=instructor, filters=AWAITING)
    theirs = services.claim_next(grader=colleague, filters=AWAITING)
    assert (mine, theirs) == (queue[0], queue[1])
    # Claiming again hands the grader what they already hold before anything new.
    assert services.claim_next(grader=instructor, filters=AWAITING) == queue[0]
    assert Claim.objects.count() == 2


def test_the_queue_shows_who_holds_what(queue, instructor, colleague):
    services.claim_next(grader=colleague, filters=AWAITING)
    services.claim_next(grader=instructor, filters=AWAITING)
    page = client_for(instructor).get(reverse("grading:queue")).content.decode()
    assert "Held by colleague until" in page
    assert "You hold this until" in page
    grading = client_for(instructor).get(
        reverse("grading:grade", args=[queue[0].pk])).content.decode()
    assert "Held by colleague until" in grading


def test_claim_next_opens_the_claimed_submission(queue, instructor, colleague):
    services.claim_next(grader=colleague, filters=AWAITING)
    response = client_for(instructor).post(reverse("grading:claim_next"))
    assert response.status_code == 302
    assert response["Location"] == reverse("grading:grade", args=[queue[1].pk])
    htmx = client_for(instructor).post(reverse("grading:claim_next"), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == reverse("grading:grade", args=[queue[1].pk])


def test_save_and_next_skips_what_others_hold(queue, instructor, colleague):
    assert services.claim_next(grader=instructor, filters=AWAITING) == queue[0]
    assert services.claim_next(grader=colleague, filters=AWAITING) == queue[1]
    response = client_for(instructor).post(reverse("grading:grade", args=[queue[0].pk]), {
        "score": "5", "feedback": "", "version": 0, "action": "next",
    })
    assert response["Location"] == reverse("grading:grade", args=[queue[2].pk])
    held = {c.submission_id: c.grader for c in Claim.objects.all()}
    # The saved one is let go, the next one is now held; the colleague's hold stays.
    assert held == {queue[1].pk: colleague, queue[2].pk: instructor}
    page = client_for(instructor).get(
        reverse("grading:grade", args=[queue[2].pk])).content.decode()
    # "Skip to the next" leaves out the colleague's submission too.
    assert f'href="{reverse("grading:grade", args=[queue[3].pk])}">Skip' in page


def test_a_claim_lapses_after_the_set_time(queue, instructor, colleague, settings):
    settings.GRADING_CLAIM_MINUTES = 10
    services.claim(submission=queue[0], grader=colleague)
    claim = Claim.objects.get()
    assert timedelta(minutes=9) < claim.expires_at - timezone.now() <= timedelta(minutes=10)
    assert not services.claim(submission=queue[0], grader=instructor)
    Claim.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.claim(submission=queue[0], grader=instructor)
    assert Claim.objects.get().grader == instructor


def test_nothing_free_to_claim_says_so(make_user, instructor, colleague):
    submission = make_submission(make_user("only"))
    services.claim(submission=submission, grader=colleague)
    response = client_for(instructor).post(reverse("grading:claim_next"), follow=True)
    assert "Nothing in this queue is free to claim" in response.content.decode()
    assert Claim.objects.get().grader == colleague


def test_letting_go_frees_only_ones_own_claim(queue, instructor, colleague):
    services.claim(submission=queue[0], grader=colleague)
    url = reverse("grading:let_go", args=[queue[0].pk])
    assert client_for(instructor).post(url).status_code == 302
    assert Claim.objects.get().grader == colleague
    assert client_for(colleague).post(url).status_code == 302
    assert not Claim.objects.exists()


def test_claims_permission_matrix(client, queue, learner, make_user, instructor):
    urls = [reverse("grading:claim_next"), reverse("grading:let_go", args=[queue[0].pk])]
    for url in urls:
        response = client.post(url)
        assert response.status_code == 302 and "login" in response["Location"]
        assert client_for(learner).post(url).status_code == 403
        assert client.get(url).status_code in (302, 405)
    grader = make_user("grader")
    grader.user_permissions.add(*Permission.objects.filter(
        codename__in=["grade_submission", "view_all_submissions"]))
    # Claiming is part of grading: a grader who may not release may still claim.
    assert client_for(grader).post(urls[0]).status_code == 302
    assert Claim.objects.get().grader == grader
    assert not Claim.objects.filter(grader=learner).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_graders_claiming_at_once_never_share_a_submission(make_user):
    question = make_question()
    submissions = [make_submission(make_user(f"l{n}"), question) for n in range(3)]
    graders = [make_user(f"g{n}", instructor=True) for n in range(6)]
    start = threading.Barrier(len(graders))

    def grab(grader):
        start.wait()
        try:
            return services.claim_next(grader=grader, filters=AWAITING)
        finally:
            connection.close()

    with ThreadPoolExecutor(len(graders)) as pool:
        results = list(pool.map(grab, graders))
    claimed = [s.pk for s in results if s is not None]
    # Three submissions, six graders: each submission goes to exactly one of them.
    assert sorted(claimed) == sorted(s.pk for s in submissions)
    assert Claim.objects.count() == 3
    assert len({c.grader_id for c in Claim.objects.all()}) == 3


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_release_all_against_a_concurrent_save_releases_only_what_was_listed(make_user):
    from grading.assessments import from_question

    question = make_question()
    instructor, colleague = (make_user(n, instructor=True) for n in ("teach", "colleague"))
    grades = [
        services.save_grade(submission=make_submission(make_user(f"p{n}"), question),
                            grader=instructor, score=Decimal(4), criteria=[], feedback="",
                            expected_version=0).grade
        for n in range(6)
    ]
    listed = {g.pk: g.version for g in grades}
    start = threading.Barrier(2)

    def release():
        start.wait()
        try:
            return services.release_all(assessment=from_question(question), by=instructor,
                                        listed=listed)
        finally:
            connection.close()

    def edit():
        start.wait()
        try:
            return services.save_grade(submission=grades[3].submission, grader=colleague,
                                       score=Decimal(9), criteria=[], feedback="Better.",
                                       expected_version=grades[3].version)
        except services.GradingError as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        released, saved = pool.submit(release), pool.submit(edit)
        report, outcome = released.result(), saved.result()
    edited = Grade.objects.get(pk=grades[3].pk)
    if isinstance(outcome, services.GradingError):
        # The release locked the draft first: released as listed, the late save refused.
        assert edited.released and edited.score == 4
        assert len(report.released) == 6
    else:
        # The save got in first: the changed draft is not released but reported.
        assert not edited.released and edited.score == 9
        assert [g.pk for g in report.changed] == [edited.pk]
        assert len(report.released) == 5
    # Never a grade released at a score the confirmation did not show.
    assert not Grade.objects.filter(released=True).exclude(score=4).exists()


def test_the_end_of_a_walk_says_how_many_others_hold(make_user, instructor, colleague):
    question = make_question()
    mine, theirs = (make_submission(make_user(f"p{n}"), question) for n in range(2))
    services.claim(submission=theirs, grader=colleague)
    response = client_for(instructor).post(reverse("grading:grade", args=[mine.pk]), {
        "score": "5", "feedback": "", "version": 0, "action": "next"}, follow=True)
    page = response.content.decode()
    assert "Nothing else is waiting in this queue. 1 more is held by other graders." in page
