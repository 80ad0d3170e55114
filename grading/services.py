"""Every write of the grading workflow: grading, group grading, release, regrades.

Each change to a grade bumps its version and leaves a GradeChange behind. A save names the
version it was based on, so of two instructors editing the same grade the second is refused
instead of silently overwriting the first.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from courseware.models import Question, Section
from courseware.rendering import render_markdown
from courseware.rubrics import next_id
from drills.models import Attempt
from grading.assessments import Assessment, for_submission, from_question
from grading.models import (
    Claim,
    DueDate,
    Extension,
    FeedbackSnippet,
    Grade,
    GradeChange,
    GradingOptions,
    RegradeRequest,
    RubricChange,
    ScheduledRelease,
    Submission,
)
from grading.queue import in_walk_order
from grading.tasks import enqueue_release


class GradingError(Exception):
    """A grading action that cannot be done; the message says why, in words for the user."""


class GradeConflict(GradingError):
    def __init__(self, current: Grade) -> None:
        who = current.graded_by.username if current.graded_by else "someone"
        super().__init__(
            f"{who} saved this grade while you were editing it. Their version is shown below; "
            "your text is still in the form. Save again to replace their grade with yours."
        )
        self.current = current


class GradeLocked(GradingError):
    pass


@dataclass
class SaveResult:
    grade: Grade
    created: bool
    # A regrade answer saved as a draft: nothing changed for the learner yet.
    regrade_drafted: bool = False
    group_updated: list[Grade] = field(default_factory=list)
    # Released identical grades, always left alone.
    group_skipped: int = 0
    # Other graders' drafts on identical submissions, left alone unless replacing was asked for.
    group_kept: list[Grade] = field(default_factory=list)


def _released_message(grade: Grade) -> str:
    when = timezone.localtime(grade.released_at).strftime("%d %b %Y %H:%M") if grade.released_at \
        else "earlier"
    return (
        f"This grade was released to the learner on {when}. A released grade changes only "
        "through a regrade request or a correction the learner is told about, so the learner "
        "always knows why it moved."
    )


def _audit(grade: Grade, *, action: str, by, old: dict | None, reason: str = "") -> GradeChange:
    old = old or {}
    return GradeChange.objects.create(
        grade=grade,
        action=action,
        changed_by=by,
        old_score=old.get("score"),
        new_score=grade.score,
        old_criteria=old.get("criteria_met", []),
        new_criteria=grade.criteria_met,
        old_feedback=old.get("feedback_markdown", ""),
        new_feedback=grade.feedback_markdown,
        old_released=old.get("released"),
        new_released=grade.released,
        reason=reason,
    )


def _snapshot(grade: Grade) -> dict:
    return {
        "score": grade.score,
        "criteria_met": list(grade.criteria_met),
        "feedback_markdown": grade.feedback_markdown,
        "released": grade.released,
    }


def _check_score(assessment: Assessment, score: Decimal) -> None:
    # Forms check this too; the service guards every other caller.
    if score < 0 or score > assessment.max_score:
        raise GradingError(f"The score must be between 0 and {assessment.max_score}.")


@transaction.atomic
def save_grade(
    *,
    submission: Submission,
    grader,
    score: Decimal,
    criteria: list[str],
    feedback: str,
    expected_version: int,
    regrade_answer: str = "",
    apply_to_group: bool = False,
    replace_others: bool = False,
    resolve_regrade: bool = False,
) -> SaveResult:
    """Create or change the grade of a submission, as a draft.

    With a regrade request open, the new grade and the answer are a draft on the request, and
    the released grade stays as the learner knows it, until ``resolve_regrade`` returns them.
    ``expected_version`` is the version the grader's form was built from (0 for no grade yet).
    """
    assessment = for_submission(submission)
    _check_score(assessment, score)
    criteria = assessment.known(criteria)
    regrade = RegradeRequest.objects.open().filter(submission=submission).first()
    grade = Grade.objects.filter(submission=submission).select_related("graded_by").first()
    # What this save writes, and what identical submissions take when grouped.
    written = {"score": score, "max_score": assessment.max_score, "criteria_met": criteria,
               "rubric": assessment.snapshot(), "feedback_markdown": feedback}

    if grade is None:
        if expected_version != 0:
            raise GradingError("This grade no longer exists. Reload the page and grade again.")
        try:
            with transaction.atomic():
                grade = Grade.objects.create(submission=submission, graded_by=grader, **written)
        except IntegrityError:
            # Someone else created the grade between our read and our write.
            raise GradeConflict(Grade.objects.get(submission=submission)) from None
        _audit(grade, action=GradeChange.Action.CREATED, by=grader, old=None)
        created, old = True, None
    else:
        if grade.released and regrade is None:
            raise GradeLocked(_released_message(grade))
        if regrade is not None and not resolve_regrade:
            result = _draft_regrade(grade, regrade, by=grader, score=score, criteria=criteria,
                                    feedback=feedback, answer=regrade_answer,
                                    expected_version=expected_version)
            if apply_to_group:
                # The other learners' grades are not under regrade: where still unreleased,
                # they take the corrected grade as an ordinary draft.
                result.group_updated, result.group_skipped, result.group_kept = _grade_group(
                    submission, written, by=grader, replace_others=replace_others
                )
            return result
        if regrade is not None and not regrade_answer.strip():
            raise GradingError("Write an answer to the learner's regrade request before saving.")
        old = _snapshot(grade)
        now = timezone.now()
        changes = {
            **written,
            "feedback_html": render_markdown(feedback).html,
            "graded_by": grader,
            "updated_at": now,
        }
        # The version check and the write are one statement, so no other save can slip between.
        updated = Grade.objects.filter(pk=grade.pk, version=expected_version).update(
            version=F("version") + 1, **changes
        )
        if not updated:
            raise GradeConflict(Grade.objects.select_related("graded_by").get(pk=grade.pk))
        previous_grader = grade.graded_by
        grade.refresh_from_db()
        created = False
        unchanged = {k: old[k] for k in ("score", "criteria_met", "feedback_markdown")} == {
            "score": grade.score, "criteria_met": grade.criteria_met,
            "feedback_markdown": grade.feedback_markdown,
        }
        # A save that changes nothing (such as "Save and release" of the grade as it stands)
        # leaves no empty line in the history.
        if regrade is None and not unchanged:
            reason = ""
            if previous_grader is not None and previous_grader != grader:
                reason = f"Replaced {previous_grader.username}'s grade"
            _audit(grade, action=GradeChange.Action.EDITED, by=grader, old=old, reason=reason)

    if regrade is not None:
        _resolve_regrade(grade, regrade, by=grader, answer=regrade_answer, old=old)
    else:
        _set_status(submission, Submission.Status.GRADED)
    # Graded: the grader's hold has done its work.
    Claim.objects.filter(submission=submission, grader=grader).delete()

    result = SaveResult(grade=grade, created=created)
    if apply_to_group:
        result.group_updated, result.group_skipped, result.group_kept = _grade_group(
            submission, written, by=grader, replace_others=replace_others
        )
    return result


def _draft_regrade(grade: Grade, regrade: RegradeRequest, *, by, score: Decimal,
                   criteria: list[str], feedback: str, answer: str,
                   expected_version: int) -> SaveResult:
    if grade.version != expected_version:
        raise GradeConflict(Grade.objects.select_related("graded_by").get(pk=grade.pk))
    drafted = RegradeRequest.objects.filter(pk=regrade.pk, resolved_at__isnull=True).update(
        draft_answer=answer.strip(), draft_score=score, draft_criteria=criteria,
        draft_feedback=feedback, drafted_by=by, drafted_at=timezone.now(),
    )
    if not drafted:
        raise GradingError("This regrade request was answered meanwhile. Reload the page.")
    return SaveResult(grade=grade, created=False, regrade_drafted=True)


def _resolve_regrade(grade: Grade, regrade: RegradeRequest, *, by, answer: str, old) -> None:
    now = timezone.now()
    # The learner asked, so the answer goes straight back to them.
    Grade.objects.filter(pk=grade.pk).update(
        released=True, released_at=now, seen_at=None, version=F("version") + 1
    )
    grade.refresh_from_db()
    _audit(grade, action=GradeChange.Action.REGRADED, by=by, old=old, reason=answer.strip())
    regrade.answer = answer.strip()
    regrade.answered_by = by
    regrade.resolved_at = now
    regrade.score_after = grade.score
    regrade.save()
    _set_status(grade.submission, Submission.Status.RETURNED)


def _set_status(submission: Submission, status: str) -> None:
    Submission.objects.filter(pk=submission.pk).update(status=status, updated_at=timezone.now())
    submission.status = status


def identical_submissions(submission: Submission):
    """Other submissions with exactly the same answers (the fingerprint names the drill too)."""
    if not submission.fingerprint:
        return Submission.objects.none()
    return (
        Submission.objects.filter(fingerprint=submission.fingerprint)
        .exclude(pk=submission.pk)
        .order_by("created_at", "pk")
    )


def normalise_justification(text: str) -> str:
    """Fold the differences that do not change what a justification says: case and spacing."""
    return " ".join(text.casefold().split()).rstrip(".!")


def answers_fingerprint(drill_id: int, answers: list[tuple[str, str, str]]) -> str:
    """One hash for a drill's (interaction key, choice, justification) answers."""
    normalised = sorted(
        (key, choice, normalise_justification(justification))
        for key, choice, justification in answers
    )
    data = json.dumps([drill_id, normalised], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def workflow_fingerprint(question_id: int, payload: dict[str, Any]) -> str:
    """One hash for a learner's own workflow: its rows and proposal, whatever its name.

    Empty for a hand-in without rows, such as a written answer, which is never grouped.
    """
    rows = payload.get("rows") if isinstance(payload, dict) else None
    if not rows or not isinstance(rows, list):
        return ""
    normalised = [
        sorted((str(k), normalise_justification(str(v or ""))) for k, v in row.items())
        for row in rows if isinstance(row, dict)
    ]
    proposal = normalise_justification(str(payload.get("proposal") or ""))
    data = json.dumps(["workflow", question_id, normalised, proposal], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


@transaction.atomic
def submit_attempt_for_review(*, attempt: Attempt) -> Submission | None:
    """Hand a drill attempt in for grading when its drill is reviewed by an instructor.

    Returns the submission (the same one if called again for the attempt), or None when the
    drill is marked automatically only.
    """
    if not attempt.drill.review_by_instructor or attempt.learner_id is None:
        return None
    answers = list(attempt.answers.select_related("interaction").order_by("interaction__order"))
    text = "\n".join(
        f"{a.interaction.caller} → {a.interaction.callee}: {a.choice}"
        + (f" — {a.justification}" if a.justification else "")
        for a in answers
    )
    payload = {
        "score": attempt.score,
        "total": attempt.total,
        "answers": [
            {
                "interaction": a.interaction.key,
                "choice": a.choice,
                "justification": a.justification,
                "correct": a.correct,
            }
            for a in answers
        ],
    }
    fingerprint = answers_fingerprint(
        attempt.drill_id, [(a.interaction.key, a.choice, a.justification) for a in answers]
    )
    earlier = Submission.objects.filter(
        learner_id=attempt.learner_id, attempt__drill_id=attempt.drill_id
    ).exclude(attempt=attempt)
    submission, created = Submission.objects.get_or_create(
        attempt=attempt,
        defaults={
            "learner_id": attempt.learner_id,
            "answer": text,
            "payload": payload,
            "fingerprint": fingerprint,
            "version": earlier.count() + 1,
        },
    )
    if created:
        # The newest attempt is the one to review; one still waiting becomes an earlier version.
        earlier.filter(status=Submission.Status.AWAITING, grade__isnull=True).update(
            status=Submission.Status.SUPERSEDED
        )
    return submission


def others_drafts(submission: Submission, grader):
    """Draft grades another grader left on submissions identical to this one."""
    return (
        Grade.objects.drafts()
        .filter(submission__in=identical_submissions(submission))
        .exclude(graded_by=grader)
        .exclude(graded_by__isnull=True)
        .select_related("submission__learner", "graded_by")
        .order_by("submission__created_at", "pk")
    )


def _grade_group(source: Submission, values: dict[str, Any], *, by,
                 replace_others: bool = False) -> tuple[list[Grade], int, list[Grade]]:
    """Copy a grade onto every identical submission whose grade is not released yet.

    A colleague's draft is replaced only when the grader, shown whose drafts they are, asked.
    """
    updated: list[Grade] = []
    skipped = 0
    kept: list[Grade] = []
    reason = f"Same answers as submission #{source.pk}"
    for member in identical_submissions(source).select_for_update():
        grade = Grade.objects.filter(submission=member).select_related("graded_by").first()
        if grade is not None and grade.released:
            skipped += 1
            continue
        if grade is not None and grade.graded_by is not None and grade.graded_by_id != by.pk:
            if not replace_others:
                kept.append(grade)
                continue
            reason = (f"Same answers as submission #{source.pk}; replaced "
                      f"{grade.graded_by.username}'s draft")
        if grade is None:
            grade = Grade.objects.create(submission=member, graded_by=by, **values)
            _audit(grade, action=GradeChange.Action.GROUP, by=by, old=None, reason=reason)
        else:
            old = _snapshot(grade)
            for name, value in values.items():
                setattr(grade, name, value)
            grade.graded_by = by
            grade.version = F("version") + 1
            grade.save()
            grade.refresh_from_db()
            _audit(grade, action=GradeChange.Action.GROUP, by=by, old=old, reason=reason)
        _set_status(member, Submission.Status.GRADED)
        updated.append(grade)
    return updated, skipped, kept


@transaction.atomic
def release_grade(*, grade: Grade, by, expected_version: int | None = None,
                  reason: str = "") -> Grade:
    if grade.released:
        raise GradingError("This grade has already been released.")
    query = Grade.objects.filter(pk=grade.pk, released=False)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    now = timezone.now()
    if not query.update(released=True, released_at=now, seen_at=None, version=F("version") + 1):
        raise GradeConflict(Grade.objects.select_related("graded_by").get(pk=grade.pk))
    grade.refresh_from_db()
    _audit(grade, action=GradeChange.Action.RELEASED, by=by,
           old={**_snapshot(grade), "released": False}, reason=reason)
    _set_status(grade.submission, Submission.Status.RETURNED)
    return grade


@transaction.atomic
def save_and_release(*, submission: Submission, grader, **grade: Any) -> SaveResult:
    """Save the grader's form and release that very grade, so nothing typed is left behind.

    With a regrade request open, this answers it and returns the grade to the learner.
    """
    result = save_grade(submission=submission, grader=grader, resolve_regrade=True, **grade)
    if not result.grade.released:
        result.grade = release_grade(
            grade=result.grade, by=grader, expected_version=result.grade.version
        )
    return result


def grades_of(assessment: Assessment, section: str = ""):
    """Every grade of one question or drill, oldest submission first.

    ``section`` (a section's slug) keeps the grades of that section's learners.
    """
    grades = Grade.objects.select_related("submission__learner", "graded_by")
    if assessment.is_drill:
        grades = grades.filter(submission__attempt__drill_id=assessment.pk)
    else:
        grades = grades.filter(submission__question_id=assessment.pk)
    return grades.in_section(section).order_by("submission__created_at", "pk")


def drafts_of(assessment: Assessment, section: str = ""):
    """The draft grades of one question or drill, oldest submission first."""
    return grades_of(assessment, section).drafts()


def ungraded_count(assessment: Assessment, section: str = "") -> int:
    """Hand-ins of one question or drill that nobody has graded yet."""
    submissions = Submission.objects.filter(grade__isnull=True).in_section(section)
    if assessment.is_drill:
        return submissions.filter(attempt__drill_id=assessment.pk).count()
    return submissions.filter(question_id=assessment.pk).count()


@dataclass
class ReleaseReport:
    released: list[Grade] = field(default_factory=list)
    # Listed on the confirmation but changed or released by someone else since.
    changed: list[Grade] = field(default_factory=list)
    gone: int = 0
    # Drafts saved after the confirmation was shown: not released, since nobody saw them.
    unlisted: int = 0


@transaction.atomic
def release_all(*, assessment: Assessment, by, listed: dict[int, int],
                section: str = "") -> ReleaseReport:
    """Release exactly the drafts the confirmation listed, at the versions it showed.

    ``listed`` maps grade ids to the versions on the confirmation page. A draft changed since
    is left alone and reported; a draft saved since was never shown, so it is not released.
    ``section`` is the section the confirmation listed, if one.
    """
    report = ReleaseReport()
    drafts = {g.pk: g for g in drafts_of(assessment, section).select_for_update(of=("self",))}
    for pk, version in listed.items():
        grade = drafts.pop(pk, None)
        if grade is None:
            changed = grades_of(assessment).filter(pk=pk).first()
            if changed is None:
                report.gone += 1
            else:
                report.changed.append(changed)
        elif grade.version != version:
            report.changed.append(grade)
        else:
            report.released.append(release_grade(grade=grade, by=by, expected_version=version))
    report.unlisted = len(drafts)
    return report


@transaction.atomic
def correct_grade(
    *,
    grade: Grade,
    by,
    score: Decimal,
    criteria: list[str],
    feedback: str,
    reason: str,
    expected_version: int,
) -> Grade:
    """Change a released grade openly: the learner is told it was corrected, and why."""
    if not grade.released:
        raise GradingError("This grade is still a draft: edit it instead of correcting it.")
    if not reason.strip():
        raise GradingError("Say why you are correcting this grade; the learner will read it.")
    assessment = for_submission(grade.submission)
    _check_score(assessment, score)
    criteria = assessment.known(criteria)
    old = _snapshot(grade)
    updated = Grade.objects.filter(pk=grade.pk, version=expected_version, released=True).update(
        score=score,
        max_score=assessment.max_score,
        criteria_met=criteria,
        rubric=assessment.snapshot(),
        feedback_markdown=feedback,
        feedback_html=render_markdown(feedback).html,
        graded_by=by,
        # Shown to the learner as new again, with the reason beside it.
        seen_at=None,
        updated_at=timezone.now(),
        version=F("version") + 1,
    )
    if not updated:
        raise GradeConflict(Grade.objects.select_related("graded_by").get(pk=grade.pk))
    grade.refresh_from_db()
    _audit(grade, action=GradeChange.Action.CORRECTED, by=by, old=old, reason=reason.strip())
    return grade


@transaction.atomic
def request_regrade(*, submission: Submission, learner, reason: str) -> RegradeRequest:
    if submission.learner_id != learner.pk:
        raise GradingError("You can only ask for a regrade of your own submission.")
    grade = Grade.objects.filter(submission=submission).first()
    if grade is None or not grade.released:
        raise GradingError("You can ask for a regrade once your grade has been released.")
    if RegradeRequest.objects.open().filter(submission=submission).exists():
        raise GradingError("You have already asked for a regrade; an instructor will answer it.")
    refusal = regrade_refusal(submission)
    if refusal:
        raise GradingError(refusal)
    try:
        with transaction.atomic():
            request = RegradeRequest.objects.create(
                submission=submission, reason=reason.strip(), score_before=grade.score
            )
            _set_status(submission, Submission.Status.AWAITING)
    except IntegrityError:
        # An identical request sent at the same moment got in first (one open regrade per
        # submission is a database constraint); this one is that one's repeat.
        raise GradingError(
            "You have already asked for a regrade; an instructor will answer it."
        ) from None
    return request


def regrade_refusal(submission: Submission) -> str:
    """Why the learner may not ask for another regrade of this grade now; empty if they may."""
    asked = RegradeRequest.objects.filter(submission=submission).count()
    most = settings.GRADING_REGRADES_PER_GRADE
    if asked >= most:
        return (
            f"You have asked for a regrade of this grade {asked} time{'s' * (asked != 1)}, the "
            f"most allowed ({most}). If something is still wrong, talk to your instructor."
        )
    waiting = RegradeRequest.objects.open().filter(
        submission__learner_id=submission.learner_id
    ).count()
    at_once = settings.GRADING_OPEN_REGRADES_PER_LEARNER
    if waiting >= at_once:
        return (
            f"You have {waiting} regrade request{'s' * (waiting != 1)} waiting for an answer, "
            f"the most at once ({at_once}). Ask about this grade once one is answered."
        )
    return ""


def mark_seen(*, grade: Grade) -> None:
    if grade.released and grade.seen_at is None:
        grade.seen_at = timezone.now()
        Grade.objects.filter(pk=grade.pk, seen_at__isnull=True).update(seen_at=grade.seen_at)


def add_snippet(*, submission: Submission, author, text: str) -> FeedbackSnippet:
    assessment = for_submission(submission)
    if assessment.is_drill:
        return FeedbackSnippet.objects.create(drill_id=assessment.pk, author=author, text=text)
    return FeedbackSnippet.objects.create(question_id=assessment.pk, author=author, text=text)


# Rubrics ------------------------------------------------------------------------------------


def rubric_digest(rubric: list[dict]) -> str:
    """Names one state of a rubric, so an edit based on an older one is refused."""
    data = json.dumps(rubric, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _ids_ever_used(question: Question) -> set[str]:
    # A removed criterion's id stays taken: grades given on it still name it.
    used = {str(c.get("id")) for c in question.rubric or []}
    for rubric in Grade.objects.filter(submission__question=question).values_list(
        "rubric", flat=True
    ):
        used |= {str(c.get("id")) for c in rubric or []}
    for old, new in RubricChange.objects.filter(question=question).values_list(
        "old_rubric", "new_rubric"
    ):
        used |= {str(c.get("id")) for c in [*(old or []), *(new or [])]}
    return used


def _rubric_total(rubric: list[dict], met: list[str], most: Decimal) -> Decimal:
    chosen = set(met)
    total = sum((Decimal(str(c["points"])) for c in rubric if c["id"] in chosen), Decimal(0))
    return min(total, most)


@dataclass
class RubricEdit:
    change: RubricChange
    drafts_changed: int = 0
    released_changed: int = 0


@transaction.atomic
def edit_rubric(*, question: Question, by, criteria: list[dict], apply_to_grades: bool,
                reason: str, expected_digest: str, max_score: int | None = None) -> RubricEdit:
    """Replace a question's rubric (and maximum), and bring the existing grades along if asked.

    ``criteria`` lists {"id" (None for a new criterion), "label", "points"} in the new order.
    Applied, a grade keeps the criteria it met that still exist; a score that was the rubric's
    total becomes the new total, while a score the grader typed is kept, capped at the new
    maximum. A released grade that changes is a correction the learner is told about, with
    ``reason``. A new maximum must be applied when grades exist, since a grade left out of the
    old maximum would count differently from every other.
    """
    question = Question.objects.select_for_update().get(pk=question.pk)
    old_rubric = list(question.rubric or [])
    if rubric_digest(old_rubric) != expected_digest:
        raise GradingError(
            "Someone changed this rubric while you were editing it. Their rubric is shown "
            "below; your rows are still in the form. Save again to replace it with yours."
        )
    if not reason.strip():
        raise GradingError("Say what changed and why; it is kept in the rubric's history.")
    known = {str(c["id"]) for c in old_rubric}
    taken = _ids_ever_used(question)
    new_rubric = []
    for item in criteria:
        cid = str(item.get("id") or "")
        if cid and cid not in known:
            raise GradingError("The form named a criterion this rubric does not have. Reload it.")
        if not cid:
            cid = next_id(taken)
            taken.add(cid)
        new_rubric.append({"id": cid, "label": str(item["label"]).strip(),
                           "points": int(item["points"])})
    if not new_rubric and not old_rubric:
        raise GradingError("Add at least one criterion.")
    old_max = question.max_score
    new_max = old_max if max_score is None else max_score
    if new_max < 1:
        raise GradingError("The maximum score must be at least 1.")
    graded = Grade.objects.filter(submission__question=question)
    if new_max != old_max and not apply_to_grades and graded.exists():
        raise GradingError(f"A new maximum changes what every grade is out of, so it must be "
                           f"applied to the existing grades. Apply it, or keep the maximum at "
                           f"{old_max}.")
    question.rubric = new_rubric
    question.max_score = new_max
    question.save()
    edit = RubricEdit(change=RubricChange(
        question=question, changed_by=by, old_rubric=old_rubric, new_rubric=question.rubric,
        applied=apply_to_grades, reason=reason.strip(), old_max_score=old_max,
        new_max_score=new_max,
    ))
    if apply_to_grades:
        snapshot = from_question(question).snapshot()
        ids = [c["id"] for c in snapshot]
        most = Decimal(new_max)
        maximum_note = (f" The question is now out of {new_max} instead of {old_max}."
                        if new_max != old_max else "")
        for grade in graded.select_for_update().order_by("pk"):
            met = [cid for cid in ids if cid in set(grade.criteria_met or [])]
            followed = grade.score == _rubric_total(grade.rubric, grade.criteria_met,
                                                    grade.max_score)
            score = _rubric_total(snapshot, met, most) if followed else min(grade.score, most)
            if (grade.rubric, list(grade.criteria_met), grade.score, grade.max_score) == (
                    snapshot, met, score, most):
                continue
            old = _snapshot(grade)
            changes: dict[str, Any] = {"rubric": snapshot, "criteria_met": met, "score": score,
                                       "max_score": most, "updated_at": timezone.now()}
            if grade.released:
                changes["seen_at"] = None
            Grade.objects.filter(pk=grade.pk).update(version=F("version") + 1, **changes)
            grade.refresh_from_db()
            action = GradeChange.Action.CORRECTED if grade.released else GradeChange.Action.RUBRIC
            _audit(grade, action=action, by=by, old=old, reason=f"Rubric changed: "
                   f"{reason.strip()}{maximum_note}")
            if grade.released:
                edit.released_changed += 1
            else:
                edit.drafts_changed += 1
    edit.change.grades_changed = edit.drafts_changed + edit.released_changed
    edit.change.save()
    return edit


def grades_on(question: Question) -> tuple[int, int]:
    """How many draft and released grades a question has."""
    grades = Grade.objects.filter(submission__question=question)
    return grades.drafts().count(), grades.released().count()


# Claims -------------------------------------------------------------------------------------


def claim_length() -> timedelta:
    return timedelta(minutes=settings.GRADING_CLAIM_MINUTES)


def claim(*, submission: Submission, grader) -> bool:
    """Hold ``submission`` for ``grader``; False when another grader holds it.

    Safe against a race: the claim row is unique per submission, and a lapsed or own claim is
    taken over only by an update whose condition the database checks on the row itself.
    """
    now = timezone.now()
    taken = Claim.objects.filter(submission=submission).filter(
        Q(expires_at__lte=now) | Q(grader=grader)
    ).update(grader=grader, claimed_at=now, expires_at=now + claim_length())
    if taken:
        return True
    try:
        with transaction.atomic():
            Claim.objects.create(submission=submission, grader=grader, claimed_at=now,
                                 expires_at=now + claim_length())
    except IntegrityError:
        # Someone else's claim row exists, and it is neither lapsed nor ours.
        return False
    return True


def claim_next(*, grader, filters: dict, after: Submission | None = None) -> Submission | None:
    """Claim the next submission of the queue nobody else holds, and return it."""
    for candidate in in_walk_order(after, filters, grader):
        if claim(submission=candidate, grader=grader):
            return candidate
    return None


def let_go(*, submission: Submission, grader) -> None:
    """Give up one's claim: the work is saved, or left for a colleague."""
    Claim.objects.filter(submission=submission, grader=grader).delete()


def holder(submission: Submission) -> Claim | None:
    return Claim.objects.active().filter(submission=submission).select_related("grader").first()


def set_anonymous(*, question: Question, by, anonymous: bool) -> GradingOptions:
    options, _ = GradingOptions.objects.update_or_create(
        question=question, defaults={"anonymous": anonymous, "changed_by": by}
    )
    return options


# Due dates and extensions -------------------------------------------------------------------


def _assessment_fields(assessment: Assessment) -> dict[str, int]:
    return {"drill_id": assessment.pk} if assessment.is_drill else {"question_id": assessment.pk}


def _check_percent(value: Decimal, what: str) -> None:
    if not Decimal(0) <= value <= Decimal(100):
        raise GradingError(f"The {what} is a percent from 0 to 100.")


def set_due_date(*, section: Section, assessment: Assessment, due_at, by,
                 penalty_per_day: Decimal = Decimal(0),
                 penalty_cap: Decimal = Decimal(100)) -> DueDate:
    """Set (or move) one section's due date for a question or drill, with its late policy."""
    _check_percent(penalty_per_day, "daily penalty")
    _check_percent(penalty_cap, "penalty cap")
    values = {"due_at": due_at, "penalty_per_day": penalty_per_day,
              "penalty_cap": penalty_cap, "set_by": by}
    where: dict[str, Any] = {"section": section, **_assessment_fields(assessment)}
    try:
        with transaction.atomic():
            due, _ = DueDate.objects.update_or_create(**where, defaults=values)
    except IntegrityError:
        # Two instructors setting the same date at once: the second updates the first's row.
        with transaction.atomic():
            due, _ = DueDate.objects.update_or_create(**where, defaults=values)
    return due


def remove_due_date(*, section: Section, assessment: Assessment) -> bool:
    deleted, _ = DueDate.objects.filter(section=section, **_assessment_fields(assessment)).delete()
    return bool(deleted)


def grant_extension(*, learner, assessment: Assessment, due_at, by,
                    reason: str = "") -> Extension:
    """Give one learner a due date of their own; a second grant moves the first."""
    values = {"due_at": due_at, "reason": reason.strip(), "granted_by": by}
    where: dict[str, Any] = {"learner": learner, **_assessment_fields(assessment)}
    try:
        with transaction.atomic():
            extension, _ = Extension.objects.update_or_create(**where, defaults=values)
    except IntegrityError:
        with transaction.atomic():
            extension, _ = Extension.objects.update_or_create(**where, defaults=values)
    return extension


def revoke_extension(*, learner, assessment: Assessment) -> bool:
    deleted, _ = Extension.objects.filter(
        learner=learner, **_assessment_fields(assessment)
    ).delete()
    return bool(deleted)


# Scheduled releases -------------------------------------------------------------------------


@dataclass
class ScheduleReport:
    scheduled: list[ScheduledRelease] = field(default_factory=list)
    # Listed drafts that changed (or were released) after the page listing them was shown.
    changed: list[Grade] = field(default_factory=list)
    gone: int = 0
    # Earlier schedules of the same grades, replaced by this one.
    replaced: int = 0
    task_id: str = ""


@transaction.atomic
def schedule_releases(*, listed: dict[int, int], release_at, by,
                      assessment: Assessment | None = None) -> ScheduleReport:
    """Schedule exactly the listed drafts (grade id: version seen) for release at ``release_at``.

    Only drafts still at the version the instructor saw are scheduled; the task releases each
    only if it is still at that version then. One task releases the whole batch.
    """
    report = ScheduleReport()
    grades = Grade.objects.select_related("submission__learner").select_for_update(of=("self",))
    if assessment is not None:
        grades = grades.filter(pk__in=grades_of(assessment).values("pk"))
    found = {grade.pk: grade for grade in grades.filter(pk__in=list(listed))}
    batch = uuid.uuid4()
    for pk, version in listed.items():
        grade = found.get(pk)
        if grade is None:
            report.gone += 1
        elif grade.released or grade.version != version:
            report.changed.append(grade)
        else:
            report.replaced += ScheduledRelease.objects.pending().filter(grade=grade).update(
                outcome=ScheduledRelease.Outcome.CANCELLED, finished_at=timezone.now(),
                note="Replaced by a later schedule.",
            )
            report.scheduled.append(ScheduledRelease.objects.create(
                grade=grade, grade_version=version, batch=batch, release_at=release_at,
                scheduled_by=by,
            ))
    if report.scheduled:
        report.task_id = enqueue_release(batch=batch, release_at=release_at)
        ScheduledRelease.objects.filter(batch=batch).update(task_id=report.task_id)
        for row in report.scheduled:
            row.task_id = report.task_id
    return report


def pending_release_of(grade: Grade) -> ScheduledRelease | None:
    return ScheduledRelease.objects.pending().filter(grade=grade).first()


def cancel_scheduled_release(*, scheduled: ScheduledRelease, by) -> bool:
    """Call off a release that has not happened; False when it already ran or was cancelled."""
    who = getattr(by, "username", "someone")
    return bool(ScheduledRelease.objects.pending().filter(pk=scheduled.pk).update(
        outcome=ScheduledRelease.Outcome.CANCELLED, finished_at=timezone.now(),
        note=f"Cancelled by {who}.",
    ))


@dataclass
class BatchOutcome:
    released: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    not_due: list[int] = field(default_factory=list)


def run_scheduled_releases(*, batch: uuid.UUID, now=None) -> BatchOutcome:
    """Release what a batch scheduled, each grade only as it stood when it was scheduled.

    Safe to run any number of times: a row is handled once, under a lock, and a second run finds
    nothing pending. Rows not due yet are left for a later run.
    """
    now = now or timezone.now()
    outcome = BatchOutcome()
    with transaction.atomic():
        rows = list(
            ScheduledRelease.objects.pending().filter(batch=batch)
            .select_related("scheduled_by").select_for_update(of=("self",))
            .order_by("pk")
        )
        for row in rows:
            if row.release_at > now:
                outcome.not_due.append(row.grade_id)
                continue
            grade = Grade.objects.select_for_update().get(pk=row.grade_id)
            note = ""
            if grade.released:
                note = "Already released by hand before the set time."
            elif grade.version != row.grade_version:
                note = ("Changed after it was scheduled, so it was not released. Check it, "
                        "then release or schedule it again.")
            else:
                try:
                    release_grade(grade=grade, by=row.scheduled_by,
                                  expected_version=row.grade_version,
                                  reason="Released at the scheduled time.")
                except GradingError:
                    note = "Changed while being released, so it was not released."
            row.outcome = (ScheduledRelease.Outcome.SKIPPED if note
                           else ScheduledRelease.Outcome.RELEASED)
            row.note, row.finished_at = note, timezone.now()
            row.save(update_fields=["outcome", "note", "finished_at"])
            (outcome.skipped if note else outcome.released).append(row.grade_id)
    return outcome
