"""Sending the e-mails, as tasks (see notifications.services)."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from grading.assessments import for_submission, submission_title
from grading.models import GradeChange, RegradeRequest
from notifications import services

log = logging.getLogger(__name__)


@task()
def send_notification(kind: str, recipient_id: int, object_id: int, attempt: int = 1) -> bool:
    """Send one e-mail; False when there is no longer anything to send (the person turned it
    off, lost their address, or the record is gone) or the mail server refused it.

    A mail server that is down or refuses is tried again with doubling waits, up to
    NOTIFICATION_ATTEMPTS tries; then the failure is logged and the e-mail dropped (what it
    reports stays on the site, where the person sees it anyway)."""
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
    try:
        send_mail(subject, body, None, [recipient.email])
    except (OSError, smtplib.SMTPException) as error:
        if attempt >= settings.NOTIFICATION_ATTEMPTS:
            log.error("Gave up on a %s e-mail to user %s after %s tries: %s", kind,
                      recipient_id, attempt, error)
            return False
        wait = timedelta(seconds=settings.NOTIFICATION_BACKOFF_SECONDS * 2 ** (attempt - 1))
        log.warning("A %s e-mail to user %s failed (try %s), trying again in %s: %s", kind,
                    recipient_id, attempt, wait, error)
        send_notification.using(run_after=timezone.now() + wait).enqueue(
            kind, recipient_id, object_id, attempt + 1)
        return False
    return True
