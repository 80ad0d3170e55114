"""Who is told what by e-mail, and when. Each e-mail is a task, queued with the change that
causes it (in the same transaction), so no request waits for a mail server and no mail is sent
for a change that was rolled back."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.roles import INSTRUCTORS
from notifications.models import Preferences

log = logging.getLogger(__name__)

GRADE_RELEASED = "grade_released"
GRADE_CORRECTED = "grade_corrected"
REGRADE_ANSWERED = "regrade_answered"
REGRADE_REQUESTED = "regrade_requested"
KINDS = (GRADE_RELEASED, GRADE_CORRECTED, REGRADE_ANSWERED, REGRADE_REQUESTED)


def preferences_of(user) -> Preferences:
    found = Preferences.objects.filter(user=user).first()
    return found or Preferences(user=user)


def wants(user, kind: str) -> bool:
    return bool(user.is_active and user.email and getattr(preferences_of(user), kind))


@transaction.atomic
def save_preferences(*, user, choices: dict[str, bool]) -> Preferences:
    preferences, _ = Preferences.objects.get_or_create(user=user)
    for kind in KINDS:
        if kind in choices:
            setattr(preferences, kind, bool(choices[kind]))
    preferences.save()
    return preferences


def instructors():
    return get_user_model().objects.filter(groups__name=INSTRUCTORS, is_active=True).exclude(
        email="").distinct()


def queue(kind: str, *, recipient_id: int, object_id: int) -> None:
    from notifications.tasks import send_notification

    try:
        # A savepoint: a mail that cannot be queued never undoes the grading it reports.
        with transaction.atomic():
            send_notification.enqueue(kind, recipient_id, object_id)
    except Exception:
        log.exception("Could not queue a %s e-mail to user %s", kind, recipient_id)
