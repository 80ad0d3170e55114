"""Pages for due dates, extensions and releases at a set time."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from config.http import HtmxHttpRequest
from courseware.models import Section
from grading import anonymity, services
from grading.assessments import Assessment, all_assessments
from grading.forms import DueDateForm, ExtensionForm, ScheduleReleaseForm
from grading.models import DueDate, Extension, Grade, ScheduledRelease
from grading.permissions import GRADE, RELEASE, perms_required
from grading.views import (
    _listed_grade,
    filter_query,
    grade_url,
    load_submission,
    queue_filters,
    render_grading,
    shorten,
)

SCHEDULE_PAGE_SIZE = 100


def bad_request(request: HtmxHttpRequest, reason: str) -> HttpResponse:
    return render(request, "400.html", {"reason": reason}, status=400)


def _by_key(assessments: list[Assessment]) -> dict[str, Assessment]:
    return {a.key: a for a in assessments}


def deadlines_context(assessments: list[Assessment], *, due_form=None,
                      extension_form=None) -> dict:
    by_pk = {("d" if a.is_drill else "q", a.pk): a for a in assessments}

    def named(row) -> Assessment | None:
        return by_pk.get(("d", row.drill_id) if row.drill_id else ("q", row.question_id))

    due_dates = [
        (row, named(row)) for row in
        DueDate.objects.select_related("section", "set_by").order_by("section__title", "due_at")
    ]
    extensions = [
        (row, named(row)) for row in
        Extension.objects.select_related("learner", "granted_by").order_by(
            "learner__username", "due_at"
        )
    ]
    return {
        "due_form": due_form or DueDateForm(assessments=assessments),
        "extension_form": extension_form or ExtensionForm(assessments=assessments),
        "due_dates": due_dates,
        "extensions": extensions,
        "sections": Section.objects.order_by("title").exists(),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@perms_required(GRADE)
def deadlines(request: HtmxHttpRequest) -> HttpResponse:
    """Due dates per section and extensions per learner; each form posts here."""
    assessments = all_assessments()
    if request.method != "POST":
        return render(request, "grading/deadlines.html", deadlines_context(assessments))
    by_key = _by_key(assessments)
    if request.POST.get("form") == "extension":
        extension_form = ExtensionForm(request.POST, assessments=assessments)
        if not extension_form.is_valid():
            return render(request, "grading/deadlines.html", deadlines_context(
                assessments, extension_form=extension_form
            ), status=422)
        data = extension_form.cleaned_data
        services.grant_extension(
            learner=data["learner"], assessment=by_key[data["assessment"]],
            due_at=data["due_at"], reason=data["reason"], by=request.user,
        )
        messages.success(request, f"{data['learner'].username} now has until "
                                  f"{data['due_at']:%d %b %Y %H:%M}.")
        return redirect("grading:deadlines")
    due_form = DueDateForm(request.POST, assessments=assessments)
    if not due_form.is_valid():
        return render(request, "grading/deadlines.html", deadlines_context(
            assessments, due_form=due_form
        ), status=422)
    data = due_form.cleaned_data
    section = Section.objects.filter(slug=data["section"]).order_by("pk").first()
    if section is None:
        return bad_request(request, "That section no longer exists.")
    assessment = by_key[data["assessment"]]
    services.set_due_date(
        section=section, assessment=assessment, due_at=data["due_at"],
        penalty_per_day=data["penalty_per_day"], penalty_cap=data["penalty_cap"], by=request.user,
    )
    messages.success(request, f"“{shorten(assessment.title)}” is due for {section.title} on "
                              f"{data['due_at']:%d %b %Y %H:%M}.")
    return redirect("grading:deadlines")


@require_POST
@perms_required(GRADE)
def remove_due_date(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    due = get_object_or_404(DueDate, pk=pk)
    due.delete()
    messages.success(request, "Due date removed; that work is no longer marked late.")
    return redirect("grading:deadlines")


@require_POST
@perms_required(GRADE)
def revoke_extension(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    extension = get_object_or_404(Extension, pk=pk)
    extension.delete()
    messages.success(request, f"Extension for {extension.learner.username} removed.")
    return redirect("grading:deadlines")


# Releases at a set time -------------------------------------------------------------------


@require_POST
@perms_required(RELEASE)
def schedule_release(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    submission = load_submission(pk)
    grade = get_object_or_404(Grade, submission=submission)
    form = ScheduleReleaseForm(request.POST)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return bad_request(request, "The form was incomplete. Reload the page and try again.")
    if not form.is_valid():
        return render_grading(request, submission, status=422, schedule_form=form,
                              error=" ".join(str(e) for e in form.errors.get("release_at", [])))
    report = services.schedule_releases(
        listed={grade.pk: version}, release_at=form.cleaned_data["release_at"], by=request.user
    )
    if not report.scheduled:
        error = ("This grade changed or was released after you opened the page, so no release "
                 "was set. Check it, then set the time again.")
        return render_grading(request, submission, error=error, status=409)
    when = form.cleaned_data["release_at"]
    messages.success(request, f"{submission.learner.username}'s grade will be released on "
                              f"{when:%d %b %Y at %H:%M}, as it is now.")
    _, filters = queue_filters(request)
    return redirect(grade_url(submission, filter_query(filters)))


@require_POST
@perms_required(RELEASE)
def schedule_release_all(request: HtmxHttpRequest) -> HttpResponse:
    """Schedule exactly the drafts a "release all" confirmation listed."""
    assessment = _by_key(all_assessments()).get(request.POST.get("assessment", ""))
    if assessment is None:
        return bad_request(request, "That question or drill does not exist.")
    form = ScheduleReleaseForm(request.POST)
    try:
        listed = dict(_listed_grade(value) for value in request.POST.getlist("grade"))
    except ValueError:
        return bad_request(request, "The list of grades to release was damaged. Open the "
                                    "page again.")
    _, filters = queue_filters(request)
    if not form.is_valid():
        return render(request, "grading/release_all.html", {
            "assessment": assessment,
            "drafts": services.drafts_of(assessment, filters.get("section", "")),
            "ungraded": services.ungraded_count(assessment, filters.get("section", "")),
            "query": filter_query(filters),
            "schedule_form": form,
        }, status=422)
    report = services.schedule_releases(
        listed=listed, release_at=form.cleaned_data["release_at"], by=request.user,
        assessment=assessment,
    )
    count = len(report.scheduled)
    when = form.cleaned_data["release_at"]
    if count:
        messages.success(request, f"{count} grade{'s' * (count != 1)} of "
                                  f"“{shorten(assessment.title)}” will be released on "
                                  f"{when:%d %b %Y at %H:%M}.")
    if report.changed:
        names = ", ".join(anonymity.name(g.submission) for g in report.changed)
        messages.warning(request, f"Not scheduled, because they changed after you confirmed: "
                                  f"{names}.")
    if report.gone:
        messages.warning(request, f"Listed grades no longer there, skipped: {report.gone}.")
    return redirect(reverse("grading:scheduled_releases"))


@require_POST
@perms_required(RELEASE)
def cancel_release(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    scheduled = get_object_or_404(ScheduledRelease.objects.select_related("grade"), pk=pk)
    if services.cancel_scheduled_release(scheduled=scheduled, by=request.user):
        messages.success(request, "The scheduled release was cancelled; the grade stays a draft.")
    else:
        messages.info(request, "That release had already run or been cancelled.")
    return redirect(reverse("grading:grade", args=[scheduled.grade.submission_id]))


@require_safe
@perms_required(GRADE)
def scheduled_releases(request: HtmxHttpRequest) -> HttpResponse:
    """What is set to go out, and what each past schedule released or held back, and why."""
    rows = ScheduledRelease.objects.select_related(
        "grade__submission__learner", "grade__submission__question",
        "grade__submission__attempt__drill", "scheduled_by",
    ).order_by("-release_at", "-pk")[:SCHEDULE_PAGE_SIZE]
    pending = [row for row in rows if row.outcome == ScheduledRelease.Outcome.PENDING]
    done = [row for row in rows if row.outcome != ScheduledRelease.Outcome.PENDING]
    return render(request, "grading/scheduled.html", {"pending": pending, "done": done})
