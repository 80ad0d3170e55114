"""Front-end budget: what each main page makes the browser download.

Lesson pages (and every other page without charts) ship at most 75 KB of compressed JS+CSS;
pages that draw charts with plotly.js (the simulator, and the lesson that embeds it) at most
450 KB. No page loads anything from another origin. Sizes are gzip at level 9, as the
production server stores them.
"""

import gzip
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from courseware.models import Lesson
from drills.models import Drill
from tests.conftest import log_in

pytestmark = pytest.mark.browser

KB = 1024
PAGE_BUDGET = 75 * KB
CHART_PAGE_BUDGET = 450 * KB


@dataclass
class Downloads:
    page: str
    requests: list[str] = field(default_factory=list)
    assets: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.assets.values())

    def describe(self) -> str:
        lines = [f"{self.page}: {self.total / KB:.1f} KB of compressed JS+CSS"]
        lines += [f"  {size / KB:7.1f} KB  {url}" for url, size in sorted(self.assets.items())]
        return "\n".join(lines)


@pytest.fixture
def measure(browser, live_server, live_course):
    """Opens a page in a fresh browser context (so nothing comes from the cache) and records
    every request and the compressed size of every script and stylesheet."""
    contexts: list[Any] = []
    signed_in: dict[str | None, Any] = {}
    # Each page ships mostly the same files; level 9 is slow enough to compress each once.
    compressed: dict[bytes, int] = {}

    def new_context(username: str | None):
        if username and username not in signed_in:
            context = browser.new_context(base_url=live_server.url)
            contexts.append(context)
            page = context.new_page()
            log_in(page, username)
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
            signed_in[username] = context.storage_state()
        context = browser.new_context(
            base_url=live_server.url, storage_state=signed_in.get(username)
        )
        contexts.append(context)
        # Routing every request turns the HTTP cache off: each page reports all it needs.
        context.route("**/*", lambda route: route.continue_())
        return context

    def open_page(path: str, username: str | None = None) -> Downloads:
        page = new_context(username).new_page()
        downloads = Downloads(path)
        responses = []
        page.on("request", lambda request: downloads.requests.append(request.url))
        page.on(
            "response",
            lambda response: responses.append(response)
            if response.request.resource_type in ("script", "stylesheet") else None,
        )
        # Until the network is quiet: requests made after load count for the origin check too.
        page.goto(path, wait_until="networkidle")
        for response in responses:
            body = response.body()
            if body not in compressed:
                compressed[body] = len(gzip.compress(body, 9))
            downloads.assets[response.url] = compressed[body]
        return downloads

    yield open_page
    for context in contexts:
        context.close()


def chart_pages() -> set[str]:
    return {"/simulator/"} | {
        lesson.get_absolute_url() for lesson in Lesson.objects.exclude(embed="")
    }


def main_pages() -> list[tuple[str, str | None]]:
    pages: list[tuple[str, str | None]] = [("/", None), ("/", "learner")]
    pages += [(lesson.get_absolute_url(), None) for lesson in Lesson.objects.in_order()]
    drill = Drill.objects.in_order().first()
    assert drill is not None
    pages += [("/drills/", None), (drill.get_absolute_url(), "learner"), ("/simulator/", None)]
    pages += [("/grading/", "instructor")]
    return pages


def test_every_main_page_stays_within_its_budget(measure, live_server):
    origin = urlsplit(live_server.url)
    charts = chart_pages()
    over = []

    for path, username in main_pages():
        downloads = measure(path, username)
        budget = CHART_PAGE_BUDGET if path in charts else PAGE_BUDGET
        assert downloads.assets, f"{path} loaded no scripts or stylesheets at all"
        if downloads.total > budget:
            over.append(f"over {budget / KB:.0f} KB: " + downloads.describe())
        foreign = [
            url for url in downloads.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
        ]
        assert not foreign, f"{path} loads from another origin: {foreign}"

    assert not over, "\n\n".join(over)


def test_lesson_pages_leave_plotly_out(measure):
    plain = Lesson.objects.filter(embed="").in_order().first()
    assert plain is not None

    downloads = measure(plain.get_absolute_url())

    assert not any("plotly" in url for url in downloads.assets)
    assert downloads.total <= PAGE_BUDGET


def test_the_simulator_uses_the_basic_plotly_bundle(measure):
    downloads = measure("/simulator/")

    plotly = [url for url in downloads.assets if "plotly" in url]
    assert len(plotly) == 1 and "plotly-basic" in plotly[0]
    assert downloads.total <= CHART_PAGE_BUDGET
