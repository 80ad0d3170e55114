from django.contrib import admin

from drills.models import Attempt, AttemptAnswer, Drill, Interaction


class InteractionInline(admin.StackedInline):
    model = Interaction
    extra = 0
    fields = [
        ("key", "order"),
        ("caller", "callee"),
        "exchange",
        ("on_critical_path", "after"),
        ("answer", "deciding_question"),
        "condition",
        "rationale",
        "wrong_answer_why",
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # 'after' may only name an interaction of the drill being edited.
        if db_field.name == "after":
            drill_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Interaction.objects.filter(drill_id=drill_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Drill)
class DrillAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "domain", "difficulty", "order", "lesson",
                    "review_by_instructor"]
    list_editable = ["review_by_instructor"]
    list_filter = ["difficulty", "review_by_instructor", "lesson"]
    search_fields = ["title", "slug", "domain", "summary"]
    readonly_fields = ["source_path"]
    inlines = [InteractionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "domain", "difficulty", "order", "lesson"]}),
        ("Text", {"fields": ["summary", "scenario", "entry", "debrief"]}),
        ("Grading", {"fields": ["review_by_instructor"]}),
        ("Source", {"fields": ["source_path"], "classes": ["collapse"]}),
    ]


class AttemptAnswerInline(admin.TabularInline):
    model = AttemptAnswer
    extra = 0
    can_delete = False
    readonly_fields = ["interaction", "choice", "justification", "correct"]
    fields = list(readonly_fields)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    """Attempts are the learners' record: they can be read and deleted, never edited."""

    list_display = ["drill", "learner", "score", "total", "critical_sync_hops", "created_at"]
    list_filter = ["drill"]
    search_fields = ["learner__username", "drill__title"]
    date_hierarchy = "created_at"
    list_select_related = ["drill", "learner"]
    readonly_fields = ["drill", "learner", "created_at", "score", "total", "critical_sync_hops",
                       "key_critical_sync_hops", "token"]
    fields = list(readonly_fields)
    inlines = [AttemptAnswerInline]

    def has_add_permission(self, request) -> bool:
        return False
