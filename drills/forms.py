from collections.abc import Sequence
from typing import cast

from django import forms
from django.forms import BaseFormSet, formset_factory

from drills import grading, workflow
from drills.models import Choice

MAX_JUSTIFICATION = 300
MAX_OWN_ROWS = 20
CHOICE_PREFIX = "choice-"
REASON_PREFIX = "reason-"
TECHNIQUE_PREFIX = "technique-"
WHY_PREFIX = "why-"
PREFIXES = (CHOICE_PREFIX, REASON_PREFIX, TECHNIQUE_PREFIX, WHY_PREFIX)
REASON_CHOICES = [
    (str(number), f"Question {number}: {question.text}" if number in grading.QUESTIONS
     else f"The off-path rule: {question.text}")
    for number, question in grading.REASONS.items()
]


class TamperedForm(Exception):
    """The request names interactions or choices the page never offered."""


def check_drill_post(data, keys: list[str], techniques: tuple[str, ...] | list[str] = ()) -> None:
    """Raise TamperedForm when a posted drill form does not match the drill it was sent to.

    A value the page never offered (a style, a reason, a technique) is tampering, not a
    mistake to correct, so it is refused with the reason rather than shown as a form error.
    """
    known = set(keys)
    for name in data:
        for prefix in PREFIXES:
            if name.startswith(prefix) and name[len(prefix):] not in known:
                raise TamperedForm(
                    f"The form names an interaction that is not part of this drill "
                    f"({name[len(prefix):]!r}). Reload the drill and try again."
                )
    reasons = {value for value, _ in REASON_CHOICES}
    for key in keys:
        for prefix, offered, what in (
            (CHOICE_PREFIX, set(grading.CHOICES), "the choices are sync and async"),
            (REASON_PREFIX, reasons, "the reasons are the five questions and the off-path rule"),
            (TECHNIQUE_PREFIX, set(techniques), "this drill offers "
             + (", ".join(techniques) if techniques else "no techniques")),
        ):
            values = data.getlist(f"{prefix}{key}")
            if len(values) > 1:
                raise TamperedForm(f"The form sent more than one {prefix[:-1]} for {key!r}.")
            if values and values[0] and values[0] not in offered:
                raise TamperedForm(
                    f"{values[0][:40]!r} is not a {prefix[:-1]} for {key!r}; {what}."
                )
    if "token" not in data:
        raise TamperedForm(
            "The form is missing its one-time token. Reload the drill and try again."
        )


class DrillForm(forms.Form):
    """One sync/async choice and an optional reason per interaction of a drill."""

    token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={"invalid": "The form's token is damaged. Reload the drill."},
    )
    # Which version of the drill the page showed; checked against the drill by the view.
    variant = forms.SlugField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, interactions, techniques=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.interactions = list(interactions)
        self.techniques = tuple(techniques)
        for number, interaction in enumerate(self.interactions, start=1):
            label = f"{number}. {interaction.caller} → {interaction.callee}"
            self.fields[f"{CHOICE_PREFIX}{interaction.key}"] = forms.ChoiceField(
                label=label,
                choices=Choice.choices,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose sync or async for {label}."},
            )
            self.fields[f"{REASON_PREFIX}{interaction.key}"] = forms.ChoiceField(
                label="What settles it?",
                choices=[("", "Choose the question or rule…"), *REASON_CHOICES],
                error_messages={"required": f"Choose what settles {label}."},
            )
            if self.techniques:
                self.fields[f"{TECHNIQUE_PREFIX}{interaction.key}"] = forms.ChoiceField(
                    label="How?",
                    choices=[("", "Choose how it is done…"), *(
                        (slug, grading.TECHNIQUES[slug].label) for slug in self.techniques
                    )],
                    error_messages={"required": f"Choose how {label} is done."},
                )
            self.fields[f"{WHY_PREFIX}{interaction.key}"] = forms.CharField(
                label="Why? (optional, one line)",
                required=False,
                max_length=MAX_JUSTIFICATION,
                widget=forms.TextInput(attrs={"placeholder": "Why? (optional, one line)"}),
                strip=True,
                error_messages={
                    "max_length": "Keep the reason to %(limit_value)d characters "
                    "(it has %(show_value)d)."
                },
            )

    def rows(self) -> list[dict]:
        """Each interaction with its bound fields, for the template."""
        return [
            {
                "interaction": interaction,
                "choice": self[f"{CHOICE_PREFIX}{interaction.key}"],
                "reason": self[f"{REASON_PREFIX}{interaction.key}"],
                "technique": self[f"{TECHNIQUE_PREFIX}{interaction.key}"]
                if self.techniques else None,
                "why": self[f"{WHY_PREFIX}{interaction.key}"],
                "errors": [
                    error for prefix in (CHOICE_PREFIX, REASON_PREFIX, TECHNIQUE_PREFIX)
                    for error in self.errors.get(f"{prefix}{interaction.key}", [])
                ],
            }
            for interaction in self.interactions
        ]

    def unanswered(self) -> list:
        """Interactions with a part still to choose."""
        parts = [CHOICE_PREFIX, REASON_PREFIX] + ([TECHNIQUE_PREFIX] if self.techniques else [])
        return [
            interaction for interaction in self.interactions
            if any(f"{prefix}{interaction.key}" in self.errors
                   and not self.data.get(f"{prefix}{interaction.key}") for prefix in parts)
        ]

    def typed_choices(self) -> dict[str, str]:
        """The styles chosen so far, valid ones only, without validating the rest of the form."""
        typed = {}
        for interaction in self.interactions:
            value = self.data.get(f"{CHOICE_PREFIX}{interaction.key}", "")
            if value in grading.CHOICES:
                typed[interaction.key] = value
        return typed

    def answers(self) -> dict[str, grading.Answer]:
        return {
            interaction.key: grading.Answer(
                choice=self.cleaned_data[f"{CHOICE_PREFIX}{interaction.key}"],
                justification=self.cleaned_data[f"{WHY_PREFIX}{interaction.key}"],
                reason=int(self.cleaned_data[f"{REASON_PREFIX}{interaction.key}"]),
                technique=self.cleaned_data[f"{TECHNIQUE_PREFIX}{interaction.key}"]
                if self.techniques else None,
            )
            for interaction in self.interactions
        }


# Own workflow ----------------------------------------------------------------------------------


SMALL = "form-control-sm"


class WorkflowRowForm(forms.Form):
    caller = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Check-in", "class": SMALL}),
        error_messages={"required": "Name the service that makes the call."},
    )
    callee = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Seat map", "class": SMALL}),
        error_messages={"required": "Name the service that is called."},
    )
    exchange = forms.CharField(
        label="What is exchanged (optional)",
        max_length=160,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. Reserve seat 14C for the passenger", "class": SMALL}
        ),
    )
    style = forms.ChoiceField(
        label="Style",
        choices=Choice.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"required": "Choose sync or async."},
    )
    justification = forms.CharField(
        label="Why (one line)",
        max_length=MAX_JUSTIFICATION,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. The passenger must see the seat is theirs", "class": SMALL}
        ),
        error_messages={
            "required": "Give a one-line reason.",
            "max_length": "Keep the reason to %(limit_value)d characters (it has %(show_value)d).",
        },
    )
    after = forms.IntegerField(
        label="Made while handling interaction (number; blank: the user's request)",
        required=False, min_value=1, max_value=50,
        widget=forms.NumberInput(attrs={"class": SMALL, "placeholder": "e.g. 2"}),
        error_messages={"invalid": "Give the number of another interaction, or leave it blank."},
    )
    entry = forms.BooleanField(
        label="The user's own request (not counted)",
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "entry-help"}),
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        caller, callee = data.get("caller", ""), data.get("callee", "")
        if caller and callee and caller.casefold() == callee.casefold():
            self.add_error("callee", "A call goes from one service to another: name the service "
                           "that is called, not the caller again.")
        return data

    def focus(self) -> None:
        """Put the cursor in this row's first box when the page loads."""
        self.fields["caller"].widget.attrs["autofocus"] = True


ROW_FIELDS = tuple(WorkflowRowForm.base_fields)


class BaseWorkflowRowFormSet(BaseFormSet):
    # Set by clean(); a formset never cleaned has found none.
    structure_problems: Sequence[workflow.Problem] = ()
    default_error_messages = {
        **BaseFormSet.default_error_messages,
        "too_few_forms": "Add at least one interaction to your workflow.",
        "too_many_forms": f"A workflow here has at most {MAX_OWN_ROWS} interactions; "
        "remove some rows.",
    }

    def initial_form_count(self) -> int:
        # Rows are never stored objects: every posted row is a new one, so a row left blank is
        # skipped and not counted, however many rows the page was drawn with.
        return 0 if self.is_bound else super().initial_form_count()

    def get_form_kwargs(self, index):
        # The first row too may be left blank; "at least one interaction" says what is missing.
        return {"empty_permitted": True}

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        # Checked on the rows as the learner numbered them, empty ones included, so that every
        # message names the numbers on the page; each shows on the rows it is about.
        self.structure_problems = workflow.structure_errors(self.numbered_rows())
        for problem in self.structure_problems:
            for index in problem.rows:
                self.forms[index].add_error(problem.field, problem.message)

    def numbered_rows(self) -> list[dict | None]:
        """The cleaned rows in the order shown; None for a row left empty or marked for removal."""
        deleted = set(map(id, self.deleted_forms))
        return [
            {name: form.cleaned_data[name] for name in ROW_FIELDS}
            if form.has_changed() and id(form) not in deleted else None
            for form in self.forms
        ]

    def remove_marked(self) -> tuple[list[dict], list[int]]:
        """The rows as typed, without validating them, less those marked for removal.

        Every "made while handling" number follows the row it named to its new place; the new
        numbers of rows whose own call was removed come back too (see ``workflow.compact``).
        """
        return workflow.compact([
            None if form["DELETE"].value() else {name: form[name].value() for name in ROW_FIELDS}
            for form in self.forms
        ])

    def typed_rows(self) -> list[dict]:
        """The rows as they were typed, without validating them, less those marked for removal."""
        return self.remove_marked()[0]

    def removed_index(self) -> int | None:
        """The first row marked for removal, where the cursor goes once it is gone."""
        return next((i for i, form in enumerate(self.forms) if form["DELETE"].value()), None)

    def rows(self) -> list[dict]:
        """The filled-in rows of a valid formset, in order, numbered without the empty ones."""
        return workflow.compact(self.numbered_rows())[0]


WorkflowRowFormSet = formset_factory(
    WorkflowRowForm,
    formset=BaseWorkflowRowFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_OWN_ROWS,
    validate_max=True,
    # Reading stops here whatever the management form claims; validation reports the excess.
    absolute_max=50,
    can_delete=True,
)
ROWS_PREFIX = "rows"


def row_formset(data=None, *, rows: list[dict] | None = None) -> BaseWorkflowRowFormSet:
    """The rows of the own-workflow form: bound to posted data, or drawn from ``rows``."""
    if data is not None:
        return cast(BaseWorkflowRowFormSet, WorkflowRowFormSet(data, prefix=ROWS_PREFIX))
    return cast(BaseWorkflowRowFormSet, WorkflowRowFormSet(initial=rows or [], prefix=ROWS_PREFIX))


class WorkflowForm(forms.Form):
    name = forms.CharField(
        label="Name your workflow",
        max_length=120,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Check in for a flight"}),
        error_messages={"required": "Give your workflow a name."},
    )
    proposal = forms.CharField(
        label="Which hop would you make async, and why?",
        required=False,
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when more than two sync hops sit on the critical path.",
        error_messages={
            "max_length": "Keep the proposal to %(limit_value)d characters "
            "(it has %(show_value)d)."
        },
    )
    token = forms.UUIDField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={"invalid": "The form's token is damaged. Reload the page and hand "
                        "your workflow in again."},
    )

    def typed(self) -> dict:
        """Name, proposal and token as sent, without validating them, to draw the form again."""
        return {name: self[name].value() for name in self.fields}


def validate_workflow(form: WorkflowForm, formset: BaseWorkflowRowFormSet) -> bool:
    """Validate the whole own-workflow form, including the proposal that a long chain needs."""
    if not (form.is_valid() & formset.is_valid()):
        return False
    hops = workflow.count_hops(formset.rows())
    if workflow.over_limit(hops) and not form.cleaned_data["proposal"].strip():
        form.add_error(
            "proposal",
            f"Your workflow has {hops} sync hops on the critical path. Say which one you "
            "would make async, and why.",
        )
        return False
    return True


# Short names for the top-of-form summary, where the field's own label would be too long.
SUMMARY_NAMES = {"name": "Workflow name", "proposal": "Which hop to make async"}
ROW_SUMMARY_NAMES = {"after": "Made while handling", "exchange": "What is exchanged"}


def error_summary(form: WorkflowForm, formset) -> list[tuple[str, str]]:
    """Every problem on the own-workflow form as (message, id of the field to jump to).

    On a phone the proposal box sits far below the top of the form, so the summary names each
    field and links to it rather than only saying that something is wrong.
    """
    items: list[tuple[str, str]] = []
    for error in form.errors.get("name", []):
        items.append((f"{SUMMARY_NAMES['name']}: {error}", form["name"].id_for_label))
    rows = formset.forms
    for error in formset.non_form_errors():
        target = rows[0]["caller"].id_for_label if rows else f"id_{formset.prefix}-0-caller"
        items.append((str(error), target))
    # A problem shared by several rows (a cycle) is listed once, at its first row.
    structural = {problem.message for problem in getattr(formset, "structure_problems", [])}
    shown: set[str] = set()
    for number, row in enumerate(rows, start=1):
        for name, errors in row.errors.items():
            field = row.fields.get(name)
            if field is None:
                continue
            if errors[0] in structural:
                # These already name their rows.
                if errors[0] in shown:
                    continue
                shown.add(errors[0])
                message = errors[0]
            else:
                label = ROW_SUMMARY_NAMES.get(name) or field.label or name.title()
                message = f"Interaction {number}, {label}: {errors[0]}"
            # A group of radios has no single id to jump to: its first radio stands for it.
            items.append((message, row[name].id_for_label or f"{row[name].auto_id}_0"))
    for error in form.errors.get("proposal", []):
        items.append((f"{SUMMARY_NAMES['proposal']}: {error}", form["proposal"].id_for_label))
    return items
