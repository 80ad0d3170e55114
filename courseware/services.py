import uuid
from collections.abc import Iterable

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone

from courseware import handins
from courseware.checks import MAX_TRIES, OptionKey, QuickCheckState, grade_quick_check, state_of
from courseware.models import (
    Lesson,
    LessonProgress,
    Question,
    QuickCheck,
    QuickCheckOption,
    QuickCheckResponse,
    Section,
    SectionMembership,
)


def submit_answer(*, learner, question: Question, answer: str, payload: dict | None = None,
                  token: uuid.UUID | None = None) -> tuple[handins.Receipt, bool]:
    """Hand a written answer in for grading; returns (receipt, created)."""
    return handins.desk().hand_in(
        learner=learner, item=question, answer=answer, payload=payload, token=token
    )


# Where a visitor without an account keeps their tries: {quick check slug: [[option key, ...]]}.
TRIES_SESSION_KEY = "quick_check_tries"


def option_keys(options: Iterable[QuickCheckOption]) -> list[OptionKey]:
    return [
        OptionKey(key=o.key, text=o.text, correct=o.correct, feedback=o.feedback)
        for o in options
    ]


def quick_check_tries(
    *, learner, session: SessionBase, quick_checks: Iterable[QuickCheck]
) -> dict[str, list[list[str]]]:
    """The tries made so far at each of these quick checks, by slug, oldest first."""
    checks = {check.pk: check.slug for check in quick_checks}
    if not (learner is not None and learner.is_authenticated):
        kept = session.get(TRIES_SESSION_KEY, {})
        return {slug: kept[slug] for slug in checks.values() if slug in kept}
    tries: dict[str, list[list[str]]] = {}
    rows = QuickCheckResponse.objects.filter(
        learner=learner, quick_check__in=checks, attempt__lte=MAX_TRIES
    ).order_by("attempt").values_list("quick_check_id", "selected")
    for check_id, selected in rows:
        tries.setdefault(checks[check_id], []).append(selected)
    return tries


def answer_quick_check(
    *, learner, session: SessionBase, quick_check: QuickCheck, options: list[OptionKey],
    selected: set[str],
) -> tuple[QuickCheckState, bool]:
    """Record a try and return the learner's state on the check, and whether the try was kept.

    A try made once the check is finished (right at the first try, or two tries made) changes
    nothing. A signed-in learner's tries are stored; a visitor's are kept in their session.
    """
    tries = quick_check_tries(learner=learner, session=session, quick_checks=[quick_check])
    done = tries.get(quick_check.slug, [])
    state = state_of(options, done)
    if state.finished:
        return state, False
    result = grade_quick_check(options, selected)
    keys = sorted(selected)
    if learner is not None and learner.is_authenticated:
        try:
            with transaction.atomic():
                QuickCheckResponse.objects.create(
                    learner=learner,
                    quick_check=quick_check,
                    attempt=state.next_attempt,
                    selected=keys,
                    correct=result.correct,
                )
        except IntegrityError:
            # The same try arrived twice at once (a double click); the one stored first stands.
            tries = quick_check_tries(learner=learner, session=session, quick_checks=[quick_check])
            return state_of(options, tries.get(quick_check.slug, [])), False
    else:
        kept = session.get(TRIES_SESSION_KEY, {})
        kept[quick_check.slug] = [*done, keys]
        session[TRIES_SESSION_KEY] = kept
    return state_of(options, [*done, keys]), True


def record_visit(*, learner, lesson: Lesson) -> None:
    # Every visit after the first is one UPDATE, without reading the row first.
    visited = LessonProgress.objects.filter(learner=learner, lesson=lesson)
    if not visited.update(last_visited_at=timezone.now()):
        LessonProgress.objects.get_or_create(learner=learner, lesson=lesson)


@transaction.atomic
def mark_complete(*, learner, lesson: Lesson) -> LessonProgress:
    progress, _ = LessonProgress.objects.select_for_update().get_or_create(
        learner=learner, lesson=lesson
    )
    if progress.completed_at is None:
        progress.completed_at = timezone.now()
        progress.save()
    return progress


def enroll(*, section: Section, user, role: str = SectionMembership.Role.LEARNER
           ) -> SectionMembership:
    """Put someone in a section; a learner already in another section of the course moves.

    A roster sync calls this for every member it sees, so calling it again changes nothing.
    """
    with transaction.atomic():
        if role == SectionMembership.Role.LEARNER:
            SectionMembership.objects.filter(
                course_id=section.course_id, user=user, role=role
            ).exclude(section=section).delete()
        membership, created = SectionMembership.objects.get_or_create(
            section=section, user=user, defaults={"role": role}
        )
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    return membership


def unenroll(*, section: Section, user) -> bool:
    """Take someone out of a section; False when they were not in it."""
    deleted, _ = SectionMembership.objects.filter(section=section, user=user).delete()
    return bool(deleted)
