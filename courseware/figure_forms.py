"""The controls of lesson figures: each a GET form under the figure's own prefix.

An invalid value is shown as an error beside its field, and the figure is drawn from the
defaults meanwhile, so a bad query string never costs the learner the figure.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from courseware.lesson_figures import ASYNC, FAULTS, STYLES, SYNC


def range_input(low: float, high: float, step: float) -> forms.NumberInput:
    return forms.NumberInput(attrs={"type": "range", "min": low, "max": high, "step": step,
                                    "class": "form-range"})


def number_input(low: float, high: float, step: float | str) -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": low, "max": high, "step": step,
                                    "class": "form-control form-control-sm"})


class FigureForm(forms.Form):
    def __init__(self, query: QueryDict, *, prefix: str) -> None:
        names = [f"{prefix}-{name}" for name in self.base_fields]
        bound = any(name in query for name in names)
        super().__init__(query if bound else None, prefix=prefix)

    def values(self) -> dict[str, Any]:
        """The cleaned values, or the defaults where the query gave none or a bad one."""
        defaults = {name: field.initial for name, field in self.fields.items()}
        if not self.is_bound:
            return defaults
        if self.is_valid():
            return {**defaults, **self.cleaned_data}
        return {**defaults, **{k: v for k, v in self.cleaned_data.items() if k not in self.errors}}


class TimelineForm(FigureForm):
    callee_ms = forms.IntegerField(
        label="The callee's work (ms)", min_value=10, max_value=1500, initial=120,
        widget=range_input(10, 1500, 10),
    )
    lag_ms = forms.IntegerField(
        label="Time the message waits in the broker (ms)", min_value=0, max_value=1500,
        initial=60, widget=range_input(0, 1500, 10),
    )
    callee_down = forms.BooleanField(
        label="The callee is down", required=False, initial=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class PoolForm(FigureForm):
    downstream_ms = forms.IntegerField(
        label="Inventory's latency (ms)", min_value=0, max_value=3000, initial=20,
        widget=range_input(0, 3000, 10),
    )
    rate = forms.IntegerField(
        label="Requests a second", min_value=1, max_value=5000, initial=1000,
        widget=number_input(1, 5000, 1),
    )
    workers = forms.IntegerField(
        label="Workers in each pool", min_value=1, max_value=2000, initial=200,
        widget=number_input(1, 2000, 1),
    )
    timeout_ms = forms.IntegerField(
        label="The caller's timeout (ms)", min_value=10, max_value=10000, initial=1000,
        widget=number_input(10, 10000, 10),
    )


STYLE_WIDGET = forms.RadioSelect(attrs={"class": "form-check-input"})


class CheckoutForm(FigureForm):
    inventory = forms.ChoiceField(label="Orders → Inventory", choices=STYLES, initial=SYNC,
                                  widget=STYLE_WIDGET)
    payments = forms.ChoiceField(label="Orders → Payments", choices=STYLES, initial=SYNC,
                                 widget=STYLE_WIDGET)
    fulfillment = forms.ChoiceField(label="Orders → Fulfillment", choices=STYLES, initial=SYNC,
                                    widget=STYLE_WIDGET)
    fault = forms.ChoiceField(label="What goes wrong", choices=FAULTS, initial="none",
                              widget=forms.Select(attrs={"class": "form-select form-select-sm"}))


class ComplexityForm(FigureForm):
    style = forms.ChoiceField(label="The interaction is", choices=STYLES, initial=ASYNC,
                              widget=STYLE_WIDGET)
