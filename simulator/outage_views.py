"""The outage lab page and its two JSON endpoints."""

import math
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from config.http import HtmxHttpRequest
from simulator import memo, outage, outage_charts, outage_workflows
from simulator.outage_forms import LabForm, OutageQueryForm, SlowdownQueryForm
from simulator.views import json_bad_request, read_only_api

PAGE = "simulator/outage.html"
SECTION = f"{PAGE}#lab"

GROUPS = (
    ("Workflow and fault", False, ("workflow", "service", "fault")),
    ("The fault", True, ("duration_s", "slow_ms")),
    ("Traffic and capacity", True, ("rate", "capacity", "latency_ms", "timeout_ms", "workers")),
    ("Retries and outbox", True, ("retries", "retry_interval_s", "outbox")),
)
WIDE = {"outbox"}


def lab_context(query: QueryDict, *, action: str) -> dict[str, Any]:
    """Everything the lab's section needs, from a query string of inputs.

    ``action`` is the page the lab sits on; its plain (no JavaScript) form goes back there.
    """
    endpoint = reverse("simulator:outage")
    data = dict(LabForm.DEFAULTS)
    data.update({name: query.get(name, "") for name in LabForm.base_fields if name in query})
    note = None
    design = query.get("design", "")[:outage_workflows.MAX_DESIGN_LENGTH]
    own = outage_workflows.is_own(design)
    # An own workflow is kept along under another workflow, so the learner can come back to it.
    run_with = "" if own and data["workflow"] != outage_workflows.OWN else design
    try:
        workflow = outage_workflows.get(data["workflow"], run_with)
    except outage_workflows.DesignError as exc:
        if data["workflow"] == outage_workflows.OWN:
            note = f"Your workflow could not be read ({exc}), so the lab shows the worked example."
            data["workflow"] = outage_workflows.CHECKOUT
        else:
            # Run the drill as the key has it, and say why the learner's design is not shown.
            note = (f"Your design could not be read ({exc}), so the lab shows the drill's two "
                    "designs.")
        design, own = "", False
        workflow = outage_workflows.get(data["workflow"])
    data["design"] = design
    services = list(workflow.services if workflow else outage.worked_example().services)
    if workflow is not None and data["service"] not in services:
        # A new workflow keeps the chosen service when it has one; otherwise its first is shown.
        if "service" in query and query["service"]:
            note = (f"{data['service']} is not part of {workflow.title}, so the lab shows "
                    f"{services[0]}.")
        data["service"] = services[0]
    form = LabForm(data, workflows=outage_workflows.choices(own=own), services=services)
    form.fields["workflow"].error_messages["invalid_choice"] = (
        "Pick one of the listed workflows."
    )
    lab = figures = readings = None
    if form.is_valid() and workflow is not None:
        lab = outage.run_lab(form.scenario(), workflow, form.cleaned_data["service"])
        figures = outage_charts.figures(lab)
        readings = outage_charts.readings(lab)
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] += " is-invalid"
            widget.attrs["aria-invalid"] = "true"
    charts = [
        {"key": key, "title": title, "figure": figures[key], "reading": readings[key],
         "rows": outage_charts.table_rows(lab, key)}
        for key, title, _ in outage_charts.CHARTS
    ] if lab is not None and figures is not None and readings is not None else []
    groups = [
        {"legend": legend,
         "cells": [(form[name], not half or name in WIDE) for name in names]}
        for legend, half, names in GROUPS
    ]
    return {
        "lab_form": form,
        "lab_groups": groups,
        "lab": lab,
        "lab_charts": charts,
        "lab_note": note,
        "lab_action": action,
        "lab_endpoint": endpoint,
        "lab_embedded": action != endpoint,
        "lab_query": query.urlencode(),
    }


def lab_html(query: QueryDict, *, action: str) -> str:
    """The lab's section for these inputs on this page, rendered once for every server: it shows
    nothing of the visitor's own, so a repeat view runs no model and draws no chart."""
    return memo.rendered(
        SECTION, lambda: lab_context(query, action=action),
        query=sorted(query.lists()), action=action,
    )


@require_safe
@vary_on_headers("HX-Request")
def lab(request: HtmxHttpRequest) -> HttpResponse:
    context = lab_context(request.GET, action=reverse("simulator:outage"))
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{PAGE}#results", {**context, "oob": True})
    return render(request, PAGE, context)


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


@read_only_api
def api_outage(request: HttpRequest) -> JsonResponse:
    """The service down for ``down_s`` seconds, in both designs."""
    form = OutageQueryForm(request.GET)
    if not form.is_valid():
        return json_bad_request(form)
    scenario = form.scenario()
    sync, queued = outage.sync_outcome(scenario), outage.async_outcome(scenario)
    body: dict[str, Any] = {
        "rate": scenario.rate,
        "capacity": scenario.capacity,
        "down_s": scenario.duration_s,
        "sync": {
            "failed_requests": sync.failed_requests,
            "failed_per_s": sync.failed_per_s,
            "timeout_ms": scenario.timeout_ms,
            "workers": scenario.workers,
            "in_flight": sync.in_flight,
            "peak_workers_busy": sync.peak_workers_busy,
            "saturated": sync.saturated,
        },
        "async": {
            "failed_requests": queued.failed_requests,
            "peak_backlog": queued.peak_backlog,
            "drain_s": queued.drain_s,
            "max_lag_s": queued.max_lag_s,
            "all_handled_s": queued.all_handled_s,
            "retries": scenario.retries,
            "retry_interval_s": scenario.retry_interval_s,
            "dead_letters": queued.dead_letters,
        },
    }
    if form.cleaned_data["series"]:
        times = outage.timeline(scenario)
        sync_series = outage.simulate_sync(scenario, times)
        async_series = outage.simulate_async(scenario, times)
        body["series"] = {
            "t_s": times.tolist(),
            "sync_failed": sync_series.failed.tolist(),
            "sync_workers_busy": sync_series.workers_busy.tolist(),
            "async_queue_depth": async_series.queue_depth.tolist(),
            "async_lag_s": async_series.lag_s.tolist(),
            "async_dead_letters": async_series.dead_letters.tolist(),
        }
    return JsonResponse(body)


@read_only_api
def api_slowdown(request: HttpRequest) -> JsonResponse:
    """A caller's worker pool in front of a service answering in ``latency_ms`` (Little's law)."""
    form = SlowdownQueryForm(request.GET)
    if not form.is_valid():
        return json_bad_request(form)
    data = form.cleaned_data
    pool = outage.slowdown(data["rate"], data["latency_ms"], data["workers"])
    return JsonResponse({
        "rate": pool.rate,
        "latency_ms": pool.latency_ms,
        "workers": pool.workers,
        "in_flight": pool.in_flight,
        "utilisation": pool.utilisation,
        "saturated": pool.saturated,
        "admitted_per_s": pool.admitted_per_s,
        "refused_per_s": pool.refused_per_s,
    })
