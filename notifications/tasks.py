"""Sending the e-mails, as tasks (see notifications.services)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from grading.assessments import for_submission, submission_title
from grading.models import GradeChange, RegradeRequest
from notifications import services


@task()
def send_notification(kind: str, recipient_id: int, object_id: int) -> bool:
    """Send one e-mail; False when there is no longer anything to send (the person turned it
    off, lost their address, or the record is gone)."""
    recipient = get_user_model().objects.filter(pk=recipient_id).first()
    if recipient is None or not services.wants(recipient, kind):
        return False
    context: dict[str, object] = {"recipient": recipient, "kind": kind,
                                  "site": settings.LTI_TOOL_URL.rstrip("/"),
                                  "settings_path": reverse("notifications:preferences")}
    if kind == services.REGRADE_REQUESTED:
        regrade = RegradeRequest.objects.select_related("submission__learner").filter(
            pk=object_id).first()
        if regrade is None:
            return False
        submission = regrade.submission
        context.update(regrade=regrade, path=reverse("grading:grade", args=[submission.pk]))
    else:
        change = GradeChange.objects.select_related("grade__submission").filter(
            pk=object_id).first()
        if change is None:
            return False
        submission = change.grade.submission
        context.update(change=change, grade=change.grade,
                       path=reverse("grading:my_submission", args=[submission.pk]))
    context["title"] = submission_title(submission, for_submission(submission))
    subject = render_to_string(f"notifications/{kind}_subject.txt", context).strip()
    body = render_to_string(f"notifications/{kind}.txt", context)
    send_mail(subject, body, None, [recipient.email])
    return True
