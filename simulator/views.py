from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from config.http import HtmxHttpRequest
from drills.models import Drill
from simulator import budget, memo, model, path_views, report
from simulator.forms import CalculatorForm, ChainQueryForm, FanoutQueryForm, format_number

PAGE = "simulator/calculator.html"
SECTION = "simulator/_calculator.html"

CHAIN_FIELDS = ("failure", "median_ms", "p99_ms", "hops", "max_hops")
FANOUT_FIELDS = ("servers", "slow")
MODEL_FIELDS = (*CHAIN_FIELDS, *FANOUT_FIELDS, "samples", "seed")

# Each preset sets a whole group of inputs, so a group never has two presets lit at once.
PRESET_GROUPS = (
    ("Chain", CHAIN_FIELDS, (
        ("The lesson's chain", {"failure": 0.01, "median_ms": 20, "p99_ms": 100, "hops": 5,
                                "max_hops": 10}),
        ("Checkout, all sync", {"failure": 0.01, "median_ms": 20, "p99_ms": 100, "hops": 3,
                                "max_hops": 10}),
    )),
    ("Fan-out", FANOUT_FIELDS, (
        ("The Tail at Scale", {"servers": 100, "slow": 0.01}),
        ("2,000 servers × 0.01%", {"servers": 2000, "slow": 0.0001}),
    )),
)


def calculator_context(
    query: QueryDict, *, action: str, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Everything the calculator section needs, from a query string of inputs.

    ``action`` is the page the calculator sits on: the simulator itself or a lesson. Links and
    the form's plain (no JavaScript) submission go back there.
    """
    endpoint = reverse("simulator:calculator")
    embedded = action != endpoint
    form = CalculatorForm.from_query(query, embedded=embedded)
    calculation = figures = None
    valid = form.is_valid()
    data = form.cleaned_data
    if valid:
        inputs = {name: data[name] for name in MODEL_FIELDS}

        def simulate() -> report.Calculation:
            # Only a scenario nobody has run yet costs the client simulated samples.
            if request is not None:
                budget.charge(request, data["samples"])
            return report.calculate(**inputs)

        calculation = memo.remembered("calculation", simulate, **inputs)
        figures = memo.figures(inputs, from_drill=bool(data["from_drill"]))
    # A preset replaces its own group of inputs and keeps every other valid one; an input that
    # is still wrong falls back to the lesson's number so the preset always draws charts.
    current = {
        name: data[name] if data.get(name) is not None else default
        for name, default in CalculatorForm.DEFAULTS.items()
    }
    current["p_as"] = "p"
    if valid and data["p_as"] == "availability":
        current.update(p_as="availability", availability=data["availability"])
    if valid and data["from_drill"]:
        current["from_drill"] = data["from_drill"]
    preset_groups = []
    for group, fields, presets in PRESET_GROUPS:
        links = []
        for label, values in presets:
            merged = {**current, **values}
            if "failure" in values:
                merged.pop("availability", None)
                merged["p_as"] = "p"
            active = valid and all(data[name] == values[name] for name in fields)
            links.append({"label": label, "active": active,
                          **_links(action, endpoint, merged)})
        preset_groups.append({"label": group, "presets": links})
    return {
        "calculator_form": form,
        "calculation": calculation,
        "figures": figures,
        "from_drill": calculation is not None and bool(data["from_drill"]),
        "drill_link": _drill_link(data["from_drill"]) if valid and data["from_drill"] else None,
        "preset_groups": preset_groups,
        "reset": _links(action, endpoint, CalculatorForm.DEFAULTS),
        "simulator_action": action + ("#simulator" if embedded else ""),
        "simulator_embedded": embedded,
        "full_page_url": f"{endpoint}?{query.urlencode()}" if query else endpoint,
    }


def section_html(query: QueryDict, *, action: str, request: HttpRequest | None = None) -> str:
    """The calculator section for these inputs on this page, rendered once for every server: it
    shows nothing of the visitor's own, and a repeat view runs no simulation at all."""
    return memo.rendered(
        SECTION, lambda: calculator_context(query, action=action, request=request),
        query=sorted(query.lists()), action=action,
    )


def _drill_link(slug: str) -> dict[str, str]:
    """A way back to the drill a learner came from, or to the catalogue if no drill has it."""
    title = Drill.objects.filter(slug=slug).values_list("title", flat=True).first()
    if title is None:
        return {"href": reverse("drills:catalogue"), "text": "Back to the drills"}
    return {"href": reverse("drills:detail", args=[slug]), "text": f"Back to the drill “{title}”"}


def _links(action: str, endpoint: str, values: dict[str, Any]) -> dict[str, str]:
    query = urlencode({
        name: format_number(value) if isinstance(value, float) else value
        for name, value in values.items()
    })
    anchor = "#simulator" if action != endpoint else ""
    return {"href": f"{action}?{query}{anchor}", "hx_url": f"{endpoint}?{query}"}


@require_safe
@vary_on_headers("HX-Request", "HX-Target", "HX-Current-URL")
def calculator(request: HtmxHttpRequest) -> HttpResponse:
    endpoint = reverse("simulator:calculator")
    if not request.htmx or request.htmx.history_restore_request:
        return render(request, PAGE, {
            "calculator_html": section_html(request.GET, action=endpoint, request=request),
            "path_html": path_views.section_html(request.GET),
        })
    # The embedded calculator sends its requests here too; the page it sits on decides where its
    # links point and which URL the browser keeps.
    page = urlsplit(request.htmx.current_url_abs_path or endpoint).path
    context = calculator_context(request.GET, action=page, request=request)
    if request.htmx.target == "simulator":
        response = render(request, SECTION, context)
    else:
        response = render(request, f"{SECTION}#results", {**context, "oob": True})
    if page != endpoint:
        response["HX-Push-Url"] = f"{page}?{request.GET.urlencode()}"
    return response


def read_only_api(view: Callable[[HttpRequest], JsonResponse]) -> Callable[..., JsonResponse]:
    """GET and HEAD only, answered in JSON whatever the method.

    The API changes nothing, so it needs no CSRF token; without the exemption a POST would get
    the HTML CSRF page instead of a JSON answer a script can read.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse(
                {"error": f"This API only answers GET requests, not {request.method}.",
                 "field": None},
                status=405,
            )
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)

    return wrapper


def json_bad_request(form: Form) -> JsonResponse:
    field = next(name for name in form.fields if name in form.errors)
    return JsonResponse({"error": form.errors[field][0], "field": field}, status=400)


@read_only_api
def api_chain(request: HttpRequest) -> JsonResponse:
    """Chain of N sync hops: exact and rule-of-thumb figures, simulated ones given a median."""
    form = ChainQueryForm(request.GET)
    if not form.is_valid():
        return json_bad_request(form)
    data = form.cleaned_data
    hops, failure, p99_ms = data["hops"], data["failure"], data["p99_ms"]
    body: dict[str, Any] = {
        "hops": hops,
        "failure": failure,
        "p99_ms": p99_ms,
        "failure_probability": model.chain_failure(failure, hops),
        "failure_probability_linear": model.chain_failure_linear(failure, hops),
        "p99_sum_ms": model.p99_sum_rule(p99_ms, hops),
    }
    if data["median_ms"] is not None:
        samples = data["samples"] or min(model.DEFAULT_SAMPLES, model.MAX_DRAWS // hops)
        seed = data["seed"] if data["seed"] is not None else int(CalculatorForm.DEFAULTS["seed"])
        chain = model.uniform_chain(
            hops, failure=failure, median_ms=data["median_ms"], p99_ms=p99_ms
        )
        def simulate_chain() -> model.ChainSimulation:
            budget.charge(request, samples, api=True)
            return model.simulate_chain(chain, samples=samples, seed=seed)

        run = memo.remembered(
            "chain", simulate_chain,
            hops=hops, failure=failure, median_ms=data["median_ms"], p99_ms=p99_ms,
            samples=samples, seed=seed,
        )
        body["simulated"] = {
            "samples": samples,
            "seed": seed,
            "median_ms": data["median_ms"],
            "failure_rate": run.failure_rate,
            "failure_rate_95": [run.failure.low, run.failure.high],
            "p50_ms": run.p50_ms,
            "p99_ms": run.p99_ms,
            "p999_ms": run.p999_ms,
        }
    return JsonResponse(body)


@read_only_api
def api_fanout(request: HttpRequest) -> JsonResponse:
    """Fan-out to M servers, each slow with probability q: how often the request is slow."""
    form = FanoutQueryForm(request.GET)
    if not form.is_valid():
        return json_bad_request(form)
    data = form.cleaned_data
    servers, slow = data["servers"], data["slow"]
    body: dict[str, Any] = {
        "servers": servers,
        "slow": slow,
        "slow_request_probability": model.fanout_slow(slow, servers),
        # The M·q rule of thumb: an estimate, not a probability, since it passes 1 for wide
        # fan-outs.
        "slow_request_estimate_linear": servers * slow,
    }
    if data["samples"] is not None:
        seed = data["seed"] if data["seed"] is not None else int(CalculatorForm.DEFAULTS["seed"])
        def simulate_fanout() -> model.FanoutSimulation:
            budget.charge(request, data["samples"], api=True)
            return model.simulate_fanout(slow, [servers], samples=data["samples"], seed=seed)

        run = memo.remembered(
            "fanout", simulate_fanout,
            slow=slow, servers=servers, samples=data["samples"], seed=seed,
        )
        estimate = run.slow[0]
        body["simulated"] = {
            "samples": data["samples"],
            "seed": seed,
            "slow_rate": estimate.rate,
            "slow_rate_95": [estimate.low, estimate.high],
        }
    return JsonResponse(body)
