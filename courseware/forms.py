from typing import cast

from django import forms

from courseware import problems

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
    """The options of one quick check, in the order this learner sees them, posted by key."""

    choice = forms.MultipleChoiceField(
        error_messages={
            "required": "Choose an option before checking.",
            "invalid_choice": "That option is not part of this question.",
        },
    )

    def __init__(self, *args, quick_check, options, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quick_check = quick_check
        choice = cast(forms.MultipleChoiceField, self.fields["choice"])
        choice.choices = [(option.key, option.text) for option in options]

    def clean_choice(self) -> set[str]:
        choice = set(self.cleaned_data["choice"])
        if not self.quick_check.multiple and len(choice) > 1:
            raise forms.ValidationError("Choose one option only.", code="one_only")
        return choice

    @property
    def tampered(self) -> bool:
        """Sent something the form's own inputs cannot send: an unknown option, or two radios."""
        return any(
            error.code in {"invalid_choice", "one_only"}
            for error in self.errors.as_data().get("choice", [])
        )


class ProblemAnswerForm(forms.Form):
    """An answer to one set of the learner's numbers, which the form names by their id."""

    instance = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    answer = forms.CharField(
        label="Your answer",
        max_length=problems.MAX_ANSWER_LENGTH,
        strip=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": "Type a number before checking.",
            "max_length": "An answer is at most %(limit_value)d characters long.",
        },
    )

    def __init__(self, *args, unit: problems.Unit, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit

    def clean_answer(self) -> float:
        try:
            return problems.parse_answer(self.cleaned_data["answer"], self.unit)
        except problems.AnswerError as exc:
            raise forms.ValidationError(str(exc), code="not_a_number") from exc

    @property
    def tampered(self) -> bool:
        """The hidden field was altered: the page never sends a missing or malformed id."""
        return "instance" in self.errors


class NewNumbersForm(forms.Form):
    # The numbers the learner was looking at, so a repeated click draws new numbers once.
    after = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
