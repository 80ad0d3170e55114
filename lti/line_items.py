"""Finding the platform's line item for a grade when no launch has named it yet.

A launch names the line item of its own resource link, and that is how the tool mostly learns
them. A grade can come first: the instructor placed the activity (deep linking made its line
item on the platform) but nobody has opened that link yet, or the gradebook column was made by
hand on the platform. So before a released grade goes nowhere, the tool asks the course's
line-items service for one whose resourceId is the assessment's key; where there is none but
the activity is placed in that course and the tool may manage line items, it creates one for
the placed link. Either way the grade's score is then posted as usual (lti.passback). This runs
as a task, never inside a request, and is tried again with backoff when the platform errs.
"""

from __future__ import annotations

import logging

import requests
from django.db.models import Q
from lti_tool.lti_core.constants import AgsScope
from lti_tool.models import LtiContext, LtiLineItem
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from grading.assessments import for_submission
from grading.models import Grade
from lti import targets
from lti.launch import TimeoutSession
from lti.models import Placement

log = logging.getLogger("critical_path.lti")

TAG = "critical-path"


def contexts_without_line_item(grade: Grade) -> list[LtiContext]:
    """Platform courses the learner is in whose line item for this grade is not known yet,
    and whose line-items service the tool may read."""
    key = for_submission(grade.submission).key
    known = LtiLineItem.objects.filter(resource_id=key).values("context_id")
    return list(
        LtiContext.objects.filter(memberships__user__auth_user_id=grade.submission.learner_id)
        .exclude(lineitems_url="")
        .filter(Q(can_query_lineitems=True) | Q(can_manage_lineitems=True))
        .exclude(pk__in=known)
        .distinct()
    )


def queue_lookups(grade: Grade) -> int:
    from lti.tasks import find_line_item

    contexts = contexts_without_line_item(grade)
    for context in contexts:
        find_line_item.enqueue(context.pk, grade.pk, 1)
    return len(contexts)


def find(context_id: int, grade_id: int, attempt: int) -> str:
    """One try at finding (or making) the line item; what the task does."""
    from lti import passback
    from lti.tasks import find_line_item

    context = LtiContext.objects.select_related("deployment__registration").filter(
        pk=context_id).first()
    grade = Grade.objects.select_related("submission").filter(pk=grade_id).first()
    if context is None or grade is None:
        return "gone"
    key = for_submission(grade.submission).key
    if not LtiLineItem.objects.filter(context=context, resource_id=key).exists():
        try:
            found = _look_up(context, key)
        except (LtiException, requests.RequestException, ValueError, KeyError) as error:
            if passback.try_again(find_line_item, attempt, context_id, grade_id):
                return "retrying"
            log.warning("No line item found for %s in %s after %s tries: %s", key,
                        context.id_on_platform, attempt, error)
            return "failed"
        if found is None:
            return "none"
    passback.queue_posts(grade=grade, look_up=False)
    return "found"


def _look_up(context: LtiContext, key: str) -> LtiLineItem | None:
    scopes = [AgsScope.PUBLISH_SCORES.value]
    if context.can_manage_lineitems:
        scopes.append(AgsScope.MANAGE_LINEITEMS.value)
    if context.can_query_lineitems:
        scopes.append(AgsScope.QUERY_LINEITEMS.value)
    connector = ServiceConnector(context.deployment.registration.to_registration(),
                                 requests_session=TimeoutSession())
    service = AssignmentsGradesService(connector, {"scope": scopes,
                                                   "lineitems": context.lineitems_url})
    name = targets.name_of(key)
    placement = Placement.objects.filter(resource_link__context=context,
                                         target=name).select_related("resource_link").first()
    target = targets.resolve(name) if placement else None
    item: LineItem | None
    if placement is not None and target is not None and context.can_manage_lineitems:
        # Placed in that course: the column it stands for is found, or made for the link.
        item = service.find_or_create_lineitem(
            LineItem()
            .set_label(target.title[:255])
            .set_score_maximum(int(target.max_score or 0))
            .set_resource_id(key)
            .set_resource_link_id(placement.resource_link.id_on_platform)
            .set_tag(TAG),
            find_by="resource_id",
        )
    else:
        # Not placed there (or not ours to make): only a column the platform already has.
        item = service.find_lineitem_by_resource_id(key)
    if item is None:
        return None
    stored, _ = LtiLineItem.objects.update_or_create(
        url=item.get_id(),
        defaults={
            "context": context,
            "resource_id": key,
            "label": (item.get_label() or key)[:255],
            "maximum_score": float(item.get_score_maximum() or 0),
            "tag": (item.get_tag() or "")[:255],
            "resource_link": placement.resource_link if placement else None,
        },
    )
    return stored
