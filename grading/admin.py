from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction

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

# What the learner is shown of a grade; changing any of these on a released grade corrects it.
CONTENT = ("score", "criteria_met", "feedback_markdown")
# A grade's history, shown and never edited.
HISTORY_FIELDS = ("changed_at", "action", "changed_by", "old_score", "new_score", "old_released",
                  "new_released", "reason")


class RecordAdmin(admin.ModelAdmin):
    """A record the site writes (a hand-in, a grade's history): shown here, never changed."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(RecordAdmin):
    """Learners' hand-ins, to read: what a learner handed in is never edited by anyone else."""

    list_display = ["question", "attempt", "learner", "status", "created_at"]
    list_filter = ["status", "question"]
    search_fields = ["learner__username", "answer"]


class GradeChangeInline(admin.TabularInline):
    model = GradeChange
    extra = 0
    can_delete = False
    fields = HISTORY_FIELDS
    readonly_fields = HISTORY_FIELDS

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class GradeAdminForm(forms.ModelForm):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why you changed this grade, kept in its history. Required to correct a "
        "released grade: the learner is shown it.",
    )

    class Meta:
        model = Grade
        fields = ["submission", "score", "criteria_met", "feedback_markdown", "released",
                  "graded_by"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.instance.pk and not data.get("reason", "").strip():
            was_released = Grade.objects.filter(pk=self.instance.pk, released=True).exists()
            if was_released and set(CONTENT) & set(self.changed_data):
                self.add_error(
                    "reason",
                    "Give the reason for correcting a released grade; the learner will see it.",
                )
        return data


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    form = GradeAdminForm
    list_display = ["submission", "score", "max_score", "released", "graded_by", "updated_at"]
    list_filter = ["released", "submission__question"]
    search_fields = ["submission__learner__username", "feedback_markdown"]
    raw_id_fields = ["submission", "graded_by"]
    readonly_fields = ["max_score", "version", "released_at", "seen_at", "created_at",
                       "updated_at"]
    inlines = [GradeChangeInline]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # A grade stays with the submission it was given for.
        return [*self.readonly_fields, "submission"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @transaction.atomic
    def save_model(self, request, obj: Grade, form, change: bool) -> None:
        # Changes made here are audited like those made on the grading page, old and new.
        old = Grade.objects.select_for_update().filter(pk=obj.pk).first() if change else None
        correcting = old is not None and old.released and bool(
            set(CONTENT) & set(form.changed_data)
        )
        if old is not None:
            obj.version = old.version + 1
        if correcting:
            obj.seen_at = None
        obj.graded_by = obj.graded_by or request.user
        super().save_model(request, obj, form, change)
        if obj.released and (old is None or not old.released):
            Submission.objects.filter(pk=obj.submission_id).update(
                status=Submission.Status.RETURNED
            )
        elif old is None:
            Submission.objects.filter(pk=obj.submission_id).update(
                status=Submission.Status.GRADED
            )
        GradeChange.objects.create(
            grade=obj,
            action=GradeChange.Action.CORRECTED if correcting else GradeChange.Action.ADMIN,
            changed_by=request.user,
            old_score=old.score if old else None,
            new_score=obj.score,
            old_criteria=old.criteria_met if old else [],
            new_criteria=obj.criteria_met,
            old_feedback=old.feedback_markdown if old else "",
            new_feedback=obj.feedback_markdown,
            old_released=old.released if old else None,
            new_released=obj.released,
            reason=form.cleaned_data.get("reason", "").strip(),
        )


@admin.register(GradeChange)
class GradeChangeAdmin(RecordAdmin):
    list_display = ["grade", "action", "changed_by", "changed_at", "old_score", "new_score",
                    "old_released", "new_released"]
    list_filter = ["action"]
    date_hierarchy = "changed_at"


@admin.register(FeedbackSnippet)
class FeedbackSnippetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "question", "author", "created_at"]
    list_filter = ["question"]
    search_fields = ["text"]


@admin.register(RegradeRequest)
class RegradeRequestAdmin(admin.ModelAdmin):
    list_display = ["submission", "created_at", "resolved_at", "answered_by"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["submission__learner__username", "reason", "answer"]
    raw_id_fields = ["submission", "answered_by"]


@admin.register(DueDate)
class DueDateAdmin(admin.ModelAdmin):
    list_display = ["section", "question", "drill", "due_at", "penalty_per_day", "penalty_cap"]
    list_filter = ["section"]
    readonly_fields = ["set_by", "updated_at"]

    def save_model(self, request, obj, form, change) -> None:
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    list_display = ["learner", "question", "drill", "due_at", "reason", "granted_by"]
    search_fields = ["learner__username", "reason"]
    readonly_fields = ["granted_by", "granted_at"]

    def save_model(self, request, obj, form, change) -> None:
        obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ScheduledRelease)
class ScheduledReleaseAdmin(RecordAdmin):
    """What was set to be released and what happened: a record, changed only by the task."""

    list_display = ["grade", "release_at", "outcome", "scheduled_by", "finished_at"]
    list_filter = ["outcome"]


@admin.register(RubricChange)
class RubricChangeAdmin(RecordAdmin):
    """Rubric edits come through the grading workspace, which decides what grades follow."""

    list_display = ["question", "changed_by", "changed_at", "applied", "grades_changed",
                    "old_max_score", "new_max_score"]
    list_filter = ["applied"]
    search_fields = ["question__slug", "reason"]
    readonly_fields = ["summary"]

    @admin.display(description="What changed")
    def summary(self, obj: RubricChange) -> str:
        return "; ".join(obj.summary())


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    """Who holds which submission; deleting a claim frees the submission for other graders.

    Claims are taken only in the workspace, where two graders cannot both win one.
    """

    list_display = ["submission", "grader", "claimed_at", "expires_at", "active"]
    list_filter = ["grader"]
    list_select_related = ["submission__learner", "grader"]

    @admin.display(boolean=True, description="Active")
    def active(self, obj: Claim) -> bool:
        return obj.is_active

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GradingOptions)
class GradingOptionsAdmin(admin.ModelAdmin):
    list_display = ["question", "anonymous", "changed_by", "changed_at"]
    list_filter = ["anonymous"]
    readonly_fields = ["changed_by", "changed_at"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [*self.readonly_fields, "question"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        obj.changed_by = request.user
        super().save_model(request, obj, form, change)
