"""The regrade flow says one thing at a time."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from grading import services
from tests.grading_factories import make_submission

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
