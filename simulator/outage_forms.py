"""Input rules of the outage lab and its two JSON endpoints.

Each quantity has one field factory, used by the lab's form and by the API's, so an inline
error on the page and a 400 from the API always say the same thing.

Documented bounds: rate up to 100,000 a second; capacity up to 1,000,000 a second; a fault up
to 86,400 s (a day) long; latency, slowdown and timeout up to 600,000 ms (ten minutes); up to
100,000 workers; up to 100 retries, 1 to 86,400 s apart.
"""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from simulator import outage
from simulator.forms import NumberField, WholeNumberField

MAX_RATE = 100_000.0
MAX_CAPACITY = 1_000_000.0
MAX_DURATION_S = 86_400.0
MAX_MS = 600_000.0
MAX_WORKERS = 100_000
MAX_RETRIES = 100
MAX_RETRY_INTERVAL_S = 86_400.0


def rate_field(**kwargs: Any) -> NumberField:
    return NumberField(
        noun="arrival rate", low=0.0, high=MAX_RATE, above_zero=True, example="100",
        range_message=f"The arrival rate must be at most {MAX_RATE:,.0f} requests a second.",
        **kwargs,
    )


def capacity_field(**kwargs: Any) -> NumberField:
    return NumberField(
        noun="consumer capacity", low=0.0, high=MAX_CAPACITY, above_zero=True, example="150",
        range_message=f"The consumer capacity must be at most {MAX_CAPACITY:,.0f} events a "
        "second.",
        **kwargs,
    )


def duration_field(**kwargs: Any) -> NumberField:
    return NumberField(
        noun="fault's length", low=0.0, high=MAX_DURATION_S, example="60",
        range_message=f"The fault's length must be from 0 to {MAX_DURATION_S:,.0f} seconds "
        "(a day); it cannot be negative.",
        **kwargs,
    )


def milliseconds_field(noun: str, *, above_zero: bool = True, **kwargs: Any) -> NumberField:
    low = "more than 0" if above_zero else "from 0"
    return NumberField(
        noun=noun, low=0.0, high=MAX_MS, above_zero=above_zero, example="200",
        range_message=f"The {noun} must be {low} and at most {MAX_MS:,.0f} ms (ten minutes).",
        **kwargs,
    )


class WorkersField(WholeNumberField):
    def validate(self, value: int | None) -> None:
        if value is not None and value <= 0:
            raise ValidationError(f"The {self.noun} must be more than 0.", code="not_positive")
        super().validate(value)


def workers_field(**kwargs: Any) -> WorkersField:
    return WorkersField(
        noun="number of workers", low=1, high=MAX_WORKERS, example=50, **kwargs
    )


def retries_field(**kwargs: Any) -> WholeNumberField:
    return WholeNumberField(noun="number of retries", low=0, high=MAX_RETRIES, example=5,
                            **kwargs)


def retry_interval_field(**kwargs: Any) -> NumberField:
    return NumberField(
        noun="time between retries", low=1.0, high=MAX_RETRY_INTERVAL_S, above_zero=True,
        example="30",
        range_message=f"The time between retries must be from 1 to {MAX_RETRY_INTERVAL_S:,.0f} "
        "seconds.",
        **kwargs,
    )


class OutageQueryForm(forms.Form):
    """Query of ``GET /simulator/api/outage``: the service down for ``down_s`` seconds."""

    rate = rate_field()
    capacity = capacity_field()
    down_s = duration_field()
    timeout_ms = milliseconds_field("timeout", required=False)
    workers = workers_field(required=False)
    retries = retries_field(required=False)
    retry_interval_s = retry_interval_field(required=False)
    series = forms.BooleanField(required=False)

    def scenario(self) -> outage.Scenario:
        data = self.cleaned_data
        optional = {
            name: data[name]
            for name in ("timeout_ms", "workers", "retry_interval_s")
            if data[name] is not None
        }
        return outage.Scenario(
            rate=data["rate"], capacity=data["capacity"], fault=outage.DOWN,
            duration_s=data["down_s"], retries=data["retries"], **optional,
        )


class SlowdownQueryForm(forms.Form):
    """Query of ``GET /simulator/api/slowdown``."""

    rate = rate_field()
    latency_ms = milliseconds_field("latency")
    workers = workers_field()


class LabForm(forms.Form):
    """The outage lab's inputs. The service choices depend on the chosen workflow."""

    FAULT_CHOICES = (
        (outage.DOWN, "Service down for T s"),
        (outage.SLOW, "Service slow by X ms for T s"),
        (outage.BROKER, "Broker down for T s"),
    )
    OUTBOX_CHOICES = (("yes", "Yes: events wait in the producer's outbox"),
                      ("no", "No: a request fails if it cannot publish"))

    workflow = forms.ChoiceField(label="Workflow")
    service = forms.ChoiceField(label="Service that fails")
    fault = forms.ChoiceField(choices=FAULT_CHOICES, label="Fault")
    duration_s = duration_field(label="Lasting T (s)")
    slow_ms = milliseconds_field("slowdown", above_zero=False, label="Slower by X (ms)",
                                 help_text="For the slow fault.")
    rate = rate_field(label="Arrival rate R (/s)", help_text="Requests a second.")
    capacity = capacity_field(label="Consumer capacity C (/s)", help_text="Events a second.")
    latency_ms = milliseconds_field("usual latency", label="Usual latency (ms)")
    timeout_ms = milliseconds_field("timeout", label="Caller's timeout (ms)")
    workers = workers_field(label="Caller's workers W")
    retries = retries_field(label="Retries", required=False,
                            help_text="Blank: retry for ever.")
    retry_interval_s = retry_interval_field(label="Retry every (s)")
    outbox = forms.ChoiceField(choices=OUTBOX_CHOICES, label="Outbox")
    # A learner's own answer to the drill (simulator.outage_workflows), carried along unchanged.
    design = forms.CharField(required=False, widget=forms.HiddenInput)

    DEFAULTS = {
        "workflow": "checkout",
        "service": "Inventory",
        "fault": outage.DOWN,
        "duration_s": "60",
        "slow_ms": "500",
        "rate": "100",
        "capacity": "150",
        "latency_ms": "50",
        "timeout_ms": "1000",
        "workers": "50",
        "retries": "5",
        "retry_interval_s": "30",
        "outbox": "yes",
    }

    def __init__(self, *args: Any, workflows: list[tuple[str, str]],
                 services: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["workflow"]).choices = workflows
        service = cast(forms.ChoiceField, self.fields["service"])
        service.choices = [(name, name) for name in services]
        for name, field in self.fields.items():
            field.widget.attrs["aria-describedby"] = f"id_{name}_error id_{name}_helptext"
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = css

    def scenario(self) -> outage.Scenario:
        data = self.cleaned_data
        return outage.Scenario(
            rate=data["rate"], capacity=data["capacity"], fault=data["fault"],
            duration_s=data["duration_s"], slow_ms=data["slow_ms"],
            latency_ms=data["latency_ms"], timeout_ms=data["timeout_ms"],
            workers=data["workers"], retries=data["retries"],
            retry_interval_s=data["retry_interval_s"], outbox=data["outbox"] == "yes",
        )
