import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from django.urls import reverse

from courseware.models import Course, Lesson, Module
from simulator import embed, memo, model
from tests.matching import search

PAGE = reverse("simulator:calculator")
CHAIN = reverse("simulator:api_chain")
FANOUT = reverse("simulator:api_fanout")
PLOTLY = "vendor/plotly/plotly-basic.min.js"
HTMX = {"HTTP_HX_REQUEST": "true"}
SMALL = {"samples": "2000"}


@pytest.fixture
def latency_lesson(db):
    course = Course.objects.create(slug="course", title="Course")
    module = Module.objects.create(course=course, slug="module", title="Module")
    return Lesson.objects.create(
        module=module, slug="latency-math", title="Latency math", embed="simulator",
        body_markdown="## The model\n\nHops add up.",
    )


def scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html)


def figure(html: str, key: str) -> dict:
    match = re.search(rf'<script id="figure-{key}" type="application/json">(.*?)</script>', html,
                      re.S)
    assert match, f"no figure {key}"
    return json.loads(match.group(1))


# The page -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_shows_the_form_charts_tables_and_readings(client):
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("failure", "median_ms", "p99_ms", "hops", "max_hops", "servers", "slow",
                 "samples", "seed"):
        assert f'name="{name}"' in html
    for key in ("failure", "latency", "fanout", "designs"):
        assert f'id="chart-{key}"' in html
        assert figure(html, key)["data"]
    assert html.count("<details") >= 4
    assert "fails 4.90% of requests" in html
    assert "is slow 63.4% of the time" in html
    assert 'hx-trigger="input changed delay:400ms, submit"' in html
    assert 'hx-push-url="true"' in html
    assert 'hx-indicator="#simulator-busy"' in html


@pytest.mark.django_db
def test_page_has_no_inline_scripts_and_loads_plotly(client):
    html = client.get(PAGE).content.decode()
    assert PLOTLY in html.split("</head>")[0]
    for tag in scripts(html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert " onclick=" not in html and " oninput=" not in html


@pytest.mark.django_db
def test_home_page_does_not_load_plotly(client):
    html = client.get(reverse("courseware:home")).content.decode()
    assert PLOTLY not in html
    assert "simulator.js" not in html


@pytest.mark.django_db
def test_chart_figures_follow_the_inputs(client):
    html = client.get(PAGE, {"failure": "0.05", "max_hops": "20", "hops": "7", **SMALL})
    html = html.content.decode()
    failure = figure(html, "failure")
    exact = next(t for t in failure["data"] if t["name"].startswith("Exact"))
    assert exact["x"] == list(range(1, 21))
    assert exact["y"][4] == pytest.approx(model.chain_failure(0.05, 5))
    assert failure["layout"]["shapes"][0]["x0"] == 7
    assert failure["layout"]["xaxis"]["title"]["text"] == "Sync hops in the chain (N)"
    assert "(%)" in failure["layout"]["yaxis"]["title"]["text"]
    assert "(ms)" in figure(html, "latency")["layout"]["yaxis"]["title"]["text"]


@pytest.mark.django_db
def test_page_and_api_agree_for_the_same_seed(client):
    query = {"failure": "0.02", "median_ms": "10", "p99_ms": "80", "hops": "4", "samples": "5000",
             "seed": "77"}
    html = client.get(PAGE, query).content.decode()
    api = client.get(CHAIN, query).json()["simulated"]
    latency = figure(html, "latency")
    p99 = next(t for t in latency["data"] if t["name"] == "Simulated p99")
    assert p99["y"][3] == pytest.approx(api["p99_ms"])


@pytest.mark.django_db
def test_missing_inputs_take_the_lessons_numbers(client):
    html = client.get(PAGE, {"hops": "3", **SMALL}).content.decode()
    assert 'name="failure" value="0.01"' in html
    assert "A chain of 3 sync hops" in html


# htmx -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_htmx_request_gets_only_the_results_fragment(client):
    response = client.get(PAGE, {"failure": "0.02", **SMALL}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="simulator-results"')
    assert "<html" not in html and "<form" not in html and "<head" not in html
    assert "fails 9.61% of requests" in html
    assert 'id="figure-failure"' in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_htmx_fragment_refreshes_error_slots_and_presets_out_of_band(client):
    html = client.get(PAGE, {"failure": "2", **SMALL}, **HTMX).content.decode()
    slot = re.search(r'<div id="id_failure_error"[^>]*hx-swap-oob="true">(.*?)</div>', html)
    assert slot and "between 0 and 1" in slot.group(1)
    assert re.search(r'<div id="id_seed_error"[^>]*hx-swap-oob="true"></div>', html)
    assert 'id="simulator-presets"' in html
    assert "figure-failure" not in html


@pytest.mark.django_db
def test_preset_request_gets_the_whole_calculator(client):
    response = client.get(PAGE, {"servers": "2000", "slow": "0.0001", **SMALL}, **HTMX,
                          HTTP_HX_TARGET="simulator")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="simulator"')
    assert "<form" in html and "<html" not in html
    assert 'name="servers" value="2000"' in html
    assert "is slow 18.1% of the time" in html


@pytest.mark.django_db
def test_history_restore_gets_the_full_page(client):
    html = client.get(PAGE, **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in html


# Bad input on the page ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"failure": "abc"}, "failure", "must be a number"),
        ({"failure": "nan"}, "failure", "finite"),
        ({"failure": "inf"}, "failure", "finite"),
        ({"failure": "1.5"}, "failure", "between 0 and 1"),
        ({"failure": ""}, "failure", "Give the failure probability"),
        ({"median_ms": "100"}, "median_ms", "below the p99"),
        ({"p99_ms": "0"}, "p99_ms", "more than 0"),
        ({"hops": "-1"}, "hops", "from 0 to 50"),
        ({"hops": "51"}, "hops", "from 0 to 50"),
        ({"hops": "2.5"}, "hops", "whole number"),
        ({"max_hops": "51"}, "max_hops", "from 1 to 50"),
        ({"servers": "10001"}, "servers", "from 1 to 10,000"),
        ({"slow": "-0.1"}, "slow", "between 0 and 1"),
        ({"samples": "1000001"}, "samples", "from 1 to 1,000,000"),
        ({"samples": "1000000", "max_hops": "11"}, "samples", "at most 909,090"),
        ({"seed": "-1"}, "seed", "from 0 to"),
    ],
)
def test_page_shows_bad_input_inline(client, query, field, message):
    response = client.get(PAGE, query)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    slot = re.search(rf'<div id="id_{field}_error"[^>]*>(.*?)</div>', html, re.S)
    assert slot and message in slot.group(1)
    assert re.search(rf'<input[^>]*class="[^"]*is-invalid[^"]*"[^>]*id="id_{field}"', html) or (
        re.search(rf'<input[^>]*id="id_{field}"[^>]*is-invalid', html)
    )
    assert "Some numbers need fixing" in html
    assert "figure-failure" not in html


@pytest.mark.django_db
def test_long_chains_are_within_the_budget(client):
    response = client.get(PAGE, {"max_hops": "50", "hops": "50", "samples": "200000"})
    assert response.status_code == 200
    assert "is-invalid" not in response.content.decode()


# Drills link here -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_drill_link_shows_the_learners_hop_count(client):
    html = client.get(PAGE, {"hops": "4", "from_drill": "place-an-order", **SMALL})
    html = unescape(html.content.decode())
    assert "Your drill answer had 4 sync hops on the critical path." in html
    assert 'name="from_drill" value="place-an-order"' in html
    assert figure(html, "failure")["layout"]["annotations"][0]["text"] == "Your drill: N = 4"
    assert 'class="table-warning"><th scope="row">4</th>' in html


@pytest.mark.django_db
def test_drill_answer_with_no_sync_hops(client):
    html = client.get(PAGE, {"hops": "0", "from_drill": "place-an-order", **SMALL})
    html = unescape(html.content.decode())
    assert "Your drill answer had 0 sync hops on the critical path." in html
    assert "With no sync hops the user waits for no other service" in html
    failure = figure(html, "failure")
    assert failure["layout"]["shapes"][0]["x0"] == 0
    assert failure["layout"]["xaxis"]["range"][0] < 0
    assert "is-invalid" not in html


@pytest.mark.django_db
def test_drill_note_for_one_hop_and_malformed_marker(client):
    one = client.get(PAGE, {"hops": "1", "from_drill": "x", **SMALL}).content.decode()
    assert "had 1 sync hop on the critical path" in one
    bad = client.get(PAGE, {"hops": "3", "from_drill": "<b>", **SMALL}).content.decode()
    assert "Your drill answer" not in bad and "<b>" not in bad
    assert "is-invalid" not in bad


# JSON API -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_chain_api_exact_values(client):
    body = client.get(CHAIN, {"hops": 5, "failure": 0.01, "p99_ms": 100}).json()
    assert body["failure_probability"] == pytest.approx(0.0490099501)
    assert body["failure_probability_linear"] == pytest.approx(0.05)
    assert body["p99_sum_ms"] == pytest.approx(500)
    assert "simulated" not in body


@pytest.mark.django_db
def test_chain_api_simulates_given_a_median(client):
    query = {"hops": 5, "failure": 0.01, "p99_ms": 100, "median_ms": 20, "samples": 50_000,
             "seed": 3}
    body = client.get(CHAIN, query).json()
    simulated = body["simulated"]
    assert set(simulated) >= {"samples", "failure_rate", "p50_ms", "p99_ms", "p999_ms"}
    assert simulated["samples"] == 50_000
    low, high = simulated["failure_rate_95"]
    assert low <= body["failure_probability"] <= high
    assert simulated["p50_ms"] < simulated["p99_ms"] < simulated["p999_ms"]
    assert simulated["p99_ms"] < body["p99_sum_ms"]
    assert client.get(CHAIN, query).json() == body


@pytest.mark.django_db
def test_chain_api_default_samples_respect_the_budget(client):
    body = client.get(CHAIN, {"hops": 10_000, "failure": 0.001, "p99_ms": 100,
                              "median_ms": 20}).json()
    assert body["simulated"]["samples"] == 1_000
    body = client.get(CHAIN, {"hops": 2, "failure": 0.001, "p99_ms": 100, "median_ms": 20})
    assert body.json()["simulated"]["samples"] == model.DEFAULT_SAMPLES


@pytest.mark.django_db
def test_fanout_api(client):
    assert client.get(FANOUT, {"servers": 100, "slow": 0.01}).json()[
        "slow_request_probability"
    ] == pytest.approx(0.633968, abs=1e-6)
    body = client.get(FANOUT, {"servers": 2000, "slow": 0.0001, "samples": 100_000}).json()
    assert round(body["slow_request_probability"], 3) == 0.181
    low, high = body["simulated"]["slow_rate_95"]
    assert low <= body["slow_request_probability"] <= high


GOOD_CHAIN = {"hops": "5", "failure": "0.01", "p99_ms": "100"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hops": None}, "hops"),
        ({"failure": None}, "failure"),
        ({"p99_ms": None}, "p99_ms"),
        ({"hops": "five"}, "hops"),
        ({"hops": "2.5"}, "hops"),
        ({"hops": "0"}, "hops"),
        ({"hops": "10001"}, "hops"),
        ({"failure": "abc"}, "failure"),
        ({"failure": "NaN"}, "failure"),
        ({"failure": "inf"}, "failure"),
        ({"failure": "-inf"}, "failure"),
        ({"failure": "-0.01"}, "failure"),
        ({"failure": "1.01"}, "failure"),
        ({"p99_ms": "0"}, "p99_ms"),
        ({"p99_ms": "-5"}, "p99_ms"),
        ({"p99_ms": "1e400"}, "p99_ms"),
        ({"p99_ms": "nan"}, "p99_ms"),
        ({"median_ms": "0"}, "median_ms"),
        ({"median_ms": "-1"}, "median_ms"),
        ({"median_ms": "x"}, "median_ms"),
        ({"median_ms": "100"}, "median_ms"),
        ({"median_ms": "150"}, "median_ms"),
        ({"median_ms": "20", "samples": "1000001"}, "samples"),
        ({"median_ms": "20", "samples": "0"}, "samples"),
        ({"median_ms": "20", "samples": "many"}, "samples"),
        ({"hops": "100", "median_ms": "20", "samples": "100001"}, "samples"),
        ({"median_ms": "20", "seed": "-1"}, "seed"),
        ({"median_ms": "20", "seed": "1.5"}, "seed"),
    ],
)
def test_chain_api_rejects_bad_input(client, changes, field):
    query = {**GOOD_CHAIN, **changes}
    query = {key: value for key, value in query.items() if value is not None}
    response = client.get(f"{CHAIN}?{urlencode(query)}")
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field
    assert isinstance(body["error"], str) and len(body["error"]) > 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"slow": "0.01"}, "servers"),
        ({"servers": "100"}, "slow"),
        ({"servers": "0", "slow": "0.01"}, "servers"),
        ({"servers": "10001", "slow": "0.01"}, "servers"),
        ({"servers": "lots", "slow": "0.01"}, "servers"),
        ({"servers": "100", "slow": "1.5"}, "slow"),
        ({"servers": "100", "slow": "-0.5"}, "slow"),
        ({"servers": "100", "slow": "nan"}, "slow"),
        ({"servers": "100", "slow": "Infinity"}, "slow"),
        ({"servers": "100", "slow": "0.01", "samples": "2000000"}, "samples"),
    ],
)
def test_fanout_api_rejects_bad_input(client, query, field):
    response = client.get(FANOUT, query)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["error"]


@pytest.mark.django_db
def test_api_error_messages_say_what_is_wrong(client):
    body = client.get(CHAIN, {**GOOD_CHAIN, "median_ms": "20", "hops": "100",
                              "samples": "200000"}).json()
    assert body == {
        "error": "Simulated requests × hops is 20,000,000, above the limit of 10,000,000; "
                 "with 100 hops use at most 100,000 requests.",
        "field": "samples",
    }
    body = client.get(CHAIN, {**GOOD_CHAIN, "failure": "nan"}).json()
    assert "finite" in body["error"]


@pytest.mark.django_db
def test_api_only_answers_get(client):
    assert client.post(CHAIN, GOOD_CHAIN).status_code == 405


# Inside the lesson ----------------------------------------------------------------------------


def test_embed_shows_the_shared_section_pointing_back_at_the_lesson(rf: RequestFactory, db):
    # db: the simulation results are memoised in the database cache.
    context = embed.context(rf.get("/lessons/latency-math/", {"hops": "3", **SMALL}))
    assert context["needs_plotly"] is True
    html = context["simulator_html"]
    assert 'action="/lessons/latency-math/#simulator"' in html
    hops = search(r'<input[^>]*name="hops"[^>]*>', html).group(0)
    assert 'value="3"' in hops


def test_a_repeat_view_renders_nothing_and_simulates_nothing(client, db, monkeypatch):
    from simulator import path_views, report

    url = reverse("simulator:calculator")
    first = client.get(url, {"hops": "4", **SMALL}).content.decode()

    def refuse(*args, **kwargs):
        raise AssertionError("ran again")

    monkeypatch.setattr(report, "calculate", refuse)
    monkeypatch.setattr(path_views, "path_context", refuse)
    again = client.get(url, {"hops": "4", **SMALL}).content.decode()
    assert again == first
    # Other inputs are their own scenario.
    with pytest.raises(AssertionError, match="ran again"):
        client.get(url, {"hops": "6", **SMALL})


def test_a_section_rendered_by_an_older_release_is_never_served(db, monkeypatch):
    from django.http import QueryDict

    from simulator import views

    query = QueryDict(urlencode({"hops": "2", **SMALL}))
    fresh = views.section_html(query, action="/simulator/")
    monkeypatch.setattr(memo, "TEMPLATES_DIGEST", "a-new-release")
    monkeypatch.setattr(memo, "render_to_string", lambda *args, **kwargs: "<p>new</p>")
    assert views.section_html(query, action="/simulator/") == "<p>new</p>" != fresh


@pytest.mark.django_db
def test_lesson_page_carries_the_calculator(client, latency_lesson):
    html = client.get(latency_lesson.get_absolute_url(), {"hops": "3", **SMALL}).content.decode()
    assert PLOTLY in html.split("</head>")[0]
    assert 'id="simulator"' in html and 'id="figure-latency"' in html
    assert "Try it: the latency calculator" in html
    assert 'action="/lessons/latency-math/#simulator"' in html
    assert f'hx-get="{PAGE}"' in html
    assert "A chain of 3 sync hops" in html


@pytest.mark.django_db
def test_lesson_htmx_requests_keep_the_lesson_url(client, latency_lesson):
    lesson_url = f"http://testserver{latency_lesson.get_absolute_url()}"
    response = client.get(PAGE, {"hops": "6", **SMALL}, **HTMX, HTTP_HX_CURRENT_URL=lesson_url)
    assert response["HX-Push-Url"] == "/lessons/latency-math/?hops=6&samples=2000"
    assert "/lessons/latency-math/?" in response.content.decode()
    on_page = client.get(PAGE, {"hops": "6", **SMALL}, **HTMX,
                         HTTP_HX_CURRENT_URL=f"http://testserver{PAGE}")
    assert "HX-Push-Url" not in on_page
    elsewhere = client.get(PAGE, SMALL, **HTMX, HTTP_HX_CURRENT_URL="https://evil.example/x")
    assert "HX-Push-Url" not in elsewhere


# Availability as another way to give p -----------------------------------------------------------


@pytest.mark.django_db
def test_page_offers_availability_mirroring_p(client):
    html = client.get(PAGE, SMALL).content.decode()
    assert 'name="availability" value="99"' in html
    assert 'name="p_as" value="p" class="form-check-input" id="id_p_as_0" checked' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"p_as": "availability", "availability": "99.9"},
        {"availability": "99.9"},  # a shared link that gives only the availability
        {"p_as": "availability", "availability": "99.9", "failure": "0.5"},  # stale mirror
    ],
)
def test_availability_sets_p(client, query):
    html = client.get(PAGE, {**query, **SMALL}).content.decode()
    assert "each failing 0.100% of the time" in html
    assert 'name="failure" value="0.001"' in html
    assert 'name="availability" value="99.9"' in html
    assert "is-invalid" not in html


@pytest.mark.django_db
def test_availability_and_p_charts_agree(client):
    by_p = client.get(PAGE, {"failure": "0.001", **SMALL}).content.decode()
    by_availability = client.get(PAGE, {"p_as": "availability", "availability": "99.9",
                                        **SMALL}).content.decode()
    assert figure(by_p, "failure") == figure(by_availability, "failure")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Give the availability per hop."),
        ("abc", "The availability per hop must be a number, such as 99.9."),
        ("nan", "NaN and infinity are not allowed"),
        ("100.5", "must be a percentage from 0 to 100"),
        ("-1", "must be a percentage from 0 to 100"),
    ],
)
def test_bad_availability_is_shown_inline(client, value, message):
    response = client.get(PAGE, {"p_as": "availability", "availability": value, **SMALL})
    html = unescape(response.content.decode())
    assert response.status_code == 200
    slot = search(r'<div id="id_availability_error"[^>]*>(.*?)</div>', html, re.S)
    assert message in slot.group(1)
    assert '<a href="#id_availability">Availability (%)</a>' in html
    assert not re.search(r'name="failure" value="[^"]', html)  # no p made up from it
    assert "figure-failure" not in html


@pytest.mark.django_db
def test_the_field_not_chosen_is_not_judged(client):
    html = client.get(PAGE, {"failure": "0.02", "availability": "banana", **SMALL})
    html = html.content.decode()
    assert "is-invalid" not in html
    assert 'name="availability" value="98"' in html
    assert "fails 9.61% of requests" in html


@pytest.mark.django_db
def test_htmx_availability_change_redraws(client):
    html = client.get(PAGE, {"p_as": "availability", "availability": "95", "hops": "2", **SMALL},
                      **HTMX).content.decode()
    assert "each failing 5.00% of the time, fails 9.75% of requests" in html


# Presets ---------------------------------------------------------------------------------------


def preset_links(html: str) -> dict[str, tuple[bool, dict[str, str]]]:
    """Each preset's label → (is it lit, the query its link sets)."""
    links = {}
    pattern = r'<a class="btn btn-sm btn-(?:outline-)?primary"([^>]*)>(.*?)</a>'
    for attrs, label in re.findall(pattern, html, re.S):
        href = unescape(search(r'href="([^"]*)"', attrs).group(1))
        query = dict(pair.split("=", 1) for pair in href.split("?", 1)[1].split("#")[0].split("&"))
        links[unescape(label)] = ('aria-current="true"' in attrs, query)
    return links


@pytest.mark.django_db
def test_one_preset_lit_per_group_by_default(client):
    links = preset_links(client.get(PAGE, SMALL).content.decode())
    assert {label: lit for label, (lit, _) in links.items()} == {
        "The lesson's chain": True,
        "Checkout, all sync": False,
        "The Tail at Scale": True,
        "2,000 servers × 0.01%": False,
    }
    html = client.get(PAGE, SMALL).content.decode()
    assert 'aria-label="Chain presets"' in html and 'aria-label="Fan-out presets"' in html


@pytest.mark.django_db
def test_checkout_preset_sets_a_whole_chain_and_lights_only_for_it(client):
    _, checkout = preset_links(client.get(PAGE, {"failure": "0.05", "p99_ms": "300",
                                                 **SMALL}).content.decode())["Checkout, all sync"]
    assert {k: checkout[k] for k in ("failure", "median_ms", "p99_ms", "hops", "max_hops")} == {
        "failure": "0.01", "median_ms": "20", "p99_ms": "100", "hops": "3", "max_hops": "10"}
    lit, _ = preset_links(client.get(PAGE, {"hops": "3", **SMALL}).content.decode())[
        "Checkout, all sync"]
    assert lit
    for other in ({"hops": "3", "failure": "0.02"}, {"hops": "3", "p99_ms": "150"}):
        links = preset_links(client.get(PAGE, {**other, **SMALL}).content.decode())
        assert not links["Checkout, all sync"][0]
        assert not links["The lesson's chain"][0]


@pytest.mark.django_db
def test_preset_keeps_the_other_valid_inputs_while_one_is_wrong(client):
    query = {"median_ms": "30", "p99_ms": "250", "hops": "4", "seed": "9", "slow": "oops",
             **SMALL}
    links = preset_links(client.get(PAGE, query).content.decode())
    _, tail = links["The Tail at Scale"]
    assert tail["median_ms"] == "30" and tail["p99_ms"] == "250" and tail["hops"] == "4"
    assert tail["seed"] == "9" and tail["samples"] == "2000"
    assert tail["slow"] == "0.01" and tail["servers"] == "100"
    _, chain = links["The lesson's chain"]
    assert chain["seed"] == "9" and chain["slow"] == "0.01"  # a wrong input takes the default


@pytest.mark.django_db
def test_preset_values_read_as_typed(client):
    html = client.get(PAGE, {"median_ms": "20.0", "p99_ms": "100.0", **SMALL}).content.decode()
    for _, query in preset_links(html).values():
        assert query["median_ms"] == "20" and query["p99_ms"] == "100"
        assert not any(value.endswith(".0") for value in query.values())


@pytest.mark.django_db
def test_presets_keep_availability_and_drill_marker(client):
    html = client.get(PAGE, {"p_as": "availability", "availability": "99.5",
                             "from_drill": "shop", **SMALL}).content.decode()
    links = preset_links(html)
    _, tail = links["The Tail at Scale"]
    assert tail["p_as"] == "availability" and tail["availability"] == "99.5"
    assert tail["from_drill"] == "shop"
    _, chain = links["The lesson's chain"]
    assert chain["p_as"] == "p" and chain["failure"] == "0.01" and "availability" not in chain


# Readings and labels ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_large_fanouts_have_thousands_separators(client):
    html = client.get(PAGE, {"servers": "2000", "slow": "0.0001", **SMALL}).content.decode()
    assert "Fan-out to 2,000 servers: slow" in html
    assert '<th scope="row">2,000</th>' in html
    assert "waits on all 2,000 servers" in html
    fanout = figure(html, "fanout")
    assert fanout["layout"]["margin"]["r"] >= 30


@pytest.mark.django_db
def test_one_hop_reading_explains_the_sampling_noise(client):
    html = unescape(client.get(PAGE, {"hops": "1", **SMALL}).content.decode())
    reading = search(r'<p id="chart-latency-reading"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "At 1 hop the simulated p99 is" in reading
    simulated = search(r"is ([\d.,]+ ms)", reading).group(1)
    if simulated == "100 ms":
        assert "the hop's own p99" in reading
    else:
        assert "sampling noise from 2,000 random requests" in reading
    assert "wobble a little around the true value" in html


# Back to the drill -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_drill_note_links_back_to_that_drill(client):
    from drills.models import Drill

    drill = Drill.objects.create(slug="shop", title="Buy a thing", domain="Retail",
                                 summary="s", scenario="s")
    html = client.get(PAGE, {"hops": "2", "from_drill": "shop", **SMALL}).content.decode()
    assert f'<a href="{drill.get_absolute_url()}">Back to the drill “Buy a thing”</a>' in html
    unknown = client.get(PAGE, {"hops": "2", "from_drill": "gone", **SMALL}).content.decode()
    assert f'<a href="{reverse("drills:catalogue")}">Back to the drills</a>' in unknown
    assert "Back to the drill" not in client.get(PAGE, SMALL).content.decode()


# API: methods, negative zero, the linear estimate ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [CHAIN, FANOUT])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_api_answers_other_methods_with_json_405(url, method):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"
    body = response.json()
    assert set(body) == {"error", "field"}
    assert method.upper() in body["error"] and "GET" in body["error"]


@pytest.mark.django_db
def test_api_answers_head(client):
    assert client.head(CHAIN, GOOD_CHAIN).status_code == 200


@pytest.mark.django_db
def test_api_normalises_negative_zero(client):
    import math

    response = client.get(CHAIN, {"hops": 3, "failure": "-0", "p99_ms": 100, "median_ms": 20,
                                  "samples": 1000})
    assert "-0.0" not in response.content.decode()
    body = response.json()
    for value in (body["failure"], body["failure_probability"],
                  body["failure_probability_linear"], body["simulated"]["failure_rate"]):
        assert value == 0 and math.copysign(1, value) == 1
    fanout = client.get(FANOUT, {"servers": 5, "slow": "-0.0"})
    assert "-0.0" not in fanout.content.decode()
    assert fanout.json()["slow_request_probability"] == 0


@pytest.mark.django_db
def test_fanout_api_linear_figure_is_called_an_estimate(client):
    body = client.get(FANOUT, {"servers": 200, "slow": 0.01}).json()
    assert "slow_request_probability_linear" not in body
    assert body["slow_request_estimate_linear"] == pytest.approx(2.0)
    assert 0 <= body["slow_request_probability"] <= 1


# Simulation results memoised in the shared cache ------------------------------------------------


@pytest.fixture
def simulations(monkeypatch):
    """Counts the simulations run, letting each one run as it would."""
    calls = []
    for name in ("simulate_chain_lengths", "simulate_chain", "simulate_fanout"):
        real = getattr(model, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(model, name, spy)
    return calls


def test_a_repeat_view_of_the_simulator_runs_no_simulation(client, db, simulations):
    first = client.get(PAGE)
    assert first.status_code == 200 and simulations
    simulations.clear()
    again = client.get(PAGE)
    assert again.status_code == 200 and simulations == []
    assert again.content == first.content


def test_a_repeat_view_of_the_latency_lesson_runs_no_simulation(client, latency_lesson,
                                                                 simulations):
    client.get(PAGE)
    simulations.clear()
    # The lesson's defaults are the simulator's: already run by anyone is run for everyone.
    response = client.get(latency_lesson.get_absolute_url())
    assert response.status_code == 200 and simulations == []
    assert 'id="simulator"' in response.content.decode()


def test_every_input_and_the_seed_key_the_memo(client, db, simulations):
    client.get(PAGE, SMALL)
    for changed in ({"seed": "7"}, {"hops": "4"}, {"failure": "0.02"}, {"samples": "2001"},
                    {"servers": "50"}, {"median_ms": "25"}):
        simulations.clear()
        client.get(PAGE, {**SMALL, **changed})
        assert "simulate_chain_lengths" in simulations or "simulate_fanout" in simulations, changed
    simulations.clear()
    client.get(PAGE, {**SMALL, "seed": "7"})
    assert simulations == []


def test_the_api_memoises_its_simulations(client, db, simulations):
    query = {"hops": "3", "failure": "0.01", "p99_ms": "100", "median_ms": "20",
             "samples": "5000", "seed": "11"}
    first = client.get(reverse("simulator:api_chain"), query).json()
    assert simulations == ["simulate_chain"]
    again = client.get(reverse("simulator:api_chain"), query).json()
    assert simulations == ["simulate_chain"] and again == first
    fanout = {"servers": "100", "slow": "0.01", "samples": "5000", "seed": "11"}
    assert client.get(reverse("simulator:api_fanout"), fanout).json() == client.get(
        reverse("simulator:api_fanout"), fanout).json()
    assert simulations.count("simulate_fanout") == 1


def test_memo_keys_hold_the_code_and_every_input():
    inputs = {"seed": 1, "hops": 2}
    assert memo.cache_key("calculation", inputs) == memo.cache_key(
        "calculation", {"hops": 2, "seed": 1})
    assert memo.cache_key("calculation", inputs) != memo.cache_key(
        "calculation", {"seed": 2, "hops": 2})
    assert memo.cache_key("calculation", inputs) != memo.cache_key("figures", inputs)
    assert memo.CODE_DIGEST in memo.cache_key("calculation", inputs)
