from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from courseware.models import Section
from grading.assessments import Assessment
from grading.models import FeedbackSnippet

MAX_FEEDBACK_LENGTH = 10_000


def format_points(points: Decimal) -> str:
    text = f"{points.normalize():f}"
    return f"{text} pt" if points == 1 else f"{text} pts"


class GradeForm(forms.Form):
    criteria = forms.MultipleChoiceField(
        label="Rubric",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "That criterion is not part of this rubric."},
    )
    score = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "invalid": "Enter the score as a number, such as 7 or 7.5.",
            "min_value": "The score cannot be below 0.",
            "max_decimal_places": "Use at most two decimal places.",
            "max_digits": "That number is too long for a score.",
        },
    )
    feedback = forms.CharField(
        label="Feedback for the learner",
        required=False,
        max_length=MAX_FEEDBACK_LENGTH,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text="Markdown: **bold**, *italic*, lists and `code`. The learner sees it once the "
        "grade is released.",
        error_messages={"max_length": "Keep feedback to %(limit_value)d characters."},
    )
    snippet = forms.ModelChoiceField(
        label="Add a saved comment",
        queryset=FeedbackSnippet.objects.none(),
        required=False,
        help_text="Appended to the feedback when you save.",
        error_messages={"invalid_choice": "That saved comment no longer exists."},
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={
            key: "This form is out of date or incomplete. Reload the page and grade again."
            for key in ("required", "invalid", "min_value")
        },
    )

    def __init__(
        self,
        *args,
        assessment: Assessment,
        snippets: QuerySet | None = None,
        group_size: int = 0,
        regrade: bool = False,
        correction: bool = False,
        others: list[str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.assessment = assessment
        cast(forms.MultipleChoiceField, self.fields["criteria"]).choices = [
            (c.id, f"{c.label} ({format_points(c.points)})") for c in assessment.rubric
        ]
        if not assessment.rubric:
            del self.fields["criteria"]
        score = self.fields["score"]
        score.validators.append(_max(assessment))
        score.widget.attrs["data-max-score"] = f"{assessment.max_score}"
        score.label = f"Score (out of {assessment.max_score.normalize():f})"
        score.help_text = (
            "Left empty, the score is the sum of the ticked criteria. A score you type is kept "
            "when you tick more."
        )
        if snippets is not None and snippets.exists():
            cast(forms.ModelChoiceField, self.fields["snippet"]).queryset = snippets
        else:
            del self.fields["snippet"]
        if group_size:
            self.fields["apply_to_group"] = forms.BooleanField(
                required=False,
                # Identical structured answers deserve identical grades; unticking is one click.
                initial=settings.GRADING_GROUP_IDENTICAL,
                label=f"Also apply this grade to the {group_size} other submission"
                f"{'s' if group_size != 1 else ''} with identical answers",
                help_text="Grades already released are left alone; each copy stays editable.",
            )
            if others:
                self.fields["replace_others"] = forms.BooleanField(
                    required=False,
                    initial=False,
                    label=f"Also replace the draft{'s' * (len(others) != 1)} other graders "
                    f"saved: {', '.join(others)}",
                    help_text="Left unticked, a colleague's draft is kept as they wrote it.",
                )
        if regrade:
            self.fields["regrade_answer"] = forms.CharField(
                label="Your answer to the regrade request",
                required=False,
                max_length=MAX_FEEDBACK_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text="Saved as a draft until you return it: the learner then sees your "
                "answer and any new score together.",
            )

        if correction:
            self.fields["reason"] = forms.CharField(
                label="Why are you correcting this released grade?",
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="The learner is told the grade was corrected and reads this reason.",
                error_messages={"required": "Give the learner a reason for the correction."},
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "score" in self.errors:
            return data
        criteria = data.get("criteria") or []
        if data.get("score") is None:
            if not criteria:
                self.add_error("score", "Enter a score, or tick the criteria that were met.")
            else:
                data["score"] = self.assessment.criteria_points(criteria)
        snippet = data.get("snippet")
        if snippet is not None:
            feedback = (data.get("feedback") or "").rstrip()
            data["feedback"] = f"{feedback}\n\n{snippet.text}" if feedback else snippet.text
        data["criteria"] = criteria
        return data


def _max(assessment: Assessment):
    def check(value: Decimal) -> None:
        if value is not None and value > assessment.max_score:
            raise forms.ValidationError(
                f"The score must be between 0 and {assessment.max_score.normalize():f}.",
                code="max_value",
            )

    return check


class ReleaseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class SnippetForm(forms.Form):
    text = forms.CharField(
        label="New saved comment",
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Write the comment you want to save.",
            "max_length": "Keep a saved comment to %(limit_value)d characters.",
        },
    )


class RegradeRequestForm(forms.Form):
    reason = forms.CharField(
        label="Why should this be looked at again?",
        min_length=10,
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Point to what you think was missed: a rubric criterion, a part of your answer.",
        error_messages={
            "required": "Give a reason for your request.",
            "min_length": "Say a little more (at least %(limit_value)d characters).",
            "max_length": "Keep your reason to %(limit_value)d characters.",
        },
    )


STATUS_CHOICES = [
    ("awaiting", "Awaiting grading"),
    ("regrade", "Regrade requested"),
    ("graded", "Graded, not released"),
    ("returned", "Returned"),
    ("all", "Any status"),
]


class QueueFilterForm(forms.Form):
    assessment = forms.ChoiceField(
        label="Lesson, question or drill",
        required=False,
        error_messages={"invalid_choice": "That lesson, question or drill does not exist."},
    )
    status = forms.ChoiceField(
        label="Status",
        choices=STATUS_CHOICES,
        required=False,
        initial="awaiting",
        error_messages={"invalid_choice": "“%(value)s” is not a status."},
    )
    learner = forms.CharField(label="Learner", required=False, max_length=150)
    section = forms.ChoiceField(
        label="Section",
        required=False,
        error_messages={"invalid_choice": "There is no section “%(value)s”."},
    )

    def __init__(self, *args, assessment_choices: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assessment"]).choices = [
            ("", "All lessons and drills"), *assessment_choices
        ]
        cast(forms.ChoiceField, self.fields["section"]).choices = section_choices()
        for name in ("assessment", "status", "section"):
            self.fields[name].widget.attrs["class"] = "form-select-sm"
        self.fields["learner"].widget = forms.TextInput(
            attrs={
                "class": "form-control-sm",
                "placeholder": "username",
                "autocomplete": "off",
                "type": "search",
            }
        )

    def clean_learner(self) -> str:
        username = self.cleaned_data["learner"].strip()
        if username and not get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError(f"No learner is called “{username}”.")
        return username

    def filters(self) -> dict:
        """The valid filters; a bad value is reported on the form and otherwise ignored."""
        if not self.is_bound:
            return {"status": "awaiting"}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "assessment": data.get("assessment", ""),
            "status": data.get("status") or "awaiting",
            "learner": data.get("learner", ""),
            "section": data.get("section", ""),
        }



class CriterionForm(forms.Form):
    id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)
    label = forms.CharField(
        label="Criterion", max_length=300, strip=True,
        error_messages={"required": "Describe what the answer must do for these points."},
    )
    points = forms.IntegerField(
        label="Points", min_value=1, max_value=1000,
        widget=forms.NumberInput(attrs={"class": "points-input"}),
        error_messages={"required": "Give the points.",
                        "min_value": "A criterion is worth at least 1 point.",
                        "invalid": "Points are a whole number."},
    )


class BaseCriterionFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        ids = [f.cleaned_data["id"] for f in kept if f.cleaned_data.get("id")]
        if len(set(ids)) != len(ids):
            raise forms.ValidationError("The form was damaged: a criterion appears twice.")
        if not kept:
            raise forms.ValidationError("A rubric needs at least one criterion.")

    def criteria(self) -> list[dict]:
        """The kept criteria in their new order; new rows (no id) where they were placed."""
        rows = [f for f in self.ordered_forms if f.cleaned_data]
        rows += [f for f in self.forms if f.cleaned_data and f not in rows
                 and not f.cleaned_data.get("DELETE")]
        return [
            {"id": f.cleaned_data.get("id") or None, "label": f.cleaned_data["label"],
             "points": f.cleaned_data["points"]}
            for f in rows if not f.cleaned_data.get("DELETE")
        ]


CriterionFormSet = forms.formset_factory(
    CriterionForm, formset=BaseCriterionFormSet, extra=2, can_delete=True, can_order=True,
    max_num=50, validate_max=True,
)

APPLY_CHOICES = [
    ("apply", "Apply the change to the existing grades"),
    ("keep", "Keep the existing grades as they were graded; only new grades use the new rubric"),
]


class RubricEditForm(forms.Form):
    digest = forms.CharField(widget=forms.HiddenInput, max_length=32)
    max_score = forms.IntegerField(
        label="Maximum score",
        min_value=1,
        max_value=1000,
        help_text="What every grade of this question is out of. Ticked criteria add up to it "
        "at most.",
        error_messages={"required": "Give the question's maximum score."},
    )
    existing = forms.ChoiceField(
        label="What happens to the grades already given?",
        choices=APPLY_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the change applies to existing grades."},
    )
    reason = forms.CharField(
        label="What changed, and why",
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the rubric's history. A learner whose released grade changes reads "
        "it beside “grade corrected”.",
        error_messages={"required": "Say what changed and why."},
    )

    def __init__(self, *args, drafts: int = 0, released: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.has_grades = bool(drafts or released)
        if not self.has_grades:
            del self.fields["existing"]
            return
        field = self.fields["existing"]
        field.help_text = (
            f"This question has {drafts} draft grade{'s' * (drafts != 1)} and {released} "
            f"released grade{'s' * (released != 1)}. Applied, ticked criteria that still exist "
            "stay ticked, a score that was the rubric's total follows the new points and a "
            "score typed by the grader is kept; changed released grades are shown to their "
            "learners as corrected."
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        old_max = self.initial.get("max_score")
        changed = data.get("max_score") is not None and data["max_score"] != old_max
        if self.has_grades and changed and data.get("existing") == "keep":
            # A grade kept "out of" the old maximum would count differently from the column.
            self.add_error("existing", f"A new maximum changes what every grade is out of, so "
                           f"it must be applied to the existing grades. Apply it, or keep the "
                           f"maximum at {old_max}.")
        return data

    @property
    def apply_to_grades(self) -> bool:
        return self.cleaned_data.get("existing") == "apply"


def section_choices(empty: str = "All sections") -> list[tuple[str, str]]:
    sections = Section.objects.order_by("title", "pk").values_list("slug", "title")
    return [("", empty), *dict(sections).items()]


LOCAL_TIME = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format=LOCAL_TIME, **kwargs)


def _when_field(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[LOCAL_TIME, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=LocalDateTimeInput(),
        help_text=help_text or "Date and time, in the site's time zone.",
        error_messages={
            "required": "Give a date and a time.",
            "invalid": "Give the date and time as YYYY-MM-DD HH:MM.",
        },
    )


def _assessment_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Question or drill",
        error_messages={
            "required": "Choose a question or drill.",
            "invalid_choice": "That question or drill does not exist.",
        },
    )


def _percent_field(label: str, initial: int, help_text: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, initial=initial, min_value=0, max_value=100, max_digits=5,
        decimal_places=2, help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        error_messages={
            "required": "Give a percent from 0 to 100.",
            "invalid": "Give a percent from 0 to 100.",
            "min_value": "Give a percent from 0 to 100.",
            "max_value": "Give a percent from 0 to 100.",
            "max_decimal_places": "Use at most two decimal places.",
        },
    )


class DueDateForm(forms.Form):
    section = forms.ChoiceField(
        label="Section",
        error_messages={"required": "Choose a section.",
                        "invalid_choice": "There is no section “%(value)s”."},
    )
    assessment = _assessment_field()
    due_at = _when_field("Due")
    penalty_per_day = _percent_field(
        "Late penalty per day (%)", 0,
        "Taken off the score for each day or part of a day late; 0 marks late work only.",
    )
    penalty_cap = _percent_field("Most a late hand-in can lose (%)", 100, "")

    def __init__(self, *args, assessments: list[Assessment], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["section"]).choices = section_choices("Choose…")
        cast(forms.ChoiceField, self.fields["assessment"]).choices = assessment_options(
            assessments
        )


class ExtensionForm(forms.Form):
    learner = forms.CharField(
        label="Learner (username)", max_length=150,
        error_messages={"required": "Name the learner by username."},
    )
    assessment = _assessment_field()
    due_at = _when_field("New due date")
    reason = forms.CharField(label="Reason (for instructors)", max_length=300, required=False)

    def __init__(self, *args, assessments: list[Assessment], **kwargs) -> None:
        # Shown on the page beside the due date form, whose fields share these names.
        kwargs.setdefault("auto_id", "id_extension_%s")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assessment"]).choices = assessment_options(
            assessments
        )

    def clean_learner(self):
        username = self.cleaned_data["learner"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"No learner is called “{username}”.")
        return user


def assessment_options(assessments: list[Assessment]) -> list:
    questions = [(a.key, f"{a.group}: {a.title[:70]}") for a in assessments if not a.is_drill]
    drills = [(a.key, a.title[:80]) for a in assessments if a.is_drill]
    return [("", "Choose…"), ("Questions", questions), ("Drills", drills)]


class ScheduleReleaseForm(forms.Form):
    release_at = _when_field(
        "Release at", "The learner sees the grade from then on, as it stands now."
    )

    def clean_release_at(self):
        when = self.cleaned_data["release_at"]
        if when <= timezone.now():
            raise forms.ValidationError(
                "Choose a time in the future, or release the grade now instead."
            )
        return when

