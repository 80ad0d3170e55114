from django.contrib import admin

from notifications.models import Preferences


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "grade_released", "grade_corrected", "regrade_answered",
                    "regrade_requested"]
