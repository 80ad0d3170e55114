"""Input rules shared by the calculator page and the JSON API.

Each rule lives in one field or ``clean`` method, so the page's inline errors and the API's
400 responses always agree. Messages name the quantity, so they read well next to a form field
and on their own in a JSON error.
"""

import math
import re
from collections.abc import Callable
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError

from simulator import model

MAX_HOPS = 10_000
MAX_SERVERS = 10_000
MAX_PLOTTED_HOPS = 50
MIN_LATENCY_MS = 0.001
MAX_LATENCY_MS = 3_600_000.0
MAX_SEED = 2**32 - 1
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


class NumberField(forms.FloatField):
    """A finite decimal within bounds, with messages that say which number is wrong."""

    def __init__(
        self,
        *,
        noun: str,
        low: float,
        high: float,
        range_message: str,
        example: str,
        above_zero: bool = False,
        **kwargs: Any,
    ) -> None:
        self.noun, self.low, self.high = noun, low, high
        self.range_message, self.above_zero = range_message, above_zero
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"] = {
            "required": f"Give the {noun}.",
            "invalid": f"The {noun} must be a number, such as {example}.",
            **kwargs["error_messages"],
        }
        super().__init__(**kwargs)
        self.widget.attrs.update(inputmode="decimal", step="any")

    def validate(self, value: float | None) -> None:
        # FloatField.validate would reject NaN and infinity with the generic "not a number".
        forms.Field.validate(self, value)
        if value is None:
            return
        if not math.isfinite(value):
            raise ValidationError(
                f"The {self.noun} must be a finite number; NaN and infinity are not allowed.",
                code="not_finite",
            )
        if self.above_zero and value <= 0:
            raise ValidationError(f"The {self.noun} must be more than 0.", code="not_positive")
        if not self.low <= value <= self.high:
            raise ValidationError(self.range_message, code="out_of_range")

    def clean(self, value: Any) -> float | None:
        number = super().clean(value)
        # "-0" is a valid zero, but a negative zero would leak into every figure as -0.0.
        return number + 0.0 if number is not None else None


class WholeNumberField(forms.IntegerField):
    """A whole number within bounds, with messages that say which number is wrong."""

    def __init__(self, *, noun: str, low: int, high: int, example: int, **kwargs: Any) -> None:
        self.noun, self.low, self.high = noun, low, high
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"] = {
            "required": f"Give the {noun}.",
            "invalid": f"The {noun} must be a whole number, such as {example}.",
            **kwargs["error_messages"],
        }
        super().__init__(**kwargs)
        self.widget.attrs.update(inputmode="numeric", min=low, max=high, step=1)

    def validate(self, value: int | None) -> None:
        forms.Field.validate(self, value)
        if value is None:
            return
        if not self.low <= value <= self.high:
            raise ValidationError(
                f"The {self.noun} must be a whole number from {self.low:,} to {self.high:,}.",
                code="out_of_range",
            )


def failure_field(**kwargs: Any) -> NumberField:
    return NumberField(
        noun="failure probability per hop",
        low=0.0,
        high=1.0,
        range_message="The failure probability per hop must be between 0 and 1 "
        "(0.01 means one call in 100 fails).",
        example="0.01",
        **kwargs,
    )


def availability_field(**kwargs: Any) -> NumberField:
    return NumberField(
        noun="availability per hop",
        low=0.0,
        high=100.0,
        range_message="The availability per hop must be a percentage from 0 to 100 "
        "(99.9 means one call in 1,000 fails).",
        example="99.9",
        **kwargs,
    )


def slow_field(**kwargs: Any) -> NumberField:
    return NumberField(
        noun="chance that a server is slow",
        low=0.0,
        high=1.0,
        range_message="The chance that a server is slow must be between 0 and 1 "
        "(0.01 means one reply in 100 is slow).",
        example="0.01",
        **kwargs,
    )


def latency_field(noun: str, **kwargs: Any) -> NumberField:
    return NumberField(
        noun=noun,
        low=MIN_LATENCY_MS,
        high=MAX_LATENCY_MS,
        above_zero=True,
        range_message=f"The {noun} must be from {MIN_LATENCY_MS} ms to {MAX_LATENCY_MS:,.0f} ms.",
        example="100",
        **kwargs,
    )


def samples_field(**kwargs: Any) -> WholeNumberField:
    return WholeNumberField(
        noun="number of simulated requests",
        low=1,
        high=model.MAX_SAMPLES,
        example=model.DEFAULT_SAMPLES,
        **kwargs,
    )


def seed_field(**kwargs: Any) -> WholeNumberField:
    return WholeNumberField(noun="random seed", low=0, high=MAX_SEED, example=2013, **kwargs)


class LatencyRulesForm(forms.Form):
    """A form with cross-field rules: a lognormal needs its median below its p99, and one
    request may not draw more than ``model.MAX_DRAWS`` random latencies."""

    def check_latencies(self, data: dict[str, Any]) -> None:
        median, p99 = data.get("median_ms"), data.get("p99_ms")
        if median is not None and p99 is not None and median >= p99:
            self.add_error(
                "median_ms",
                f"The median latency must be below the p99 latency ({p99:g} ms): "
                "a typical call is faster than the slowest one in a hundred.",
            )

    def check_budget(self, data: dict[str, Any], hops: int | None) -> None:
        samples = data.get("samples")
        if samples is None or hops is None or samples * hops <= model.MAX_DRAWS:
            return
        self.add_error(
            "samples",
            f"Simulated requests × hops is {samples * hops:,}, above the limit of "
            f"{model.MAX_DRAWS:,}; with {hops:,} hops use at most "
            f"{model.MAX_DRAWS // hops:,} requests.",
        )


class ChainQueryForm(LatencyRulesForm):
    """Query of ``GET /simulator/api/chain``."""

    hops = WholeNumberField(noun="number of hops", low=1, high=MAX_HOPS, example=5)
    failure = failure_field()
    p99_ms = latency_field("p99 latency per hop")
    median_ms = latency_field("median latency per hop", required=False)
    samples = samples_field(required=False)
    seed = seed_field(required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        self.check_latencies(data)
        self.check_budget(data, data.get("hops"))
        return data


class FanoutQueryForm(forms.Form):
    """Query of ``GET /simulator/api/fanout``."""

    servers = WholeNumberField(noun="number of servers", low=1, high=MAX_SERVERS, example=100)
    slow = slow_field()
    samples = samples_field(required=False)
    seed = seed_field(required=False)


def format_number(value: float) -> str:
    """A number as a person would type it: 20 rather than 20.0, 0.001 rather than 0.0010."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def availability_of(failure: float) -> str:
    return format_number(round((1 - failure) * 100, 10))


def failure_of(availability: float) -> float:
    # Rounding drops the float noise of 1 - 99.9 / 100 (0.0009999999999998899).
    return round(1 - availability / 100, 12) + 0.0


class CalculatorForm(LatencyRulesForm):
    """The calculator page and its embedded copy in the latency-math lesson."""

    P_AS_CHOICES = (("p", "Failure chance p"), ("availability", "Availability %"))

    p_as = forms.ChoiceField(
        choices=P_AS_CHOICES,
        initial="p",
        required=False,
        widget=forms.RadioSelect,
        label="Give each hop's reliability as",
    )
    failure = failure_field(
        label="Failure (p)",
        help_text="0.01: 1 call in 100 fails.",
        required=False,
    )
    availability = availability_field(
        label="Availability (%)",
        help_text="99.9: 1 call in 1,000 fails.",
        required=False,
    )
    median_ms = latency_field(
        "median latency per hop", label="Median (ms)", help_text="A typical call."
    )
    p99_ms = latency_field(
        "p99 latency per hop",
        label="p99 (ms)",
        help_text="1 call in 100 is slower.",
    )
    hops = WholeNumberField(
        noun="number of sync hops in your chain",
        low=0,  # a drill answer can keep every call off the critical path
        high=MAX_PLOTTED_HOPS,
        example=5,
        label="Hops (N)",
        help_text="Your chain; marked on the charts.",
    )
    max_hops = WholeNumberField(
        noun="longest chain to plot",
        low=1,
        high=MAX_PLOTTED_HOPS,
        example=10,
        label="Plot up to N =",
        help_text=f"At most {MAX_PLOTTED_HOPS}.",
    )
    servers = WholeNumberField(
        noun="number of servers",
        low=1,
        high=MAX_SERVERS,
        example=100,
        label="Servers (M)",
        help_text="Called in parallel.",
    )
    slow = slow_field(
        label="Slow chance (q)", help_text="0.01: 1 reply in 100."
    )
    samples = samples_field(label="Requests", help_text="At most 1,000,000.")
    seed = seed_field(label="Seed", help_text="Same seed, same numbers.")
    from_drill = forms.CharField(required=False, widget=forms.HiddenInput)

    DEFAULTS = {
        "p_as": "p",
        "failure": "0.01",
        "median_ms": "20",
        "p99_ms": "100",
        "hops": "5",
        "max_hops": "10",
        "servers": "100",
        "slow": "0.01",
        "samples": "100000",
        "seed": "2013",
    }

    def __init__(self, *args: Any, embedded: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["p_as"].widget.attrs["class"] = "form-check-input"
        for name, field in self.fields.items():
            if not field.widget.is_hidden and name != "p_as":
                # Errors are drawn in a slot that is always present, so an htmx response can
                # refresh them without replacing the input someone is typing in.
                field.widget.attrs["aria-describedby"] = f"id_{name}_error id_{name}_helptext"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.field_template = "simulator/_field.html"
        # On its own page the form is a narrow sidebar; inside a lesson it spans the column.
        cell = "col-6 col-md-4" if embedded else "col-6"

        def group(legend: str, *names: str) -> Fieldset:
            return Fieldset(legend, Row(*(Column(name, css_class=cell) for name in names)))

        self.helper.layout = Layout(
            Fieldset(
                "Each sync hop",
                Div("p_as", css_class="simulator-p-as"),
                Row(*(Column(name, css_class="col-6 col-md-3" if embedded else cell)
                      for name in ("failure", "availability", "median_ms", "p99_ms"))),
            ),
            group("Chain of sync hops", "hops", "max_hops"),
            group("Fan-out", "servers", "slow"),
            group("Simulation", "samples", "seed"),
            "from_drill",
        )

    @classmethod
    def from_query(cls, query: Any, *, embedded: bool = False) -> "CalculatorForm":
        """Bind to a query string; anything it leaves out takes the lesson's numbers."""
        data = dict(cls.DEFAULTS)
        data.update({name: query[name] for name in cls.base_fields if name in query})
        if "availability" in query and "failure" not in query and "p_as" not in query:
            data["p_as"] = "availability"
        # The field not chosen always shows the chosen one converted, so the two never disagree.
        if data.get("p_as") == "availability":
            data["failure"] = cls.mirror(
                data.get("availability", ""), 100, lambda a: format_number(failure_of(a))
            )
        else:
            data["availability"] = cls.mirror(data.get("failure", ""), 1, availability_of)
        return cls(data, embedded=embedded)

    @staticmethod
    def mirror(raw: str, high: float, convert: Callable[[float], str]) -> str:
        """The other field's value for a raw input, or "" when the input is not a usable number."""
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return ""
        return convert(value) if 0 <= value <= high else ""

    def clean_p_as(self) -> str:
        return self.cleaned_data["p_as"] or "p"

    def clean_from_drill(self) -> str:
        # The marker only labels the charts; a malformed one is dropped rather than reported
        # against a field the learner cannot see.
        value = self.cleaned_data["from_drill"]
        return value if SLUG.fullmatch(value) else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        self.resolve_failure(data)
        self.check_latencies(data)
        hops, max_hops = data.get("hops"), data.get("max_hops")
        if hops is not None and max_hops is not None:
            data["max_hops"] = max_hops = max(hops, max_hops)
        self.check_budget(data, max_hops)
        return data

    def resolve_failure(self, data: dict[str, Any]) -> None:
        """Turn whichever of p and availability the learner chose into p.

        The field not chosen only mirrors the other one, so its errors are dropped rather than
        reported against a number the calculation does not use.
        """
        chosen = "availability" if data.get("p_as") == "availability" else "failure"
        ignored = "failure" if chosen == "availability" else "availability"
        self.errors.pop(ignored, None)
        if chosen in self.errors:
            data.pop("failure", None)
            return
        value = data.get(chosen)
        if value is None:
            self.add_error(chosen, self.fields[chosen].error_messages["required"])
            data.pop("failure", None)
            return
        data["failure"] = failure_of(value) if chosen == "availability" else value
        data["availability"] = float(availability_of(data["failure"]))
