"""Inputs of the per-hop simulator: a formset of hops, each with its own settings, and the
correlation and size of the run."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from simulator import model
from simulator.forms import (
    LatencyRulesForm,
    NumberField,
    WholeNumberField,
    failure_field,
    latency_field,
    samples_field,
    seed_field,
)

PREFIX = "hop"
MAX_PATH_HOPS = 8
MAX_RETRIES = 5

DEFAULT_HOPS = (
    {"name": "Payments", "failure": "0.01", "median_ms": "40", "p99_ms": "200"},
    {"name": "Inventory", "failure": "0.01", "median_ms": "20", "p99_ms": "100"},
    {"name": "Fulfillment", "failure": "0.01", "median_ms": "30", "p99_ms": "150"},
)


class HopForm(LatencyRulesForm):
    name = forms.CharField(max_length=40, label="Name", error_messages={
        "required": "Give the hop a name.",
        "max_length": "Keep the hop's name to 40 characters.",
    })
    failure = failure_field(label="p")
    # Labels differ from the calculator's ("Median (ms)"), which sits on the same page.
    median_ms = latency_field("median latency", label="Median latency in ms")
    p99_ms = latency_field("p99 latency", label="p99 latency in ms")
    timeout_ms = latency_field("timeout", label="Timeout in ms", required=False)
    retries = WholeNumberField(noun="number of retries", low=0, high=MAX_RETRIES, example=2,
                               label="Retries", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        self.check_latencies(data)
        return data

    def hop(self) -> tuple[model.Hop, model.HopPolicy]:
        data = self.cleaned_data
        return (
            model.Hop(data["name"], data["failure"], data["median_ms"], data["p99_ms"]),
            model.HopPolicy(data["timeout_ms"], data["retries"] or 0),
        )


class BaseHopFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def clean(self) -> None:
        if any(self.errors):
            return
        names = [form.cleaned_data.get("name") for form in self.forms
                 if form not in self.deleted_forms]
        if len(set(names)) != len(names):
            raise ValidationError("Give every hop a different name.")


HopFormSet = forms.formset_factory(
    HopForm, formset=BaseHopFormSet, extra=0, min_num=1, can_delete=True, max_num=MAX_PATH_HOPS,
    validate_min=True, validate_max=True, absolute_max=MAX_PATH_HOPS,
)


class PathForm(forms.Form):
    correlation = NumberField(
        noun="correlation", low=0.0, high=1.0, example="0.3", label="Slow together (c)",
        range_message="The correlation must be between 0 (independent hops) and 1 (every hop "
        "slow at once).",
        help_text="Chance that a request's hops are slow or fast together.",
    )
    path_samples = samples_field(label="Simulated requests")
    path_seed = seed_field(label="Seed for the hops")

    DEFAULTS = {"correlation": "0", "path_samples": "100000", "path_seed": "2013"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-control"
            field.widget.attrs["aria-describedby"] = f"id_{name}_error id_{name}_helptext"
