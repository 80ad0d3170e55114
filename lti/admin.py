from django.contrib import admin

from lti.models import Placement, ScorePost, UsedNonce


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["resource_link", "target"]
    search_fields = ["target"]


@admin.register(ScorePost)
class ScorePostAdmin(admin.ModelAdmin):
    list_display = ["grade", "line_item", "status", "attempts", "updated_at"]
    list_filter = ["status"]
    readonly_fields = ["grade", "line_item", "lti_user", "generation", "attempts", "last_error",
                       "sent_score", "sent_at"]


@admin.register(UsedNonce)
class UsedNonceAdmin(admin.ModelAdmin):
    list_display = ["issuer", "nonce", "used_at"]
