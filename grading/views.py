import json
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, push_url

from config.http import HtmxHttpRequest
from courseware.models import Question, Section, SectionMembership
from grading import anonymity, export, services
from grading.assessments import (
    all_assessments,
    drill_review,
    for_submission,
    from_question,
    submission_title,
)
from grading.deadlines import lateness_of
from grading.forms import (
    BaseCriterionFormSet,
    CriterionFormSet,
    GradeForm,
    QueueFilterForm,
    RegradeRequestForm,
    ReleaseForm,
    RubricEditForm,
    ScheduleReleaseForm,
    SnippetForm,
)
from grading.gradebook import gradebook_page
from grading.models import (
    FeedbackSnippet,
    Grade,
    GradeChange,
    RegradeRequest,
    RubricChange,
    Submission,
)
from grading.permissions import GRADE, GRADEBOOK, RELEASE, perms_required
from grading.queue import (
    apply_filters,
    assessment_choices,
    next_submission,
    queue_counts,
    queue_queryset,
)
from grading.scores import EMPTY, cell_key, scores
from grading.statistics import class_statistics

QUEUE_PAGE_SIZE = 25
GRADEBOOK_PAGE_SIZE = 50


def queue_filters(request: HtmxHttpRequest, assessments=None) -> tuple[QueueFilterForm, dict]:
    assessments = assessments if assessments is not None else all_assessments()
    keys = ("assessment", "status", "learner", "section")
    form = QueueFilterForm(
        request.GET if any(k in request.GET for k in keys) else None,
        assessment_choices=assessment_choices(assessments),
    )
    return form, form.filters()


def filter_query(filters: dict) -> str:
    """The queue's filters as a query string, carried from page to page while grading."""
    kept = {k: v for k, v in filters.items() if v and not (k == "status" and v == "awaiting")}
    return urlencode(kept)


def grade_url(submission: Submission, query: str) -> str:
    url = reverse("grading:grade", args=[submission.pk])
    return f"{url}?{query}" if query else url


# Queue --------------------------------------------------------------------------------------


@require_safe
@perms_required(GRADE)
def queue(request: HtmxHttpRequest) -> HttpResponse:
    assessments = all_assessments()
    form, filters = queue_filters(request, assessments)
    submissions = apply_filters(queue_queryset(), filters)
    page = Paginator(submissions, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    anonymity.label_all(page.object_list)
    late = lateness_of(page.object_list)
    for submission in page.object_list:
        submission.lateness = late.get(submission.pk)
    query = filter_query(filters)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "query": query,
        "counts": queue_counts(assessments, section=filters.get("section", "")),
        "can_release": request.user.has_perms(RELEASE),
    }
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, "grading/queue.html#results", context)
    return render(request, "grading/queue.html", context)


@require_POST
@perms_required(GRADE)
def claim_next(request: HtmxHttpRequest) -> HttpResponse:
    """Hold the next free submission of the (filtered) queue and open it."""
    _, filters = queue_filters(request)
    query = filter_query(filters)
    claimed = services.claim_next(grader=request.user, filters=filters)
    if claimed is None:
        messages.info(request, "Nothing in this queue is free to claim: what is left is held "
                               "by other graders.")
        url = f"{reverse('grading:queue')}?{query}" if query else reverse("grading:queue")
    else:
        minutes = settings.GRADING_CLAIM_MINUTES
        messages.success(request, f"You hold {anonymity.name(claimed)}'s submission for "
                                  f"{minutes} minutes; other graders skip it.")
        url = grade_url(claimed, query)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@perms_required(GRADE)
def let_go(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    submission = load_submission(pk)
    services.let_go(submission=submission, grader=request.user)
    messages.info(request, "You let go of this submission; another grader may take it.")
    _, filters = queue_filters(request)
    return redirect(grade_url(submission, filter_query(filters)))


# Grading one submission ---------------------------------------------------------------------


def load_submission(pk: int) -> Submission:
    return get_object_or_404(
        Submission.objects.select_related("learner", "question__lesson", "attempt__drill"), pk=pk
    )


def grading_context(request: HtmxHttpRequest, submission: Submission, *, form=None, conflict=None,
                    error: str = "", notice: str = "", correction_form=None,
                    schedule_form=None) -> dict:
    assessment = for_submission(submission)
    grade = Grade.objects.select_related("graded_by").filter(submission=submission).first()
    regrade = RegradeRequest.objects.open().filter(submission=submission).first()
    snippets = FeedbackSnippet.objects.for_submission(submission).select_related("author")
    group = list(services.identical_submissions(submission).select_related(
        "learner", "grade__graded_by"
    ))
    anonymity.label_all([submission, *group])
    _, filters = queue_filters(request)
    query = filter_query(filters)
    locked = bool(grade and grade.released and regrade is None)
    # A refused save brings the grader's own form back, even onto a grade released meanwhile.
    kept = form is not None and locked
    if form is None and not locked:
        initial: dict[str, Any] = {"version": 0}
        if grade is not None:
            initial = {
                "version": grade.version,
                "criteria": grade.criteria_met,
                # As the grader typed it: 5, not 5.00.
                "score": f"{grade.score.normalize():f}",
                "feedback": grade.feedback_markdown,
            }
        if grade is not None and regrade is not None and regrade.is_drafted:
            initial |= {
                "criteria": regrade.draft_criteria,
                "score": f"{(regrade.draft_score or grade.score).normalize():f}",
                "feedback": regrade.draft_feedback,
                "regrade_answer": regrade.draft_answer,
            }
        form = GradeForm(
            initial=initial,
            assessment=assessment,
            snippets=snippets,
            group_size=len(group),
            others=others_labels(submission, request.user) if group else None,
            regrade=regrade is not None,
        )
    if (correction_form is None and grade is not None and locked and not kept
            and request.user.has_perms(RELEASE)):
        correction_form = GradeForm(
            initial={
                "version": grade.version,
                "criteria": grade.criteria_met,
                "score": f"{grade.score.normalize():f}",
                "feedback": grade.feedback_markdown,
            },
            assessment=assessment,
            correction=True,
            auto_id="id_correct_%s",
        )
    versions = Submission.objects.versions_of(submission).select_related("grade")
    past_regrades = submission.regrade_requests.select_related("answered_by")
    if regrade is not None:
        past_regrades = past_regrades.exclude(pk=regrade.pk)
    lateness = lateness_of([submission]).get(submission.pk)
    return {
        "lateness": lateness,
        "counted": lateness.apply(grade.score) if lateness and grade else None,
        "scheduled": services.pending_release_of(grade) if grade else None,
        "schedule_form": schedule_form or ScheduleReleaseForm(),
        "versions": [v for v in versions if v.pk != submission.pk],
        "correction_form": correction_form,
        "submission": submission,
        "assessment": assessment,
        "grade": grade,
        "grade_labels": grade.labels(grade.criteria_met) if grade else [],
        "grade_rubric_outdated": bool(grade and grade.rubric != assessment.snapshot()),
        "conflict_labels": conflict.labels(conflict.criteria_met) if conflict else [],
        "rubric_points": json.dumps({c.id: float(c.points) for c in assessment.rubric}),
        "regrade": regrade,
        "past_regrades": past_regrades,
        "history": grade.changes.select_related("changed_by") if grade else [],
        # Edits of the rubric since this grade was given; applied ones also left a line above.
        "rubric_changes": RubricChange.objects.filter(
            question_id=submission.question_id, changed_at__gte=grade.created_at
        ).select_related("changed_by") if grade and submission.question_id else [],
        "snippets": snippets,
        "snippet_form": SnippetForm(),
        "group": group,
        "form": form,
        "locked": locked,
        "kept": kept,
        "conflict": conflict,
        "error": error,
        "notice": notice,
        "query": query,
        "filters": filters,
        "drill": drill_review(submission),
        "can_release": request.user.has_perms(RELEASE),
        "next_submission": next_submission(submission, filters, request.user),
        "claim": services.holder(submission),
    }


def render_grading(request: HtmxHttpRequest, submission: Submission, *, status: int = 200,
                   **kwargs) -> HttpResponse:
    context = grading_context(request, submission, **kwargs)
    if request.htmx:
        # htmx only swaps successful responses; the panel carries its own error message.
        response = render(request, "grading/grade.html#panel", context)
        return push_url(response, grade_url(submission, context["query"]))
    return render(request, "grading/grade.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@perms_required(GRADE)
def grade(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    submission = load_submission(pk)
    if request.method != "POST":
        return render_grading(request, submission)

    assessment = for_submission(submission)
    regrade = RegradeRequest.objects.open().filter(submission=submission).exists()
    snippets = FeedbackSnippet.objects.for_submission(submission)
    group_size = services.identical_submissions(submission).count()
    others = others_labels(submission, request.user) if group_size else None
    form = GradeForm(
        request.POST, assessment=assessment, snippets=snippets, group_size=group_size,
        regrade=regrade, others=others,
    )
    if not form.is_valid():
        return render_grading(request, submission, form=form, status=422)
    data = form.cleaned_data
    releasing = request.POST.get("action") == "release"
    if releasing and regrade and not data.get("regrade_answer", "").strip():
        form.add_error("regrade_answer", "Answer the learner's regrade request before "
                                         "returning it; or save your answer as a draft.")
        return render_grading(request, submission, form=form, status=422)
    if releasing and not request.user.has_perms(RELEASE):
        # Refused like any other save that cannot go through: the grader's text stays in the form.
        error = (
            "Your account may grade but not release grades, so nothing was saved. Your text is "
            "still in the form: save it as a draft and another instructor will release it."
        )
        form.add_error(None, error)
        return render_grading(request, submission, form=form, error=error, status=403)
    save = services.save_and_release if releasing else services.save_grade
    try:
        result = save(
            submission=submission,
            grader=request.user,
            score=data["score"],
            criteria=data["criteria"],
            feedback=data["feedback"],
            expected_version=data["version"],
            regrade_answer=data.get("regrade_answer", ""),
            apply_to_group=data.get("apply_to_group", False),
            replace_others=data.get("replace_others", False),
        )
    except services.GradeConflict as conflict:
        # Keep the grader's own text, and base a new save on the grade they have now seen.
        post = request.POST.copy()
        post["version"] = str(conflict.current.version)
        post.pop("snippet", None)
        post["feedback"] = data["feedback"]
        form = GradeForm(
            post, assessment=assessment, snippets=snippets, group_size=group_size,
            regrade=regrade, others=others,
        )
        return render_grading(
            request, submission, form=form, conflict=conflict.current, error=str(conflict),
            status=409,
        )
    except services.GradeLocked as exc:
        # Released meanwhile: the released grade is shown beside the grader's kept text.
        current = Grade.objects.select_related("graded_by").get(submission=submission)
        return render_grading(request, submission, form=form, conflict=current, error=str(exc),
                              status=409)
    except services.GradingError as exc:
        form.add_error(None, str(exc))
        return render_grading(request, submission, form=form, error=str(exc), status=409)

    notice = saved_notice(submission, result, regrade=regrade, released=releasing)
    _, filters = queue_filters(request)
    target = submission
    if request.POST.get("action") == "next":
        # Claimed as it is handed out, so two graders pressing "next" never get the same one.
        following = services.claim_next(grader=request.user, filters=filters, after=submission)
        if following is None:
            held = apply_filters(queue_queryset(), filters).filter(
                held_by_id__isnull=False).exclude(held_by_id=request.user.pk).count()
            rest = f" {held} more {'are' if held != 1 else 'is'} held by other graders." \
                if held else ""
            messages.success(request, f"{notice} Nothing else is waiting in this queue.{rest}")
            queue_url = f"{reverse('grading:queue')}?{filter_query(filters)}"
            if request.htmx:
                return HttpResponseClientRedirect(queue_url)
            return redirect(queue_url)
        target = following
    if request.htmx:
        return render_grading(request, load_submission(target.pk), notice=notice)
    messages.success(request, notice)
    return redirect(grade_url(target, filter_query(filters)))


def saved_notice(submission: Submission, result: services.SaveResult, *, regrade: bool,
                 released: bool = False) -> str:
    who = anonymity.name(submission)
    if result.regrade_drafted:
        notice = (f"Saved your answer to {who}'s regrade request as a draft; {who} sees nothing "
                  "new until you return it.")
    elif regrade:
        notice = f"Answered {who}'s regrade request and returned the grade."
    elif released:
        notice = f"Saved and released {who}'s grade ({result.grade.score.normalize():f})."
    else:
        notice = f"Saved {who}'s grade as a draft ({result.grade.score.normalize():f})."
    if result.group_updated:
        count = len(result.group_updated)
        notice += f" The same grade went to {count} identical submission{'s' * (count != 1)}."
    if result.group_skipped:
        notice += f" {result.group_skipped} already released were left alone."
        if regrade:
            notice += " Correct those one by one if the regrade applies to them too."
    if result.group_kept:
        notice += " Drafts by other graders were kept: " + "; ".join(
            others_label(grade) for grade in result.group_kept
        ) + ". Tick “replace” to overwrite them."
    return notice


def others_label(grade: Grade) -> str:
    """Names another grader's draft; such a draft always has its grader."""
    assert grade.graded_by is not None, "a draft by another grader names its grader"
    return f"{grade.graded_by.username} for {anonymity.name(grade.submission)}"


def others_labels(submission: Submission, grader) -> list[str]:
    """Whose drafts an "apply to identical submissions" would replace, named for the grader."""
    return [others_label(grade) for grade in services.others_drafts(submission, grader)]


@require_POST
@perms_required(RELEASE)
def release(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    submission = load_submission(pk)
    grade = get_object_or_404(Grade, submission=submission)
    form = ReleaseForm(request.POST)
    error = notice = ""
    if not form.is_valid():
        error = "The release form was incomplete. Reload the page and try again."
    else:
        try:
            services.release_grade(
                grade=grade, by=request.user, expected_version=form.cleaned_data["version"]
            )
            notice = f"Released to {submission.learner.username}."  # released: named again
            submission.refresh_from_db(fields=["status"])
        except services.GradeConflict as conflict:
            error = (
                "The grade changed after you opened this page, so it was not released. "
                "Check the grade below, then release it."
            )
            return render_grading(request, submission, conflict=conflict.current, error=error,
                                  status=409)
        except services.GradingError as exc:
            error = str(exc)
    if request.htmx:
        return render_grading(request, submission, error=error, notice=notice)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    _, filters = queue_filters(request)
    return redirect(grade_url(submission, filter_query(filters)))


@require_POST
@perms_required(RELEASE)
def correct(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Change a released grade openly, with a reason the learner reads."""
    submission = load_submission(pk)
    grade = get_object_or_404(Grade, submission=submission)
    form = GradeForm(request.POST, assessment=for_submission(submission), correction=True,
                     auto_id="id_correct_%s")
    if not form.is_valid():
        return render_grading(request, submission, correction_form=form, status=422)
    data = form.cleaned_data
    try:
        services.correct_grade(
            grade=grade, by=request.user, score=data["score"], criteria=data["criteria"],
            feedback=data["feedback"], reason=data["reason"], expected_version=data["version"],
        )
    except services.GradeConflict as conflict:
        post = request.POST.copy()
        post["version"] = str(conflict.current.version)
        form = GradeForm(post, assessment=for_submission(submission), correction=True,
                         auto_id="id_correct_%s")
        return render_grading(request, submission, correction_form=form,
                              conflict=conflict.current, error=str(conflict), status=409)
    except services.GradingError as exc:
        # A draft again is not possible, so this is a grade no longer released: keep the text.
        form.add_error(None, str(exc))
        return render_grading(request, submission, form=form, error=str(exc), status=409)
    notice = f"Corrected {submission.learner.username}'s grade; they are told why."  # released
    if request.htmx:
        return render_grading(request, load_submission(pk), notice=notice)
    messages.success(request, notice)
    _, filters = queue_filters(request)
    return redirect(grade_url(submission, filter_query(filters)))


@require_http_methods(["GET", "HEAD", "POST"])
@perms_required(RELEASE)
def release_all(request: HtmxHttpRequest) -> HttpResponse:
    """Release every draft of one question or drill, after a confirmation page listing them."""
    key = (request.POST if request.method == "POST" else request.GET).get("assessment", "")
    assessment = next((a for a in all_assessments() if a.key == key), None)
    if assessment is None:
        return render(
            request, "400.html", {"reason": "That question or drill does not exist."}, status=400
        )
    _, filters = queue_filters(request)
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        section = filters.get("section", "")
        drafts = list(services.drafts_of(assessment, section))
        anonymity.label_all(grade.submission for grade in drafts)
        context = {
            "assessment": assessment,
            "drafts": drafts,
            "section": chosen_section(request)[0] if section else None,
            "ungraded": services.ungraded_count(assessment, section),
            "query": filter_query(filters),
            "schedule_form": ScheduleReleaseForm(),
        }
        return render(request, "grading/release_all.html", context)
    try:
        listed = dict(_listed_grade(value) for value in request.POST.getlist("grade"))
    except ValueError:
        return render(request, "400.html", {
            "reason": "The list of grades to release was damaged. Open the page again."
        }, status=400)
    report = services.release_all(assessment=assessment, by=request.user, listed=listed,
                                  section=filters.get("section", ""))
    title = shorten(assessment.title)
    count = len(report.released)
    if count:
        messages.success(request, f"Released {count} grade{'s' * (count != 1)} of “{title}”.")
    elif not listed:
        messages.info(request, "There were no draft grades to release for that question.")
    if report.changed:
        names = ", ".join(anonymity.name(g.submission) for g in report.changed)
        messages.warning(
            request,
            f"Not released, because they changed after you confirmed: {names}. "
            "Check them, then release them.",
        )
    if report.gone:
        messages.warning(request, f"Listed grades no longer there, skipped: {report.gone}.")
    if report.unlisted:
        messages.info(
            request,
            f"{report.unlisted} draft{'s' * (report.unlisted != 1)} saved after you confirmed "
            f"{'were' if report.unlisted != 1 else 'was'} not released.",
        )
    return redirect(f"{reverse('grading:queue')}?{filter_query(filters)}")


def _listed_grade(value: str) -> tuple[int, int]:
    """A "grade id:version" pair from the confirmation form."""
    pk, _, version = value.partition(":")
    return int(pk), int(version)


def shorten(text: str, limit: int = 60) -> str:
    """At most ``limit`` characters, cut between words."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}…"


# Snippets -----------------------------------------------------------------------------------


@require_POST
@perms_required(GRADE)
def add_snippet(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    submission = load_submission(pk)
    form = SnippetForm(request.POST)
    if form.is_valid():
        services.add_snippet(submission=submission, author=request.user,
                             text=form.cleaned_data["text"])
        if not request.htmx:
            messages.success(request, "Comment saved for this question.")
            _, filters = queue_filters(request)
            return redirect(grade_url(submission, filter_query(filters)))
        form = SnippetForm()
    context = grading_context(request, submission)
    context["snippet_form"] = form
    if request.htmx:
        return render(request, "grading/grade.html#snippets", context)
    return render(request, "grading/grade.html", context, status=422)


@require_POST
@perms_required(GRADE)
def delete_snippet(request: HtmxHttpRequest, pk: int, snippet_pk: int) -> HttpResponse:
    submission = load_submission(pk)
    snippet = get_object_or_404(
        FeedbackSnippet.objects.for_submission(submission), pk=snippet_pk
    )
    if snippet.author_id != request.user.pk:
        raise PermissionDenied("You can only remove comments you saved yourself.")
    snippet.delete()
    if request.htmx:
        return render(request, "grading/grade.html#snippets", grading_context(request, submission))
    messages.success(request, "Comment removed.")
    _, filters = queue_filters(request)
    return redirect(grade_url(submission, filter_query(filters)))


# Gradebook and exports ----------------------------------------------------------------------


def chosen_section(request: HtmxHttpRequest) -> tuple[Section | None, str]:
    """The section named by ?section=, or an error saying it does not exist."""
    slug = request.GET.get("section", "")
    if not slug:
        return None, ""
    section = Section.objects.filter(slug=slug).order_by("pk").first()
    if section is None:
        return None, f"There is no section “{slug}”. Choose one of the sections listed."
    return section, ""


@require_safe
@perms_required(GRADEBOOK)
def gradebook(request: HtmxHttpRequest) -> HttpResponse:
    section, error = chosen_section(request)
    if error:
        return render(request, "400.html", {"reason": error}, status=400)
    slug = section.slug if section else ""
    book, page = gradebook_page(
        sort=request.GET.get("sort", ""), page=request.GET.get("page"),
        per_page=GRADEBOOK_PAGE_SIZE, section=slug,
    )
    context = {
        "book": book, "page": page, "sort": book.sort, "section": section,
        "section_query": f"&section={slug}" if slug else "",
        "sections": Section.objects.order_by("title", "pk"),
        "roster": SectionMembership.objects.filter(section=section)
        .select_related("user").order_by("role", "user__username") if section else [],
    }
    if request.htmx:
        return render(request, "grading/gradebook.html#table", context)
    return render(request, "grading/gradebook.html", context)


@require_safe
@perms_required(GRADEBOOK)
def gradebook_csv(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    unknown = sorted(set(request.GET) - {"section"})
    if unknown:
        return render(request, "400.html", {
            "reason": f"Unknown filter: {', '.join(unknown)}. The gradebook filters by section."
        }, status=400)
    section, error = chosen_section(request)
    if error:
        return render(request, "400.html", {"reason": error}, status=400)
    slug = section.slug if section else ""
    name = f"gradebook-{slug}.csv" if slug else "gradebook.csv"
    return export.csv_response(export.gradebook_rows(section=slug), name)


@require_safe
@perms_required(GRADEBOOK)
def submissions_csv(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    # An export must hold what was asked for: a bad filter is refused, not ignored.
    unknown = sorted(set(request.GET) - {"assessment", "status", "learner", "section"})
    if unknown:
        return render(request, "400.html", {
            "reason": f"Unknown filter: {', '.join(unknown)}. Filter by assessment, status, "
            "learner or section."
        }, status=400)
    form, filters = queue_filters(request)
    if form.is_bound and not form.is_valid():
        reasons = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return render(request, "400.html", {"reason": reasons}, status=400)
    if "status" not in request.GET:
        filters["status"] = "all"
    return export.csv_response(export.submission_rows(filters), "submissions.csv")


@require_safe
@perms_required(GRADEBOOK)
def statistics(request: HtmxHttpRequest) -> HttpResponse:
    attempts = request.GET.get("attempts", "first")
    if attempts not in ("first", "all"):
        return render(request, "400.html",
                      {"reason": "Attempts are counted “first” or “all”."}, status=400)
    stats = class_statistics(first_attempts_only=attempts == "first")
    return render(request, "grading/statistics.html", {"stats": stats, "figure": stats.figure()})


# The learner's side -------------------------------------------------------------------------


@require_safe
@login_required
def my_submissions(request: HtmxHttpRequest) -> HttpResponse:
    submissions = list(
        Submission.objects.for_learner(request.user)
        .select_related("question__lesson", "attempt__drill", "grade")
        .order_by("-created_at")
    )
    items = []
    late = lateness_of(submissions)
    for s in submissions:
        assessment = for_submission(s)
        lateness = late.get(s.pk)
        grade = s.released_grade
        items.append({"submission": s, "assessment": assessment, "grade": grade,
                      "title": submission_title(s, assessment), "lateness": lateness,
                      "counted": lateness.apply(grade.score) if lateness and grade else None})
    released = [item for item in items if item["grade"]]
    # The total is read like the gradebook reads it, once per question or drill graded.
    graded = {item["assessment"].key: item["assessment"] for item in released}
    learner_id = request.user.pk
    assert learner_id is not None, "login_required lets only a signed-in learner in"
    found = scores(learner_ids=[learner_id], released_only=True)
    cells = [found.get(cell_key(learner_id, a), EMPTY) for a in graded.values()]
    context = {
        "items": items,
        "released": released,
        "score": sum((cell.score for cell in cells if cell.score is not None), 0),
        "max_score": sum((a.max_score for a in graded.values()), 0),
        "new_count": sum(1 for item in released if item["grade"].seen_at is None),
    }
    return render(request, "grading/my_submissions.html", context)


def learner_context(request: HtmxHttpRequest, submission: Submission, form=None) -> dict:
    grade = submission.released_grade
    regrades = list(submission.regrade_requests.select_related("answered_by"))
    open_regrade = next((r for r in regrades if r.is_open), None)
    refusal = services.regrade_refusal(submission) if grade and open_regrade is None else ""
    can_request = grade is not None and open_regrade is None and not refusal
    assessment = for_submission(submission)
    lateness = lateness_of([submission]).get(submission.pk)
    return {
        "lateness": lateness,
        "counted": lateness.apply(grade.score) if lateness and grade else None,
        "submission": submission,
        "assessment": assessment,
        "title": submission_title(submission, assessment),
        "grade": grade,
        "was_new": grade is not None and grade.seen_at is None,
        # As graded: a rubric edited since changes this only when applied to existing grades.
        "criteria": [
            ({"label": label, "points": points}, met)
            for _, label, points, met in grade.criteria_rows()
        ] if grade else [],
        "corrections": list(grade.changes.filter(action=GradeChange.Action.CORRECTED))
        if grade else [],
        "regrades": regrades,
        "open_regrade": open_regrade,
        "regrade_form": (form or RegradeRequestForm()) if can_request else None,
        "regrade_limit": refusal,
        "drill": drill_review(submission),
    }


def own_submission(request: HtmxHttpRequest, pk: int) -> Submission:
    # Someone else's submission is reported as missing, not as forbidden.
    return get_object_or_404(
        Submission.objects.for_learner(request.user).select_related(
            "question__lesson", "attempt__drill", "grade"
        ),
        pk=pk,
    )


@require_safe
@login_required
def my_submission(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    submission = own_submission(request, pk)
    context = learner_context(request, submission)
    if context["grade"] is not None:
        services.mark_seen(grade=context["grade"])
    return render(request, "grading/my_submission.html", context)


@require_POST
@login_required
def request_regrade(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    submission = own_submission(request, pk)
    form = RegradeRequestForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.request_regrade(
                submission=submission, learner=request.user, reason=form.cleaned_data["reason"]
            )
        except services.GradingError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(request, "Your request was sent. An instructor will look again.")
            if request.htmx:
                return HttpResponseClientRedirect(
                    reverse("grading:my_submission", args=[submission.pk])
                )
            return redirect("grading:my_submission", pk=submission.pk)
    submission.refresh_from_db()
    context = learner_context(request, submission, form=form)
    if context["regrade_form"] is None:
        context["regrade_error"] = form.non_field_errors()
    if request.htmx:
        return render(request, "grading/my_submission.html#regrade", context)
    return render(request, "grading/my_submission.html", context, status=status)


# Rubrics ------------------------------------------------------------------------------------


def rubric_context(question: Question, *, formset=None, form=None, error: str = "") -> dict:
    drafts, released = services.grades_on(question)
    rubric = list(question.rubric or [])
    if formset is None:
        formset = CriterionFormSet(initial=[
            {"id": c["id"], "label": c["label"], "points": c["points"], "ORDER": n}
            for n, c in enumerate(rubric, start=1)
        ])
    if form is None:
        form = RubricEditForm(initial={"digest": services.rubric_digest(rubric),
                                       "max_score": question.max_score},
                              drafts=drafts, released=released)
    return {
        "question": question,
        "assessment": from_question(question),
        "formset": formset,
        "form": form,
        "error": error,
        "drafts": drafts,
        "released": released,
        "changes": RubricChange.objects.filter(question=question).select_related("changed_by"),
        "anonymous": question.pk in anonymity.anonymous_questions(),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@perms_required(RELEASE)
def rubric(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Edit a question's rubric, choosing what happens to the grades already given."""
    question = get_object_or_404(Question.objects.select_related("lesson"), slug=slug)
    if request.method != "POST":
        return render(request, "grading/rubric.html", rubric_context(question))
    drafts, released = services.grades_on(question)
    formset = CriterionFormSet(request.POST)
    form = RubricEditForm(request.POST, initial={"max_score": question.max_score},
                          drafts=drafts, released=released)
    if not (formset.is_valid() and form.is_valid()):
        return render(request, "grading/rubric.html",
                      rubric_context(question, formset=formset, form=form), status=422)
    try:
        edit = services.edit_rubric(
            question=question, by=request.user,
            criteria=cast(BaseCriterionFormSet, formset).criteria(),
            apply_to_grades=form.apply_to_grades, reason=form.cleaned_data["reason"],
            expected_digest=form.cleaned_data["digest"], max_score=form.cleaned_data["max_score"],
        )
    except services.GradingError as exc:
        # The grader's rows stay in the form; the digest moves on to the rubric now stored.
        question.refresh_from_db()
        post = request.POST.copy()
        post["digest"] = services.rubric_digest(list(question.rubric or []))
        drafts, released = services.grades_on(question)
        form = RubricEditForm(post, initial={"max_score": question.max_score},
                              drafts=drafts, released=released)
        form.is_valid()
        return render(request, "grading/rubric.html", rubric_context(
            question, formset=CriterionFormSet(request.POST), form=form, error=str(exc),
        ), status=409)
    if edit.change.applied:
        notice = (f"Rubric saved and applied: {edit.drafts_changed} draft"
                  f"{'s' * (edit.drafts_changed != 1)} and {edit.released_changed} released "
                  f"grade{'s' * (edit.released_changed != 1)} changed.")
    else:
        notice = "Rubric saved. Existing grades keep the rubric they were given on."
    messages.success(request, notice)
    return redirect("grading:rubric", slug=question.slug)


@require_POST
@perms_required(RELEASE)
def grading_options(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Turn anonymous grading of one question on or off."""
    question = get_object_or_404(Question, slug=slug)
    choice = request.POST.get("anonymous")
    if choice not in ("on", "off"):
        return render(request, "400.html", {"reason": "Choose anonymous grading on or off."},
                      status=400)
    services.set_anonymous(question=question, by=request.user, anonymous=choice == "on")
    messages.success(request, "Graders now see pseudonyms for this question until a grade is "
                              "released." if choice == "on" else
                              "Graders now see learners' names for this question.")
    return redirect("grading:rubric", slug=question.slug)
