import base64
import json
import math
import re
from html import unescape

import numpy as np
import pytest
from django.test import RequestFactory
from django.urls import reverse

from drills import grading
from simulator import outage, outage_embed, outage_workflows
from simulator.outage import BROKER, DOWN, SLOW, Scenario
from tests.matching import search

LAB = reverse("simulator:outage")
OUTAGE = reverse("simulator:api_outage")
SLOWDOWN = reverse("simulator:api_slowdown")
HTMX = {"HTTP_HX_REQUEST": "true"}


def step_tolerance(s: Scenario) -> float:
    """One time step's worth of arrivals: how far a sampled series may sit from a closed form."""
    times = outage.timeline(s)
    return s.rate * (times[1] - times[0]) * 1.01


# Model: closed forms ---------------------------------------------------------------------


@pytest.mark.parametrize("rate, capacity, down", [(100, 150, 60), (10, 11, 5), (3.5, 2, 40)])
def test_outage_closed_forms(rate, capacity, down):
    s = Scenario(rate=rate, capacity=capacity, fault=DOWN, duration_s=down)
    sync, queued = outage.sync_outcome(s), outage.async_outcome(s)
    assert sync.failed_requests == rate * down
    assert queued.failed_requests == 0
    assert queued.peak_backlog == rate * down
    assert queued.max_lag_s == down
    assert queued.dead_letters == 0
    if capacity > rate:
        assert queued.drain_s == rate * down / (capacity - rate)
        assert queued.all_handled_s == down + queued.drain_s
    else:
        assert queued.drain_s is None and queued.all_handled_s is None


@pytest.mark.parametrize("rate, capacity, down", [(100, 150, 60), (10, 11, 5), (200, 1000, 300)])
def test_simulated_backlog_drain_and_lag_follow_the_closed_forms(rate, capacity, down):
    s = Scenario(rate=rate, capacity=capacity, fault=DOWN, duration_s=down)
    series = outage.simulate(s, user_waits=False)
    queued = outage.async_outcome(s)
    tolerance = step_tolerance(s)
    assert series.queue_depth.max() == pytest.approx(queued.peak_backlog, abs=tolerance)
    assert series.lag_s.max() == pytest.approx(down, abs=tolerance / rate)
    # The backlog grows at R during the outage ...
    during = (series.times > 0) & (series.times < down)
    assert np.allclose(series.queue_depth[during], rate * series.times[during], atol=tolerance)
    # ... and drains at C - R afterwards, gone at T + R·T/(C - R).
    emptied = outage.first_time(series.times, series.queue_depth, after=down)
    assert emptied == pytest.approx(queued.all_handled_s, abs=2 * tolerance / (capacity - rate))
    assert series.failed[-1] == 0
    assert series.dead_letters[-1] == 0


def test_backlog_never_drains_when_capacity_is_at_most_the_rate():
    s = Scenario(rate=100, capacity=80, fault=DOWN, duration_s=30)
    series = outage.simulate(s, user_waits=False)
    assert outage.async_outcome(s).drain_s is None
    assert series.queue_depth[-1] > series.queue_depth[series.times <= 30].max()


def test_sync_outage_fails_every_request_and_fills_the_pool():
    s = Scenario(rate=100, capacity=150, fault=DOWN, duration_s=60, timeout_ms=1000, workers=50)
    series = outage.simulate(s, user_waits=True)
    assert series.failed[-1] == pytest.approx(100 * 60)
    # Little's law: calls hanging for the 1 s timeout need R × 1 s = 100 workers; 50 exist.
    assert outage.sync_outcome(s).in_flight == 100
    assert series.workers_busy.max() == 50
    assert series.workers_busy[0] == pytest.approx(100 * 0.05)
    assert series.queue_depth.max() == 0


def test_little_law_for_a_slow_service():
    s = Scenario(rate=100, capacity=150, fault=SLOW, slow_ms=300, duration_s=60,
                 latency_ms=50, timeout_ms=1000, workers=50)
    series = outage.simulate(s, user_waits=True)
    middle = (series.times > 10) & (series.times < 50)
    assert np.allclose(series.workers_busy[middle], 100 * 0.350)
    assert series.failed[-1] == 0


def test_slow_service_past_the_pool_refuses_the_excess():
    s = Scenario(rate=100, capacity=150, fault=SLOW, slow_ms=450, duration_s=60,
                 latency_ms=50, timeout_ms=1000, workers=40)
    sync = outage.sync_outcome(s)
    assert sync.saturated
    # 40 workers each holding a call for 0.5 s admit 80 a second; 20 a second are refused.
    assert sync.failed_per_s == pytest.approx(20)
    assert outage.simulate(s, user_waits=True).failed[-1] == pytest.approx(20 * 60)


def test_slow_past_the_timeout_fails_everything():
    s = Scenario(rate=10, capacity=150, fault=SLOW, slow_ms=2000, duration_s=10,
                 timeout_ms=1000, workers=100)
    assert outage.sync_outcome(s).failed_requests == 100
    assert outage.sync_outcome(s).hold_ms == 1000


def test_slow_consumer_builds_a_smaller_backlog():
    # 100 ms handlers instead of 50 halve the consumer's 150 a second to 75.
    s = Scenario(rate=100, capacity=150, fault=SLOW, slow_ms=50, duration_s=60, latency_ms=50)
    queued = outage.async_outcome(s)
    assert queued.peak_backlog == pytest.approx(25 * 60)
    assert queued.drain_s == pytest.approx(25 * 60 / 50)
    series = outage.simulate(s, user_waits=False)
    assert series.queue_depth.max() == pytest.approx(1500, abs=step_tolerance(s))


def test_dead_letters_after_the_retries_run_out():
    s = Scenario(rate=100, capacity=150, fault=DOWN, duration_s=60, retries=2,
                 retry_interval_s=10)
    queued = outage.async_outcome(s)
    assert queued.dead_letters == 100 * (60 - 20)
    assert queued.peak_backlog == 100 * 20
    assert queued.max_lag_s == 20
    series = outage.simulate(s, user_waits=False)
    tolerance = step_tolerance(s)
    assert series.dead_letters[-1] == pytest.approx(4000, abs=tolerance)
    assert series.queue_depth.max() == pytest.approx(2000, abs=tolerance)


def test_broker_down_with_and_without_an_outbox():
    with_outbox = Scenario(rate=100, capacity=150, fault=BROKER, duration_s=60)
    assert outage.async_outcome(with_outbox).peak_backlog == 6000
    assert outage.async_outcome(with_outbox).failed_requests == 0
    without = Scenario(rate=100, capacity=150, fault=BROKER, duration_s=60, outbox=False)
    assert outage.async_outcome(without).failed_requests == 6000
    assert outage.async_outcome(without).peak_backlog == 0
    assert outage.simulate(without, user_waits=False).failed[-1] == pytest.approx(6000)
    # The synchronous design has no broker to lose.
    assert outage.sync_outcome(without).failed_requests == 0


def test_slowdown_closed_form():
    pool = outage.slowdown(100, 600, 50)
    assert pool.in_flight == 100 * 600 / 1000
    assert pool.utilisation == 60 / 50
    assert pool.saturated
    assert outage.slowdown(100, 500, 50).saturated  # in flight equal to the pool is full
    assert not outage.slowdown(100, 499, 50).saturated


def test_scenario_refuses_impossible_values():
    with pytest.raises(ValueError):
        Scenario(rate=0, capacity=1)
    with pytest.raises(ValueError):
        Scenario(rate=1, capacity=1, duration_s=-1)
    with pytest.raises(ValueError):
        Scenario(rate=1, capacity=1, fault="meteor")


def test_worked_example_breaking_inventory_or_payments():
    checkout = outage.worked_example()
    s = Scenario(rate=100, capacity=150, fault=DOWN, duration_s=60)
    inventory = outage.run_lab(s, checkout, "Inventory")
    all_sync, hybrid = inventory.runs
    assert all_sync.user_waits and not hybrid.user_waits
    assert all_sync.sync is not None and all_sync.sync.failed_requests == 6000
    assert hybrid.queued is not None and hybrid.queued.peak_backlog == 6000
    # Payments stays synchronous in both designs, so both fail alike.
    payments = outage.run_lab(s, checkout, "Payments")
    assert [run.sync and run.sync.failed_requests for run in payments.runs] == [6000, 6000]
    broker = outage.run_lab(Scenario(rate=100, capacity=150, fault=BROKER, duration_s=60),
                            checkout, "Inventory")
    broker_sync, broker_queued = broker.runs[0].sync, broker.runs[1].queued
    assert not broker.runs[0].affected and broker_sync and broker_sync.failed_requests == 0
    assert broker_queued is not None and broker_queued.peak_backlog == 6000


def test_drill_designs_follow_the_critical_path():
    def item(key, callee, answer, after=None):
        return grading.KeyItem(key=key, caller="A", callee=callee, exchange="x",
                               on_critical_path=True, answer=answer, rationale="r",
                               deciding_question=1, after=after)

    key = (item("a-b", "B", "sync"), item("a-c", "C", "async"),
           item("c-d", "D", "sync", after="a-c"), item("a-e", "E", "either"))
    workflow = outage_workflows.from_key("w", "W", key)
    assert workflow.services == ("B", "C", "D", "E")
    everything, keyed = workflow.designs
    assert everything.waits_on == {"B", "C", "D", "E"} and not everything.uses_broker
    assert keyed.waits_on == {"B"} and keyed.uses_broker


# API -------------------------------------------------------------------------------------


def test_outage_api_matches_the_closed_forms(client):
    response = client.get(OUTAGE, {"rate": "100", "capacity": "150", "down_s": "60"})
    assert response.status_code == 200
    body = response.json()
    assert body["sync"]["failed_requests"] == 6000
    assert body["async"] == {
        "failed_requests": 0, "peak_backlog": 6000, "drain_s": 120, "max_lag_s": 60,
        "all_handled_s": 180, "retries": None, "retry_interval_s": 30,
        "dead_letters": 0,
    }
    assert "series" not in body


@pytest.mark.parametrize("rate, capacity, down", [("7", "3", "11"), ("2.5", "2.5", "4"),
                                                  ("0.3", "0.7", "0")])
def test_outage_api_exact_for_any_numbers(client, rate, capacity, down):
    body = client.get(OUTAGE, {"rate": rate, "capacity": capacity, "down_s": down}).json()
    R, C, T = float(rate), float(capacity), float(down)
    assert body["sync"]["failed_requests"] == R * T
    assert body["async"]["peak_backlog"] == R * T
    assert body["async"]["max_lag_s"] == T
    assert body["async"]["drain_s"] == (R * T / (C - R) if C > R else None)


def test_outage_api_with_retries_and_series(client):
    body = client.get(OUTAGE, {"rate": "100", "capacity": "150", "down_s": "60",
                               "retries": "2", "retry_interval_s": "10",
                               "series": "true"}).json()
    assert body["async"]["dead_letters"] == 4000
    series = body["series"]
    assert len(series["t_s"]) == outage.POINTS
    assert max(series["async_queue_depth"]) == pytest.approx(2000, abs=12)
    assert series["sync_failed"][-1] == pytest.approx(6000)


def test_slowdown_api(client):
    response = client.get(SLOWDOWN, {"rate": "100", "latency_ms": "600", "workers": "50"})
    assert response.status_code == 200
    body = response.json()
    assert body["in_flight"] == 60
    assert body["utilisation"] == 1.2
    assert body["saturated"] is True
    assert client.get(SLOWDOWN, {"rate": "10", "latency_ms": "100",
                                 "workers": "5"}).json()["saturated"] is False


GOOD_OUTAGE = {"rate": "100", "capacity": "150", "down_s": "60"}
GOOD_SLOWDOWN = {"rate": "100", "latency_ms": "600", "workers": "50"}


@pytest.mark.parametrize("field, value, message", [
    ("rate", None, "Give the arrival rate."),
    ("rate", "fast", "must be a number"),
    ("rate", "nan", "finite"),
    ("rate", "inf", "finite"),
    ("rate", "0", "more than 0"),
    ("rate", "-5", "more than 0"),
    ("rate", "100001", "at most 100,000"),
    ("capacity", None, "Give the consumer capacity."),
    ("capacity", "x", "must be a number"),
    ("capacity", "-inf", "finite"),
    ("capacity", "0", "more than 0"),
    ("capacity", "2000000", "at most 1,000,000"),
    ("down_s", None, "Give the fault's length."),
    ("down_s", "NaN", "finite"),
    ("down_s", "-1", "cannot be negative"),
    ("down_s", "86401", "86,400"),
    ("retries", "2.5", "whole number"),
    ("retries", "101", "from 0 to 100"),
    ("workers", "0", "more than 0"),
])
def test_outage_api_bad_input(client, field, value, message):
    query = dict(GOOD_OUTAGE)
    if value is None:
        del query[field]
    else:
        query[field] = value
    response = client.get(OUTAGE, query)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field
    assert message in body["error"]


@pytest.mark.parametrize("field, value, message", [
    ("rate", None, "Give the arrival rate."),
    ("rate", "0", "more than 0"),
    ("rate", "Infinity", "finite"),
    ("latency_ms", None, "Give the latency."),
    ("latency_ms", "slow", "must be a number"),
    ("latency_ms", "nan", "finite"),
    ("latency_ms", "0", "more than 0"),
    ("latency_ms", "-3", "more than 0"),
    ("latency_ms", "600001", "600,000 ms"),
    ("workers", None, "Give the number of workers."),
    ("workers", "many", "whole number"),
    ("workers", "0", "more than 0"),
    ("workers", "-2", "more than 0"),
    ("workers", "100001", "from 1 to 100,000"),
])
def test_slowdown_api_bad_input(client, field, value, message):
    query = dict(GOOD_SLOWDOWN)
    if value is None:
        del query[field]
    else:
        query[field] = value
    response = client.get(SLOWDOWN, query)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert message in response.json()["error"]


def test_api_answers_json_to_other_methods(client):
    response = client.post(OUTAGE, GOOD_OUTAGE)
    assert response.status_code == 405
    assert "GET" in response.json()["error"]


# Page ------------------------------------------------------------------------------------


def readings(html: str) -> dict[str, str]:
    return {key: unescape(text) for key, text in
            re.findall(r'id="outage-(\w+)-reading" class="chart-reading small">([^<]*)<', html)}


def values(encoded: dict | list) -> list[float]:
    """A plotly array from figure JSON: numpy arrays arrive as base64 typed data."""
    if isinstance(encoded, list):
        return encoded
    return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]).tolist()


def figure(html: str, key: str) -> dict:
    match = search(rf'<script id="outage-figure-{key}" type="application/json">(.*?)</script>',
                   html, re.S)
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_lab_page_runs_the_worked_example_with_inventory_down(client):
    response = client.get(LAB)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "How the lab works" in html
    assert "vendor/plotly/plotly-basic.min.js" in html
    assert "<script>" not in html  # no inline scripts under the CSP
    text = readings(html)
    assert set(text) == {"failed", "workers", "queue", "lag"}
    assert "the all-synchronous design fails 6,000 requests" in text["failed"]
    assert "the hybrid design (only Payments sync) fails none" in text["failed"]
    assert "backlog reaches 6,000 events, drains in 120 s" in text["queue"]
    assert "180 s (3.0 min) after the fault began" in text["queue"]
    assert "peaks at 60 s" in text["lag"]
    # Design names read as part of the sentence: capitals only where a sentence starts.
    for reading in text.values():
        assert reading[0].isupper()
        assert not re.search(r"[;,] (The|Your|In) ", reading), reading
    queue = figure(html, "queue")
    assert [trace["name"] for trace in queue["data"]] == [
        "The all-synchronous design", "The hybrid design (only Payments sync)"]
    assert max(values(queue["data"][1]["y"])) == pytest.approx(6000, abs=60)
    assert html.count("<details class=\"chart-data\">") == 4


@pytest.mark.django_db
def test_lab_readings_for_retries_and_a_full_pool(client):
    html = client.get(LAB, {"retries": "2", "retry_interval_s": "10"}).content.decode()
    text = readings(html)
    assert "4,000 events are dead-lettered after 2 retries" in text["queue"]
    assert "would need 100 workers (R × 1,000 ms) but has 50" in text["workers"]


@pytest.mark.django_db
def test_lab_htmx_request_gets_only_the_results_fragment(client):
    response = client.get(LAB, {"service": "Payments"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="outage-results"')
    assert "<h1" not in html and "<form" not in html
    assert 'id="div_id_service" class="mb-2" hx-swap-oob="true"' in html
    assert 'id="id_rate_error"' in html
    assert ("fails 6,000 requests; the hybrid design (only Payments sync) fails 6,000"
            in unescape(html))
    assert response["Vary"].count("HX-Request") == 1


@pytest.mark.django_db
def test_lab_without_javascript_is_a_plain_get_form(client):
    html = client.get(LAB, {"fault": "slow", "slow_ms": "300"}).content.decode()
    assert re.search(r'<form id="outage-form"[^>]*method="get" action="/simulator/outage/"', html)
    assert 'value="slow" selected' in html
    assert "keeps 35 of 50 workers busy" in readings(html)["workers"]
    assert '<button type="submit" class="btn btn-primary">Run the lab</button>' in html


@pytest.mark.django_db
@pytest.mark.parametrize("query, field, message", [
    ({"rate": "0"}, "rate", "more than 0"),
    ({"duration_s": "-3"}, "duration_s", "cannot be negative"),
    ({"capacity": "nan"}, "capacity", "finite"),
    ({"workers": "0"}, "workers", "more than 0"),
    ({"workflow": "no-such-drill"}, "workflow", "Pick one of the listed workflows."),
])
def test_lab_shows_bad_input_inline(client, query, field, message):
    response = client.get(LAB, query)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    slot = search(rf'<div id="id_{field}_error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert message in slot
    assert "need fixing before the lab can run" in html
    control = search(rf'<(?:input|select)[^>]*id="id_{field}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in control and "is-invalid" in control
    assert 'data-figure="outage-figure-' not in html


@pytest.mark.django_db
def test_lab_form_and_api_share_their_messages(client):
    page = unescape(client.get(LAB, {"rate": "-1"}).content.decode())
    api = client.get(OUTAGE, {**GOOD_OUTAGE, "rate": "-1"}).json()["error"]
    assert api in page


@pytest.mark.django_db
def test_lab_runs_a_drill_in_the_keys_design(client, course):
    html = unescape(client.get(LAB, {"workflow": "place-an-order",
                                     "service": "Inventory"}).content.decode())
    text = readings(html)
    assert "the all-synchronous design fails 6,000 requests" in text["failed"]
    assert "the answer key's design fails none" in text["failed"]
    assert '<option value="place-an-order" selected>' in html


@pytest.mark.django_db
def test_lab_switching_workflow_keeps_or_replaces_the_service(client, course):
    html = unescape(client.get(LAB, {"workflow": "reset-password",
                                     "service": "Inventory"}).content.decode())
    assert "Inventory is not part of Drill:" in html
    assert readings(html)


@pytest.mark.django_db
def test_lab_embeds_with_its_context_function(client):
    request = RequestFactory().get("/lessons/why-it-matters/", {"service": "Fulfillment"})
    context = outage_embed.context(request)
    assert context["needs_plotly"] is True
    from django.template.loader import render_to_string

    html = render_to_string(outage_embed.TEMPLATE, context, request=request)
    assert html.lstrip().startswith('<section id="outage-lab"')
    assert 'action="/lessons/why-it-matters/#outage-lab"' in html
    assert "Try it: break a service" in html
    assert 'href="/simulator/outage/?service=Fulfillment"' in html


@pytest.mark.django_db
def test_a_repeat_view_of_the_lesson_lab_runs_no_model(client, course, monkeypatch):
    from simulator import outage_views

    url = "/lessons/why-it-matters/"
    first = client.get(url, {"service": "Fulfillment"}).content.decode()

    def refuse(*args, **kwargs):
        raise AssertionError("ran again")

    monkeypatch.setattr(outage_views, "lab_context", refuse)
    again = client.get(url, {"service": "Fulfillment"}).content.decode()

    def lab(html: str) -> str:
        start = html.index('<section id="outage-lab"')
        return html[start:html.index("</section>", start)]

    assert lab(again) == lab(first)
    # Other inputs are their own scenario.
    with pytest.raises(AssertionError, match="ran again"):
        client.get(url, {"service": "Payments"})


# Hops of their own: correlation, timeouts, retries ----------------------------------------

from simulator import model  # noqa: E402


def test_correlation_one_makes_the_sum_rule_exact_for_identical_hops():
    hops = model.uniform_chain(5, failure=0.0, median_ms=20, p99_ms=100)
    together = model.simulate_path(hops, correlation=1.0, samples=1_000_000, seed=7)
    assert together.sum_p99_ms == 500
    assert together.p99_ms == pytest.approx(500, rel=0.01)
    independent = model.simulate_path(hops, correlation=0.0, samples=200_000, seed=7)
    assert independent.p99_ms < 0.7 * 500  # independent hops rarely peak together
    partly = model.simulate_path(hops, correlation=0.5, samples=200_000, seed=7)
    assert independent.p99_ms < partly.p99_ms < together.p99_ms


def test_correlation_one_is_exact_for_any_hops_given_the_shared_draw():
    # With every hop slow at once the total is an increasing function of one normal draw, so
    # its percentiles are the hops' latencies at that draw's percentiles, summed.
    hops = [model.Hop("a", 0.0, 10, 50), model.Hop("b", 0.0, 30, 400), model.Hop("c", 0.0, 5, 9)]
    run = model.simulate_path(hops, correlation=1.0, samples=400_000, seed=3)
    assert run.p99_ms == pytest.approx(model.comonotonic_p99(hops), rel=0.01)
    assert run.p50_ms == pytest.approx(10 + 30 + 5, rel=0.01)


def test_retry_amplification_matches_the_closed_form():
    hop = model.Hop("Inventory", 0.05, 20, 100)
    policy = model.HopPolicy(timeout_ms=60, retries=3)
    q = model.attempt_failure(hop, policy)
    # The timeout cuts off the slowest share of answers on top of the errors.
    on_time = 0.5 * math.erfc(-(math.log(60 / 20) / hop.sigma) / math.sqrt(2))
    assert q == pytest.approx(1 - 0.95 * on_time)
    assert model.expected_attempts(hop, policy) == pytest.approx(1 + q + q**2 + q**3)
    assert model.hop_failure_with_retries(hop, policy) == pytest.approx(q**4)
    run = model.simulate_path([hop], [policy], samples=400_000, seed=11)
    outcome = run.hops[0]
    assert outcome.attempts == pytest.approx(1 + q + q**2 + q**3, rel=0.005)
    assert run.failure_rate == pytest.approx(q**4, rel=0.1)
    assert outcome.timed_out > 0


def test_downstream_hops_see_only_the_calls_that_got_through():
    first = model.Hop("first", 0.2, 20, 100)
    second = model.Hop("second", 0.0, 20, 100)
    policies = [model.HopPolicy(retries=1), model.HopPolicy(retries=2)]
    load = model.path_load([first, second], policies)
    assert load[0] == pytest.approx(1 + 0.2)
    assert load[1] == pytest.approx(1 - 0.2**2)  # reached by all but the double failures
    run = model.simulate_path([first, second], policies, samples=200_000, seed=5)
    assert [hop.attempts for hop in run.hops] == pytest.approx(load, rel=0.01)


def test_timeouts_cap_each_attempt_and_no_timeout_changes_nothing():
    hop = model.Hop("x", 0.0, 20, 100)
    capped = model.simulate_path([hop], [model.HopPolicy(timeout_ms=50)], samples=50_000, seed=1)
    assert capped.p999_ms <= 50
    plain = model.simulate_path([hop], samples=50_000, seed=1)
    assert plain.failure_rate == 0
    assert sum(plain.histogram_counts) == 50_000


def test_path_refuses_bad_settings():
    hop = model.Hop("x", 0.0, 20, 100)
    with pytest.raises(ValueError):
        model.simulate_path([hop], correlation=1.5)
    with pytest.raises(ValueError):
        model.simulate_path([hop] * 8, [model.HopPolicy(retries=5)] * 8, samples=1_000_000)


PATH = reverse("simulator:path")


def path_query(**extra):
    query = {"hop-TOTAL_FORMS": "2", "hop-INITIAL_FORMS": "0",
             "hop-0-name": "Payments", "hop-0-failure": "0.01", "hop-0-median_ms": "20",
             "hop-0-p99_ms": "100", "hop-0-timeout_ms": "60", "hop-0-retries": "2",
             "hop-1-name": "Inventory", "hop-1-failure": "0.01", "hop-1-median_ms": "20",
             "hop-1-p99_ms": "100", "hop-1-retries": "0",
             "correlation": "0.5", "path_samples": "20000"}
    query.update(extra)
    return query


@pytest.mark.django_db
def test_simulator_page_shows_the_hop_table_and_histogram(client):
    html = unescape(client.get(reverse("simulator:calculator"), {"samples": "2000"})
                    .content.decode())
    assert 'name="hop-TOTAL_FORMS" value="3"' in html
    assert 'id="chart-histogram"' in html
    assert "against 450 ms by the sum of p99s" in html
    assert 'class="simulator-dock d-lg-none"' in html


@pytest.mark.django_db
def test_path_htmx_fragment_and_retry_reading(client):
    response = client.get(PATH, path_query(), **HTMX)
    html = unescape(response.content.decode())
    assert html.lstrip().startswith('<div id="path-results"')
    assert "<form" not in html
    assert "Retries make Payments see" in html
    assert 'id="id_hop-0-failure_error"' in html and 'hx-swap-oob="true"' in html
    figure = json.loads(search(r'<script id="figure-histogram" type="application/json">'
                               r'(.*?)</script>', html, re.S).group(1))
    assert [a["text"].split()[0] for a in figure["layout"]["annotations"]] == [
        "p50", "p99", "p99.9", "sum"]


@pytest.mark.django_db
def test_path_without_htmx_goes_back_to_the_simulator_page(client):
    response = client.get(PATH, path_query())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("simulator:calculator") + "?")
    page = client.get(response["Location"])
    assert "Retries make Payments see" in unescape(page.content.decode())


@pytest.mark.django_db
def test_path_add_and_remove_hops(client):
    html = client.get(reverse("simulator:calculator"),
                      {**path_query(), "add_hop": "1", "samples": "2000"}).content.decode()
    assert 'name="hop-TOTAL_FORMS" value="3"' in html and 'value="Hop 3"' in html
    html = unescape(client.get(PATH, path_query(**{"hop-1-DELETE": "on"}), **HTMX)
                    .content.decode())
    assert "against 100 ms by the sum of p99s" in html


@pytest.mark.django_db
@pytest.mark.parametrize("extra, slot, message", [
    ({"hop-0-median_ms": "200"}, "hop-0-median_ms", "below the p99"),
    ({"hop-1-failure": "2"}, "hop-1-failure", "between 0 and 1"),
    ({"hop-0-retries": "9"}, "hop-0-retries", "from 0 to 5"),
    ({"hop-0-timeout_ms": "-1"}, "hop-0-timeout_ms", "more than 0"),
    ({"correlation": "nan"}, "correlation", "finite"),
    ({"correlation": "1.2"}, "correlation", "between 0"),
    ({"path_samples": "1000000", "hop-0-retries": "5", "hop-1-retries": "5"}, "path_samples",
     "above the limit"),
])
def test_path_bad_input_inline(client, extra, slot, message):
    html = unescape(client.get(PATH, path_query(**extra), **HTMX).content.decode())
    error = search(rf'<div id="id_{slot}_error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert message in error
    assert "need fixing before the hops can be simulated" in html


@pytest.mark.django_db
def test_path_duplicate_names_and_too_many_hops(client):
    html = unescape(client.get(PATH, path_query(**{"hop-1-name": "Payments"}), **HTMX)
                    .content.decode())
    assert "Give every hop a different name." in html
    many = path_query(**{"hop-TOTAL_FORMS": "9"})
    for index in range(2, 9):
        many.update({f"hop-{index}-name": f"H{index}", f"hop-{index}-failure": "0",
                     f"hop-{index}-median_ms": "1", f"hop-{index}-p99_ms": "2"})
    html = unescape(client.get(PATH, many, **HTMX).content.decode())
    assert "need fixing" in html


ORDER_KEYS = ("orders-payments", "orders-inventory", "orders-fulfillment", "fulfillment-courier",
              "fulfillment-payments", "orders-email", "orders-analytics")


def test_a_learners_design_round_trips_and_must_fit_the_drill():
    def item(key, callee):
        return grading.KeyItem(key=key, caller="A", callee=callee, exchange="x",
                               on_critical_path=True, answer="sync", rationale="r",
                               deciding_question=1)

    key = (item("a-b", "B"), item("a-c", "C"))
    choices = {"a-b": "sync", "a-c": "async"}
    text = outage_workflows.encode_design(choices)
    assert text == "a-b:s,a-c:a"
    assert outage_workflows.decode_design(text, key) == choices
    for bad, why in (("a-b:s", "no choice for: a-c"), ("a-b:s,a-c:a,x-y:s", "not part"),
                     ("a-b:s,a-c:maybe", "not an interaction"), ("a-b", "not an interaction")):
        with pytest.raises(outage_workflows.DesignError, match=why):
            outage_workflows.decode_design(bad, key)
    workflow = outage_workflows.from_answer("w", "W", key, choices)
    mine, keyed = workflow.designs
    assert mine.name == "Your design" and mine.waits_on == {"B"} and mine.uses_broker


@pytest.mark.django_db
def test_lab_runs_a_learners_own_answer_beside_the_key(client, course):
    # The learner waits on Inventory, which the key leaves to the broker.
    design = ",".join(f"{k}:{'s' if k in ('orders-payments', 'orders-inventory') else 'a'}"
                      for k in ORDER_KEYS)
    html = unescape(client.get(LAB, {"workflow": "place-an-order", "service": "Inventory",
                                     "design": design}).content.decode())
    text = readings(html)
    assert "your design fails 6,000 requests" in text["failed"]
    assert "the answer key's design fails none" in text["failed"]
    assert f'value="{design}"' in html


@pytest.mark.django_db
def test_lab_says_when_a_design_does_not_fit(client, course):
    html = unescape(client.get(LAB, {"workflow": "place-an-order", "service": "Inventory",
                                     "design": "orders-payments:s"}).content.decode())
    assert "Your design could not be read (no choice for: orders-inventory" in html
    assert "the all-synchronous design fails 6,000 requests" in readings(html)["failed"]
    html = unescape(client.get(LAB, {"design": "orders-payments:s"}).content.decode())
    assert "takes no design of your own" in html


# A learner's own workflow ------------------------------------------------------------------

OWN_ROWS = [
    {"caller": "Phone", "callee": "Gateway", "style": "sync", "entry": True, "after": ""},
    {"caller": "Gateway", "callee": "Bookings", "style": "sync", "after": ""},
    {"caller": "Gateway", "callee": "Mailer", "style": "async", "after": ""},
    None,  # an emptied row keeps the numbers of the rows after it
    {"caller": "Mailer", "callee": "Templates", "style": "sync", "after": "3"},
]


def test_an_own_workflow_runs_its_design_beside_the_all_synchronous_one():
    design = outage_workflows.encode_rows(OWN_ROWS)
    assert design.startswith("own:")
    workflow = outage_workflows.get("own", design)
    assert (workflow.entry, workflow.services) == ("Gateway", ("Bookings", "Mailer", "Templates"))
    mine, everything = workflow.designs
    # The path comes from the structure: Templates is called behind the async Mailer message.
    assert mine.waits_on == {"Bookings"} and mine.uses_broker
    assert everything.waits_on == {"Bookings", "Mailer", "Templates"}
    assert not everything.uses_broker


@pytest.mark.parametrize(("design", "message"), [
    ("own:not json", "not a list of interactions"),
    ("own:[]", "not a list of interactions"),
    ('own:[["A","B"]]', "interaction 1 is not caller, callee, style and number"),
    ('own:[["A","B","x",""]]', "interaction 1 is marked neither sync nor async"),
    ('own:[["A","B","s","2"],["B","C","s","1"]]', "a cycle"),
    ('own:[["A","B","e",""]]', "names no call between two services"),
    ("", "no workflow of your own came with the link"),
])
def test_an_own_workflow_that_cannot_be_read_is_refused_with_the_reason(design, message):
    with pytest.raises(outage_workflows.DesignError, match=message):
        outage_workflows.get("own", design)


@pytest.mark.django_db
def test_the_lab_runs_an_own_workflow_and_keeps_it_across_workflows(client, course):
    design = outage_workflows.encode_rows(OWN_ROWS)
    html = unescape(client.get(LAB, {"workflow": "own", "service": "Mailer",
                                     "design": design}).content.decode())
    text = readings(html)
    assert "your design fails none" in text["failed"]
    assert "the all-synchronous design fails 6,000 requests" in text["failed"]
    assert '<option value="own" selected>Your own workflow</option>' in html
    # Switching to a drill keeps the workflow in the form, so the learner can come back to it.
    html = unescape(client.get(LAB, {"workflow": "place-an-order", "service": "Inventory",
                                     "design": design}).content.decode())
    assert "could not be read" not in html and "the answer key's design" in html
    assert '<option value="own">Your own workflow</option>' in html


@pytest.mark.django_db
def test_a_damaged_own_workflow_shows_the_worked_example_and_says_why(client, course):
    response = client.get(LAB, {"workflow": "own", "design": "own:[[1,2,3]]"})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Your workflow could not be read (interaction 1 is not caller" in html
    assert '<option value="checkout" selected>' in html and readings(html)


@pytest.mark.django_db
def test_the_builder_links_the_design_to_the_lab(client, course):
    data = {"rows-TOTAL_FORMS": "2", "rows-INITIAL_FORMS": "0", "name": "Booking",
            "rows-0-caller": "Gateway", "rows-0-callee": "Bookings", "rows-0-style": "sync",
            "rows-0-justification": "The user waits.", "rows-0-after": "",
            "rows-1-caller": "Gateway", "rows-1-callee": "Mailer", "rows-1-style": "async",
            "rows-1-justification": "Later is fine.", "rows-1-after": ""}
    preview = client.post(reverse("drills:own_preview"), data, headers={"HX-Request": "true"})
    html = unescape(preview.content.decode())
    link = search(r'href="(/simulator/outage/\?workflow=own&design=[^"]+)"', html).group(1)
    lab = unescape(client.get(link).content.decode())
    assert '<option value="own" selected>' in lab
    assert "Bookings" in lab and "Mailer" in lab
