from django import forms

MAX_ANSWER_LENGTH = 5000


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        min_length=1,
        max_length=MAX_ANSWER_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Write an answer before submitting.",
            "max_length": "Keep your answer to %(limit_value)d characters (it has %(show_value)d).",
        },
    )
    # One per rendered form: a repeated or racing submit of it hands the answer in once.
    token = forms.UUIDField(widget=forms.HiddenInput, required=False)


class QuickCheckForm(forms.Form):
    choice = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={
            "required": "Choose an option before checking.",
            "invalid_choice": "That option is not part of this question.",
        },
    )

    def __init__(self, *args, quick_check, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quick_check = quick_check
        self.fields["choice"].choices = [
            (index, option.text) for index, option in enumerate(quick_check.options.all())
        ]

    def clean_choice(self) -> set[int]:
        choice = set(self.cleaned_data["choice"])
        if not self.quick_check.multiple and len(choice) > 1:
            raise forms.ValidationError("Choose one option only.")
        return choice
