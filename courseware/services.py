import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone

from courseware import cards, handins, problems, review, signals
from courseware.checkpoint import compose
from courseware.checks import MAX_TRIES, OptionKey, QuickCheckState, grade_quick_check, state_of
from courseware.models import (
    Checkpoint,
    CheckpointAnswer,
    Lesson,
    LessonProgress,
    Problem,
    ProblemAnswer,
    ProblemInstance,
    Question,
    QuickCheck,
    QuickCheckOption,
    QuickCheckResponse,
    ReviewCard,
    ReviewRecord,
    Section,
    SectionMembership,
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


# Problems with the learner's own numbers ---------------------------------------------------


class ProblemRefused(Exception):
    """An answer that cannot be taken; ``status`` is the HTTP status that fits, the message says
    why."""

    status = 400


class NotYourNumbers(ProblemRefused):
    pass


class NumbersReplaced(ProblemRefused):
    status = 409


def new_seed() -> int:
    return secrets.randbelow(2**62)


def current_instances(*, learner, problems_: Iterable[Problem]) -> dict[int, ProblemInstance]:
    """Each problem's current numbers for this learner, by problem id, drawing first numbers for
    problems the learner has never seen."""
    wanted = {problem.pk: problem for problem in problems_}
    found: dict[int, ProblemInstance] = {}
    rows = (
        ProblemInstance.objects.filter(learner=learner, problem__in=wanted)
        .select_related("answer").order_by("number")
    )
    for instance in rows:
        found[instance.problem_id] = instance
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        # Two first visits at once both try number 1; the constraint keeps one of them.
        ProblemInstance.objects.bulk_create(
            [ProblemInstance(learner=learner, problem_id=pk, number=1, seed=new_seed())
             for pk in missing],
            ignore_conflicts=True,
        )
        for instance in ProblemInstance.objects.filter(learner=learner, problem__in=missing):
            found[instance.problem_id] = instance
    for instance in found.values():
        instance.problem = wanted[instance.problem_id]
    return found


def counted_answers(*, learner, problems_: Iterable[Problem]) -> dict[int, ProblemAnswer]:
    """The learner's first try at each of these problems that they have answered, by problem
    id: the answer that counts for score and mastery."""
    rows = ProblemAnswer.objects.first_tries().filter(learner=learner, problem__in=list(problems_))
    return {answer.problem_id: answer for answer in rows}


def current_instance(*, learner, problem: Problem) -> ProblemInstance:
    return current_instances(learner=learner, problems_=[problem])[problem.pk]


def new_instance(*, learner, problem: Problem, after: int | None = None) -> ProblemInstance:
    """New numbers for this learner on this problem, which become the current ones.

    ``after`` is the number of the instance the learner was looking at when they asked: when a
    newer one exists already (the same request sent twice), that one is returned and nothing
    new is drawn. Without it new numbers are always drawn (as a review does).
    """
    for _ in range(3):
        latest = ProblemInstance.objects.of(learner, problem).current()
        if latest is None:
            return current_instance(learner=learner, problem=problem)
        if after is not None and latest.number > after:
            return latest
        try:
            with transaction.atomic():
                instance = ProblemInstance.objects.create(
                    learner=learner, problem=problem, number=latest.number + 1, seed=new_seed()
                )
            return instance
        except IntegrityError:
            # Someone else drew the next numbers first: theirs stand if they answer our request.
            continue
    latest = ProblemInstance.objects.of(learner, problem).current()
    assert latest is not None
    return latest


@dataclass(frozen=True)
class ProblemOutcome:
    answer: ProblemAnswer
    verdict: problems.Verdict
    # False when this set of numbers had been answered already: nothing was stored.
    created: bool


def answer_problem(
    *, learner, problem: Problem, instance_id: int, value: float, require_current: bool = True
) -> ProblemOutcome:
    """Grade and store ``value`` as the learner's answer to their numbers ``instance_id``.

    Each set of numbers is answered once; the first answer a learner gives to a problem (on
    any numbers) is their first try, the one that counts. A repeated request returns the stored
    answer and stores nothing. Raises NotYourNumbers for numbers drawn for someone else or for
    another problem, NumbersReplaced when ``require_current`` and the learner has drawn newer
    numbers since. Sends ``problem_answered`` and, for a wrong first try, ``problem_missed``.
    """
    instance = ProblemInstance.objects.filter(pk=instance_id).select_related("problem").first()
    if instance is None or instance.learner_id != learner.pk or instance.problem_id != problem.pk:
        raise NotYourNumbers(
            "These are not your numbers for this problem: answer the numbers shown to you."
        )
    problem_type = problem.problem_type
    if problem_type is None:
        raise ProblemRefused("This problem cannot be graded at the moment.")
    verdict = problem_type.grade(instance.params, value)
    stored = ProblemAnswer.objects.filter(instance=instance).first()
    if stored is not None:
        return ProblemOutcome(stored, problem_type.grade(instance.params, stored.value), False)
    if require_current:
        latest = ProblemInstance.objects.of(learner, problem).current()
        if latest is not None and latest.number != instance.number:
            raise NumbersReplaced(
                "You have asked for new numbers since: answer the ones now shown."
            )
    first_try = not ProblemAnswer.objects.filter(learner=learner, problem=problem).exists()
    answer = None
    for first in (first_try, False):
        try:
            with transaction.atomic():
                answer = ProblemAnswer.objects.create(
                    instance=instance, learner=learner, problem=problem, value=value,
                    correct=verdict.correct, first_try=first,
                )
            break
        except IntegrityError:
            stored = ProblemAnswer.objects.filter(instance=instance).first()
            if stored is not None:
                # The same answer arrived twice at once; the one stored first stands.
                return ProblemOutcome(
                    stored, problem_type.grade(instance.params, stored.value), False
                )
            # Another set of numbers took the first try a moment earlier: this one does not count.
    assert answer is not None
    _announce(answer, instance)
    return ProblemOutcome(answer, verdict, True)


def _announce(answer: ProblemAnswer, instance: ProblemInstance) -> None:
    def send() -> None:
        kwargs = {
            "learner": answer.learner, "problem": answer.problem, "instance": instance,
            "answer": answer, "correct": answer.correct, "first_try": answer.first_try,
        }
        signals.problem_answered.send(sender=Problem, **kwargs)
        if answer.first_try and not answer.correct:
            signals.problem_missed.send(sender=Problem, **kwargs)

    transaction.on_commit(send)


# The final checkpoint ----------------------------------------------------------------------


class CheckpointEmpty(Exception):
    """The course offers nothing to ask yet."""


def start_checkpoint(*, learner) -> tuple[Checkpoint, bool]:
    """The learner's open checkpoint, or a new one; returns (checkpoint, created)."""
    open_one = Checkpoint.objects.filter(learner=learner, finished_at__isnull=True).first()
    if open_one is not None:
        return open_one, False
    items = compose(learner=learner)
    if not items:
        raise CheckpointEmpty("There is nothing to ask yet: the course has not been loaded.")
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(learner=learner, items=items), True
    except IntegrityError:
        # A second start raced this one; the one stored first stands.
        return Checkpoint.objects.get(learner=learner, finished_at__isnull=True), False


def answer_checkpoint(*, checkpoint: Checkpoint, position: int,
                      checked: cards.Checked) -> tuple[CheckpointAnswer, bool]:
    """Store the answer to one checkpoint item; returns (answer, created).

    A wrong answer puts the item in the learner's review; the last answer closes the
    checkpoint. A repeated answer to the same item stores nothing and returns the first.
    """
    try:
        with transaction.atomic():
            answer = CheckpointAnswer.objects.create(
                checkpoint=checkpoint, position=position, answer=checked.answer,
                correct=checked.correct,
            )
            item = checkpoint.items[position]
            if not checked.correct:
                add_review_card(learner=checkpoint.learner, kind=item["kind"], ref=item["ref"])
            if checkpoint.answers.count() >= len(checkpoint.items):
                Checkpoint.objects.filter(pk=checkpoint.pk, finished_at__isnull=True).update(
                    finished_at=timezone.now()
                )
    except IntegrityError:
        return CheckpointAnswer.objects.get(checkpoint=checkpoint, position=position), False
    checkpoint.refresh_from_db()
    return answer, True
