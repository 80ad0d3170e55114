import uuid
from collections.abc import Iterable

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone

from courseware import cards, handins, review
from courseware.checks import MAX_TRIES, OptionKey, QuickCheckState, grade_quick_check, state_of
from courseware.models import (
    Lesson,
    LessonProgress,
    Question,
    QuickCheck,
    QuickCheckOption,
    QuickCheckResponse,
    ReviewCard,
    ReviewRecord,
)

QUICK_CHECK_KIND = "quick-check"


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
                if state.next_attempt == 1 and not result.correct:
                    add_review_card(learner=learner, kind=QUICK_CHECK_KIND, ref=quick_check.slug)
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


def add_review_card(*, learner, kind: str, ref: str, now=None) -> tuple[ReviewCard, bool]:
    """Put a missed item in the learner's review, due now; returns (card, created).

    An item already in review keeps its schedule: missing it again elsewhere is not a review.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            card = ReviewCard.objects.create(learner=learner, kind=kind, ref=ref, due=now)
            card.state = review.new_card(card_id=card.pk, now=now)
            card.save(update_fields=["state"])
            return card, True
    except IntegrityError:
        # Already there, or the same miss stored at once by a second request.
        return ReviewCard.objects.get(learner=learner, kind=kind, ref=ref), False


def add_review_cards(*, learner, kind: str, refs: Iterable[str]) -> int:
    """Put several missed items of one kind in review; returns how many were new."""
    return sum(add_review_card(learner=learner, kind=kind, ref=ref)[1] for ref in refs)


def review_card(*, card: ReviewCard, checked: cards.Checked, variant: str, token: uuid.UUID,
                now=None) -> tuple[ReviewRecord, bool]:
    """Grade a review card and reschedule it; returns (record, created).

    A second submit of the same form (a double click, a reload) gets the first record back and
    reschedules nothing. A card that is not due yet may be reviewed: FSRS counts the early
    review with the time that has really passed, and the record says it was early.
    """
    now = now or timezone.now()
    existing = ReviewRecord.objects.filter(token=token).select_related("card").first()
    if existing is not None:
        return _same_card(existing, card), False
    try:
        with transaction.atomic():
            locked = ReviewCard.objects.select_for_update().get(pk=card.pk)
            graded = review.review(locked.state, correct=checked.correct, now=now)
            record = ReviewRecord.objects.create(
                card=locked, answer=checked.answer, variant=variant, correct=checked.correct,
                rating=graded.rating, early=locked.due > now, log=graded.log, reviewed_at=now,
                token=token,
            )
            locked.state, locked.due, locked.reviewed_at = graded.state, graded.due, now
            locked.reviews += 1
            locked.lapses += 0 if checked.correct else 1
            locked.save(update_fields=["state", "due", "reviewed_at", "reviews", "lapses"])
    except IntegrityError:
        existing = ReviewRecord.objects.select_related("card").get(token=token)
        return _same_card(existing, card), False
    card.refresh_from_db()
    return record, True


class TokenReused(Exception):
    """A form token that already belongs to an answer on another card."""


def _same_card(record: ReviewRecord, card: ReviewCard) -> ReviewRecord:
    if record.card_id != card.pk:
        raise TokenReused("This form was already used. Reload the card to answer it again.")
    return record
