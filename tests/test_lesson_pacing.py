"""Every lesson gives the reader something to look at or do at least every 350 words or so,
and every lesson but the reading list has something to work with."""

import re
from pathlib import Path

import pytest

from courseware import figures
from courseware.loader import CONTENT_DIR, split_front_matter
from courseware.rendering import render_markdown

MAX_RUN = 350
LESSONS = sorted(CONTENT_DIR.glob("*/[0-9][0-9]-*.md"))
READING_LIST = "further-reading"
# A figure, a table or an activity ends a run of prose; their own words are not prose.
BREAK = re.compile(
    r"<figure\b.*?</figure>|<table\b.*?</table>|<p>\[\[figure [a-z0-9-]+\]\]</p>", re.S
)
NOT_PROSE = re.compile(r"<details\b.*?</details>|<pre\b.*?</pre>", re.S)


def runs(html: str) -> list[int]:
    return [len(re.sub(r"<[^>]+>", " ", NOT_PROSE.sub(" ", piece)).split())
            for piece in BREAK.split(html)]


def test_runs_are_counted_between_breaks():
    html = ("<p>one two three</p><figure><p>not counted</p></figure><p>four</p>"
            "<table><tr><td>x y</td></tr></table><p>[[figure worker-pool]]</p><p>five six</p>"
            "<details><p>twin words</p></details>")
    assert runs(html) == [3, 1, 0, 2]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_long_run_without_a_figure_table_or_activity(path: Path):
    _, body = split_front_matter(path)
    lengths = runs(render_markdown(body).html)
    assert max(lengths) <= MAX_RUN, f"{path.name}: runs of prose {lengths}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_something_to_work_with(path: Path):
    meta, body = split_front_matter(path)
    if path.stem.endswith(READING_LIST):
        return
    questions = (path.parent / "questions.yaml").read_text()
    slug = path.stem.split("-", 1)[1]
    has_checks = re.search(rf"lesson:\s*{re.escape(slug)}\b", questions) is not None
    assert figures.markers(body) or meta.get("embed") or has_checks, path.name
