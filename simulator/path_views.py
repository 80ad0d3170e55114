"""The per-hop simulator on the simulator page: a table of hops with their own settings,
correlated slowness, timeouts and retries, and the end-to-end latency histogram."""

from typing import Any

import plotly.graph_objects as go
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from config.http import HtmxHttpRequest
from simulator import memo, model
from simulator.charts import ACCENT, INK, RULE, SIMULATED, _axis, _figure, _layout
from simulator.path_forms import DEFAULT_HOPS, MAX_PATH_HOPS, PREFIX, HopFormSet, PathForm
from simulator.report import milliseconds, percent

SECTION = "simulator/_path.html"


def _formset_data(query: QueryDict) -> dict[str, Any]:
    if f"{PREFIX}-TOTAL_FORMS" not in query:
        data: dict[str, Any] = {f"{PREFIX}-TOTAL_FORMS": str(len(DEFAULT_HOPS)),
                                f"{PREFIX}-INITIAL_FORMS": "0"}
        for index, row in enumerate(DEFAULT_HOPS):
            data.update({f"{PREFIX}-{index}-{name}": value for name, value in row.items()})
            data[f"{PREFIX}-{index}-retries"] = "0"
        return data
    data = {key: query[key] for key in query if key.startswith(f"{PREFIX}-")}
    if "add_hop" in query:
        try:
            count = int(data[f"{PREFIX}-TOTAL_FORMS"])
        except ValueError:
            return data
        if 0 <= count < MAX_PATH_HOPS:
            data[f"{PREFIX}-TOTAL_FORMS"] = str(count + 1)
            data.update({f"{PREFIX}-{count}-name": f"Hop {count + 1}",
                         f"{PREFIX}-{count}-failure": "0.01", f"{PREFIX}-{count}-median_ms": "20",
                         f"{PREFIX}-{count}-p99_ms": "100", f"{PREFIX}-{count}-retries": "0"})
    return data


def path_context(query: QueryDict) -> dict[str, Any]:
    """Everything the per-hop section needs, from a query string of inputs."""
    formset = HopFormSet(_formset_data(query), prefix=PREFIX)
    settings = dict(PathForm.DEFAULTS)
    settings.update({name: query.get(name, "") for name in PathForm.base_fields if name in query})
    form = PathForm(settings)
    run = figure = None
    if formset.is_valid() and form.is_valid():
        kept = [row for row in formset.forms if row not in formset.deleted_forms]
        hops, policies = zip(*(row.hop() for row in kept), strict=True)
        attempts = sum(1 + policy.retries for policy in policies)
        samples = form.cleaned_data["path_samples"]
        if samples * attempts > model.MAX_DRAWS:
            form.add_error("path_samples", (
                f"Requests × attempts is {samples * attempts:,}, above the limit of "
                f"{model.MAX_DRAWS:,}; with {attempts} attempts per request use at most "
                f"{model.MAX_DRAWS // attempts:,} requests."))
        else:
            run = model.simulate_path(hops, policies, correlation=form.cleaned_data["correlation"],
                                      samples=samples, seed=form.cleaned_data["path_seed"])
            figure = histogram_figure(run)
    for bound in (*formset.forms, form):
        for name in bound.errors:
            if name in bound.fields:
                bound.fields[name].widget.attrs["class"] += " is-invalid"
                bound.fields[name].widget.attrs["aria-invalid"] = "true"
    rows = []
    if run is not None:
        loads = model.path_load(hops, policies)
        rows = [{"hop": hop, "policy": policy, "outcome": outcome, "load": load,
                 "attempt_failure": model.attempt_failure(hop, policy),
                 "failure": model.hop_failure_with_retries(hop, policy)}
                for hop, policy, outcome, load in zip(hops, policies, run.hops, loads, strict=True)]
    return {
        "path_formset": formset,
        "path_form": form,
        "path_run": run,
        "path_rows": rows,
        "path_figure": figure,
        "path_reading": reading(run, rows) if run else "",
        "path_can_add": len(formset.forms) < MAX_PATH_HOPS,
        "path_bins": list(zip(run.histogram_edges, run.histogram_counts, strict=False))
        if run else [],
    }


def section_html(query: QueryDict) -> str:
    """The per-hop section for these inputs, rendered once for every server."""
    return memo.rendered(SECTION, lambda: path_context(query), query=sorted(query.lists()))


def reading(run: model.PathSimulation, rows: list[dict[str, Any]]) -> str:
    gap = (run.sum_p99_ms - run.p99_ms) / run.sum_p99_ms if run.sum_p99_ms else 0.0
    text = (f"The simulated p99 is {milliseconds(run.p99_ms)} against "
            f"{milliseconds(run.sum_p99_ms)} by the sum of p99s")
    plain = all(row["hop"].failure == 0 and row["policy"] == model.HopPolicy() for row in rows)
    if run.correlation == 1 and plain:
        text += ": with every hop slow at once the sum rule is the truth, up to sampling noise"
    elif run.correlation == 1:
        text += (": every hop is slow at once, where the sum rule would be exact, but failures "
                 "that end a request early and timeouts that cut attempts short move the p99 "
                 "off it")
    elif gap > 0:
        text += f", {gap:.0%} below it"
        if run.correlation > 0:
            text += f"; hops slow together {percent(run.correlation)} of the time close the gap"
    text += f". p50 {milliseconds(run.p50_ms)}, p99.9 {milliseconds(run.p999_ms)}."
    busiest = max(rows, key=lambda row: row["load"] / row["outcome"].reached
                  if row["outcome"].reached else 0)
    per_call = busiest["load"]
    if busiest["policy"].retries and per_call > 1.0005:
        text += (f" Retries make {busiest['hop'].name} see {per_call:.3g} attempts per user "
                 "request: retry amplification.")
    return text


def histogram_figure(run: model.PathSimulation) -> dict[str, Any]:
    edges = run.histogram_edges
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
    share = [count / run.samples for count in run.histogram_counts]
    data = [go.Bar(x=centres, y=share, width=edges[1] - edges[0], name="Requests",
                   marker_color="#94a3b8", hovertemplate="%{x:,.0f} ms: %{y:.2%}<extra></extra>")]
    marks = (("p50", run.p50_ms, ACCENT, "solid"), ("p99", run.p99_ms, SIMULATED, "solid"),
             ("p99.9", run.p999_ms, INK, "dot"), ("sum of p99s", run.sum_p99_ms, RULE, "dash"))
    shapes, annotations = [], []
    for index, (label, value, colour, dash) in enumerate(marks):
        shapes.append({"type": "line", "x0": value, "x1": value, "y0": 0, "y1": 1,
                       "yref": "paper", "line": {"color": colour, "width": 2, "dash": dash}})
        annotations.append({"x": value, "y": 1 - 0.09 * index, "yref": "paper",
                            "xanchor": "left", "text": f"{label} {milliseconds(value)}",
                            "showarrow": False, "font": {"size": 11, "color": colour},
                            "bgcolor": "rgba(255,255,255,0.85)"})
    top = max(edges[-1], run.sum_p99_ms * 1.15)
    layout = _layout(
        height=340, hovermode="closest", bargap=0, showlegend=False,
        xaxis=_axis("End-to-end latency (ms)", range=[0, top], tickformat=",~r"),
        yaxis=_axis("Share of requests", tickformat=".1%", rangemode="tozero"),
        shapes=shapes, annotations=annotations,
    )
    return _figure(data, layout)


@require_safe
@vary_on_headers("HX-Request")
def path(request: HtmxHttpRequest) -> HttpResponse:
    """The per-hop section alone, for htmx; without htmx, the simulator page it belongs to."""
    if not request.htmx:
        return redirect(f"{reverse('simulator:calculator')}?{request.GET.urlencode()}#path")
    context = path_context(request.GET)
    if request.htmx.target == "path":
        return render(request, SECTION, context)
    return render(request, f"{SECTION}#path-results", {**context, "oob": True})
