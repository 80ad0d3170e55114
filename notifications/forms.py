from django import forms

from notifications.models import Preferences


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["grade_released", "grade_corrected", "regrade_answered", "regrade_requested"]
