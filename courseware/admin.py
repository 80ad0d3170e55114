from django.contrib import admin

from courseware.models import (
    Course,
    Lesson,
    LessonProgress,
    Module,
    Problem,
    Question,
    QuickCheck,
    QuickCheckOption,
    QuickCheckResponse,
    Section,
    SectionMembership,
)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug"]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "order"]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "order", "embed"]
    list_filter = ["module"]
    search_fields = ["title", "body_markdown"]
    readonly_fields = ["source_path"]
    fieldsets = [
        (
            None,
            {
                "fields": ["module", "slug", "title", "summary", "order", "embed",
                           "body_markdown", "source_path"],
                "description": (
                    "Edits made here stay when the course is reloaded, until the lesson's file "
                    "in the repository changes; then the file's version replaces them."
                ),
            },
        )
    ]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["slug", "lesson", "kind", "max_score", "retired"]
    list_filter = ["kind", "lesson", "retired"]


class QuickCheckOptionInline(admin.TabularInline):
    model = QuickCheckOption
    extra = 0


@admin.register(QuickCheck)
class QuickCheckAdmin(admin.ModelAdmin):
    list_display = ["slug", "lesson", "multiple", "deciding_question"]
    list_filter = ["lesson", "deciding_question"]
    inlines = [QuickCheckOptionInline]


admin.site.register(QuickCheckResponse)
admin.site.register(LessonProgress)


class SectionMembershipInline(admin.TabularInline):
    model = SectionMembership
    extra = 0
    readonly_fields = ["joined_at"]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "course", "created_at"]
    list_filter = ["course"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [SectionMembershipInline]


@admin.register(SectionMembership)
class SectionMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "section", "role", "joined_at"]
    list_filter = ["section", "role"]
    search_fields = ["user__username", "user__email", "section__title"]


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ["slug", "lesson", "kind", "order"]
    list_filter = ["lesson", "kind"]
