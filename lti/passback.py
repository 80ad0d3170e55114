"""Grades back to the platform (LTI Assignment and Grade Services).

When a grade is released, corrected or regraded, every line item that stands for its question
or drill in a platform course the learner belongs to gets a ScorePost, and a task sends it. The
task is queued in the same database transaction as the grade change (the task queue's table is
in the same database), so a release is never lost between the two and never sent for a change
that was rolled back. The web request does no network call.

Sending asks the platform's token endpoint for an access token (client-credentials grant with a
JWT assertion signed by the tool's key) and posts an application/vnd.ims.lis.v1.score+json
score to the line item. A platform that errs or does not answer in time is tried again with
exponential backoff; after the last try the post is dead-lettered: it waits, with what went
wrong, on the instructors' page, where one button queues it again. The learner's grade itself
is never touched by any of this.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from lti_tool.models import LtiLineItem, LtiUser
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

from grading.assessments import for_submission
from grading.models import Grade
from lti.launch import TimeoutSession
from lti.models import ScorePost

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


class PassbackFailed(Exception):
    """Sending did not work; the message says what happened, for the instructors' page."""


def line_items_for(grade: Grade) -> list[tuple[LtiLineItem, LtiUser]]:
    """Each line item standing for this grade's assessment in a platform course the learner is
    a member of, with the learner's identity on that platform."""
    key = for_submission(grade.submission).key
    lti_users = {
        (user.registration_id): user
        for user in LtiUser.objects.filter(auth_user_id=grade.submission.learner_id)
    }
    if not lti_users:
        return []
    items = (
        LtiLineItem.objects.filter(
            resource_id=key,
            context__memberships__user__in=list(lti_users.values()),
        )
        .select_related("context__deployment")
        .distinct()
    )
    return [(item, lti_users[item.context.deployment.registration_id]) for item in items]


def queue_posts(*, grade: Grade, look_up: bool = True) -> list[ScorePost]:
    """Queue a post of the grade as it is now to each of its line items.

    With ``look_up``, platform courses of the learner whose line item for it is not known yet
    are asked for one in the background (lti.line_items), which posts there once found.
    """
    from lti import line_items
    from lti.tasks import post_score

    if not grade.released:
        return []
    if look_up:
        line_items.queue_lookups(grade)
    posts = []
    for line_item, lti_user in line_items_for(grade):
        post, _ = ScorePost.objects.get_or_create(
            grade=grade, line_item=line_item, defaults={"lti_user": lti_user}
        )
        ScorePost.objects.filter(pk=post.pk).update(
            generation=F("generation") + 1, status=ScorePost.Status.PENDING, attempts=0,
            last_error="", lti_user=lti_user, updated_at=timezone.now(),
        )
        post.refresh_from_db()
        post_score.enqueue(post.pk, post.generation)
        posts.append(post)
    return posts


def retry(*, post: ScorePost) -> ScorePost:
    """Queue a dead-lettered post again, from its first try."""
    from lti.tasks import post_score

    with transaction.atomic():
        ScorePost.objects.filter(pk=post.pk).update(
            generation=F("generation") + 1, status=ScorePost.Status.PENDING, attempts=0,
            updated_at=timezone.now(),
        )
        post.refresh_from_db()
        post_score.enqueue(post.pk, post.generation)
    return post


def backoff(attempt: int) -> timedelta:
    """The wait before the next try: doubling from the base, so a platform that is down for a
    while is asked less and less often."""
    return timedelta(seconds=settings.LTI_PASSBACK_BACKOFF_SECONDS * 2 ** (attempt - 1))


def try_again(task: Any, attempt: int, *args: Any) -> bool:
    """Queue ``task`` with ``args`` and the next attempt's number after this attempt's backoff;
    False, queueing nothing, once ``attempt`` was the last try."""
    if attempt >= settings.LTI_PASSBACK_ATTEMPTS:
        return False
    task.using(run_after=timezone.now() + backoff(attempt)).enqueue(*args, attempt + 1)
    return True


def attempt(post_id: int, generation: int) -> str:
    """One try at sending a post; what the task does. Returns what happened, in a word."""
    from lti.tasks import post_score

    with transaction.atomic():
        post = ScorePost.objects.select_for_update().filter(pk=post_id).first()
        if post is None or post.generation != generation:
            return "superseded"
        if post.status != ScorePost.Status.PENDING:
            return post.status
        post.attempts += 1
        post.save(update_fields=["attempts", "updated_at"])
    grade = Grade.objects.select_related("submission").get(pk=post.grade_id)
    try:
        send(post, grade)
    except PassbackFailed as error:
        dead = post.attempts >= settings.LTI_PASSBACK_ATTEMPTS
        with transaction.atomic():
            updated = ScorePost.objects.filter(pk=post.pk, generation=generation).update(
                last_error=str(error)[:2000],
                status=ScorePost.Status.DEAD if dead else ScorePost.Status.PENDING,
                updated_at=timezone.now(),
            )
            if updated and not dead:
                post_score.using(run_after=timezone.now() + backoff(post.attempts)).enqueue(
                    post.pk, generation
                )
        return "dead" if dead else "retrying"
    ScorePost.objects.filter(pk=post.pk, generation=generation).update(
        status=ScorePost.Status.SENT, last_error="", sent_score=grade.score,
        sent_at=timezone.now(), updated_at=timezone.now(),
    )
    return "sent"


def score_body(post: ScorePost, grade: Grade) -> dict[str, object]:
    return {
        "userId": post.lti_user.sub,
        "scoreGiven": float(grade.score),
        "scoreMaximum": float(grade.max_score),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": timezone.now().isoformat(timespec="milliseconds"),
    }


def scores_url(line_item_url: str) -> str:
    """The scores endpoint of a line item: its path plus /scores, its query kept."""
    parts = urlsplit(line_item_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def send(post: ScorePost, grade: Grade) -> None:
    registration = post.line_item.context.deployment.registration
    connector = ServiceConnector(registration.to_registration(),
                                 requests_session=TimeoutSession())
    try:
        connector.make_service_request(
            [SCORE_SCOPE], scores_url(post.line_item.url), is_post=True,
            data=json.dumps(score_body(post, grade)), content_type=SCORE_TYPE,
        )
    except LtiServiceException as error:
        response = error.response
        step = "token endpoint" if response.url == registration.token_url else "score endpoint"
        raise PassbackFailed(
            f"The platform's {step} answered HTTP {response.status_code}: "
            f"{response.text[:300]}"
        ) from error
    except requests.Timeout as error:
        raise PassbackFailed(
            f"The platform did not answer within {settings.LTI_HTTP_TIMEOUT_SECONDS:g} s."
        ) from error
    except requests.RequestException as error:
        raise PassbackFailed(f"The platform could not be reached: {error}") from error
    except (KeyError, ValueError) as error:
        raise PassbackFailed(f"The platform's token answer was not understood: {error}") \
            from error
