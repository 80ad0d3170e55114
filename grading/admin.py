from django.contrib import admin
from django.db import transaction

from grading.models import FeedbackSnippet, Grade, GradeChange, RegradeRequest, Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["question", "attempt", "learner", "status", "created_at"]
    list_filter = ["status", "question"]
    search_fields = ["learner__username", "answer"]
    raw_id_fields = ["learner", "attempt"]
    readonly_fields = ["fingerprint"]


class GradeChangeInline(admin.TabularInline):
    model = GradeChange
    extra = 0
    can_delete = False
    fields = ["changed_at", "action", "changed_by", "old_score", "new_score", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["submission", "score", "released", "graded_by", "updated_at"]
    list_filter = ["released", "submission__question"]
    search_fields = ["submission__learner__username", "feedback_markdown"]
    raw_id_fields = ["submission", "graded_by"]
    readonly_fields = ["version", "released_at", "seen_at", "created_at", "updated_at"]
    inlines = [GradeChangeInline]

    @transaction.atomic
    def save_model(self, request, obj: Grade, form, change: bool) -> None:
        # Changes made here are audited like those made on the grading page.
        old = Grade.objects.filter(pk=obj.pk).first() if change else None
        if old is not None:
            obj.version = old.version + 1
        obj.graded_by = obj.graded_by or request.user
        super().save_model(request, obj, form, change)
        GradeChange.objects.create(
            grade=obj,
            action=GradeChange.Action.ADMIN,
            changed_by=request.user,
            old_score=old.score if old else None,
            new_score=obj.score,
            old_criteria=old.criteria_met if old else [],
            new_criteria=obj.criteria_met,
            old_feedback=old.feedback_markdown if old else "",
            new_feedback=obj.feedback_markdown,
            reason="Changed in the admin",
        )


@admin.register(GradeChange)
class GradeChangeAdmin(admin.ModelAdmin):
    list_display = ["grade", "action", "changed_by", "changed_at", "old_score", "new_score"]
    list_filter = ["action"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
