"""Figures inside lessons: the registry and markers, the math they draw, their htmx partials
and their plain-form fallback, and the rule that no lesson reads on for long without one."""

import pytest
from django.urls import reverse

from courseware import figures, lesson_figures

HTMX = {"HTTP_HX_REQUEST": "true"}
PLACED = {
    "two-styles": ["request-timeline"],
    "why-it-matters": ["worker-pool"],
    "worked-example": ["checkout-styles"],
    "misconceptions": ["complexity-moves"],
    "latency-math": ["failure-vs-hops", "p99-sum-rule", "latency-histogram", "fanout-tail"],
}


@pytest.mark.parametrize("slug", sorted(PLACED))
def test_each_lesson_draws_its_figures_in_place(client, course, slug):
    response = client.get(reverse("courseware:lesson", args=[slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "[[figure" not in html
    for name in PLACED[slug]:
        assert f'id="fig-{name}"' in html
        assert f'id="fig-{name}-out"' in html
        assert "<table" in html or "<ul" in html
    # In the order the Markdown places them.
    positions = [html.index(f'id="fig-{name}"') for name in PLACED[slug]]
    assert positions == sorted(positions)


def test_littles_law_fills_the_pool_and_then_its_callers():
    calm, caller = lesson_figures.pool_cascade(rate=1000, own_ms=30, downstream_ms=20,
                                               workers=200, timeout_ms=1000)
    assert calm.needed == pytest.approx(50) and not calm.saturated
    assert caller.needed == pytest.approx(60) and not caller.saturated
    slow, caller = lesson_figures.pool_cascade(rate=1000, own_ms=30, downstream_ms=2000,
                                               workers=200, timeout_ms=1000)
    assert slow.needed == pytest.approx(2030) and slow.saturated
    assert slow.served == pytest.approx(200 / 2030)
    # Requests that get no worker are held by the caller until its timeout.
    assert caller.needed == pytest.approx(1000 * (0.01 + 1.0))
    assert caller.saturated


def test_the_timeline_shows_what_each_style_makes_the_user_wait_for():
    sync, asynchronous = lesson_figures.request_timeline(caller_ms=30, callee_ms=120, lag_ms=60,
                                                         callee_down=False)
    assert sync.user_wait_ms == 30 + 5 + 120 + 5
    assert asynchronous.user_wait_ms == 35
    assert asynchronous.work_done_ms == 35 + 60 + 120
    sync, asynchronous = lesson_figures.request_timeline(caller_ms=30, callee_ms=120, lag_ms=60,
                                                         callee_down=True)
    assert sync.user_wait_ms == 30 + lesson_figures.TIMEOUT_MS and sync.work_done_ms is None
    assert asynchronous.user_wait_ms == 35 and asynchronous.work_done_ms is None


def test_the_checkout_fails_only_where_the_customer_waits():
    all_sync = {"inventory": "sync", "payments": "sync", "fulfillment": "sync"}
    hybrid = {"inventory": "async", "payments": "sync", "fulfillment": "async"}
    assert lesson_figures.checkout(all_sync, "none").response_ms == 30 + 40 + 250 + 60
    assert lesson_figures.checkout(all_sync, "inventory-slow").response_ms == 30 + 240 + 250 + 60
    assert not lesson_figures.checkout(all_sync, "inventory-down").succeeded
    stuck = lesson_figures.checkout(all_sync, "inventory-stuck")
    assert not stuck.succeeded and stuck.response_ms == 30 + lesson_figures.CALL_TIMEOUT_MS
    for fault in ("inventory-slow", "inventory-stuck", "inventory-down"):
        result = lesson_figures.checkout(hybrid, fault)
        assert result.succeeded and result.response_ms == 30 + 2 + 250 + 2
    assert not lesson_figures.checkout(hybrid, "payments-down").succeeded
    pending = lesson_figures.checkout({**hybrid, "payments": "async"}, "payments-down")
    assert pending.succeeded and "pending" in pending.user_sees and pending.sync_hops == 0


def test_complexity_lands_in_different_places():
    sync = {p.key: len(p.items) for p in lesson_figures.complexity("sync")}
    asynchronous = {p.key: len(p.items) for p in lesson_figures.complexity("async")}
    assert sync["consumer"] == 0 and asynchronous["consumer"] >= 4
    assert sync["request"] > asynchronous["request"]


def test_htmx_redraws_only_the_drawing(client, course):
    url = reverse("courseware:figure", args=["latency-math", "failure-vs-hops"])
    response = client.get(url, {"failure-hops": "10", "failure-failure_pct": "1"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<form" not in html
    assert "With N = 10 and p = 1.00%, the request fails 9.56%" in html
    assert "<svg" in html and "<table" in html


def test_without_htmx_the_figure_url_reloads_the_lesson_at_the_figure(client, course):
    url = reverse("courseware:figure", args=["why-it-matters", "worker-pool"])
    response = client.get(url, {"pool-downstream_ms": "2000"})
    assert response.status_code == 302
    assert response["Location"] == (
        "/lessons/why-it-matters/?pool-downstream_ms=2000#fig-worker-pool"
    )
    page = client.get("/lessons/why-it-matters/", {"pool-downstream_ms": "2000"})
    assert "Orders needs 2,030 workers" in page.content.decode()
    assert 'action="/lessons/why-it-matters/#fig-worker-pool"' in page.content.decode()


def test_bad_figure_input_shows_an_error_and_the_default_drawing(client, course):
    url = reverse("courseware:figure", args=["latency-math", "failure-vs-hops"])
    for bad in ("0", "101", "nan", "many"):
        response = client.get(url, {"failure-hops": bad, "failure-failure_pct": "1"}, **HTMX)
        assert response.status_code == 200
        assert "out of range" in response.content.decode()
        assert "With N = 5" in response.content.decode()
    page = client.get("/lessons/latency-math/", {"histogram-median_ms": "200",
                                                 "histogram-p99_ms": "100"})
    assert page.status_code == 200 and "must be above the median" in page.content.decode()


def test_figures_not_in_the_lesson_are_not_found(client, course):
    assert client.get(reverse("courseware:figure", args=["two-styles", "worker-pool"]),
                      **HTMX).status_code == 404
    assert client.get(reverse("courseware:figure", args=["two-styles", "no-such"]),
                      **HTMX).status_code == 404
    assert client.get(reverse("courseware:figure", args=["no-such", "worker-pool"]),
                      **HTMX).status_code == 404


def test_the_loader_refuses_an_unknown_figure(tmp_path):
    from courseware.loader import ContentError, read_figures

    assert read_figures(tmp_path / "x.md", "text\n\n[[figure worker-pool]]\n") is not None
    with pytest.raises(ContentError, match="not a figure"):
        read_figures(tmp_path / "x.md", "text\n\n[[figure made-up]]\n")


def test_the_text_is_cached_and_the_figure_is_not(client, course):
    first = client.get("/lessons/latency-math/", {"failure-hops": "7"}).content.decode()
    second = client.get("/lessons/latency-math/", {"failure-hops": "9"}).content.decode()
    assert "With N = 7" in first and "With N = 9" in second
    assert figures.split("<p>a</p>\n<p>[[figure x-y]]</p>\n<p>b</p>") == [
        figures.Part("<p>a</p>\n", "x-y"), figures.Part("\n<p>b</p>", ""),
    ]


@pytest.mark.parametrize("slug", ["why-it-matters", "worked-example"])
def test_the_outage_lab_sits_in_lessons_2_and_3(client, course, slug):
    html = client.get(reverse("courseware:lesson", args=[slug]),
                      {"service": "Inventory"}).content.decode()
    assert 'id="outage-form"' in html
    assert f'action="/lessons/{slug}/#outage-lab"' in html
    assert "plotly-basic.min.js" in html
