"""On a phone the page scrolls down, never sideways: wide figures and tables scroll inside
their own boxes, and nothing else is wider than the screen."""

import pytest

from courseware.models import Lesson
from drills.models import Drill
from tests.conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Elements wider than the screen that sit inside no box of their own that clips or scrolls.
SPILLING = """() => {
  const width = window.innerWidth;
  const boxed = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !boxed(el))
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute("class") || ""}`);
}"""


def test_every_lesson_and_main_page_fits_a_phone(page, screenshot):
    log_in(page, "learner")
    page.set_viewport_size(PHONE)
    paths = ["/", "/drills/", "/simulator/", "/review/"]
    paths += [lesson.get_absolute_url() for lesson in Lesson.objects.in_order()]
    paths += [f"/drills/{slug}/" for slug in Drill.objects.values_list("slug", flat=True)[:3]]
    spills = {}
    for path in paths:
        page.goto(path)
        found = page.evaluate(SPILLING)
        if found or page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            spills[path] = found
    assert spills == {}
    assert page.js_errors == []
