"""The learner's design drawn as a sequence diagram, live and beside the key's."""

import html
import re

from django.urls import reverse

from drills import diagram, grading
from drills.grading import ASYNC, SYNC, KeyItem
from tests import test_drills_views as shop
from tests.test_drills_views import HTMX, RIGHT, post_data, submit_url

# The shop drill of the view tests, as fixtures here too.
lesson = shop.lesson
drill = shop.drill


def item(key, caller, callee, *, after=None, answer=SYNC) -> KeyItem:
    return KeyItem(key=key, caller=caller, callee=callee, exchange="x", on_critical_path=True,
                   answer=answer, rationale="r", deciding_question=1 if answer == SYNC else 3,
                   wrong_answer_why="w", after=after)


KEY = [
    item("pay", "Orders", "Payments"),
    item("bank", "Payments", "Bank", after="pay"),
    item("mail", "Orders", "E-mail", answer=ASYNC),
]


def test_a_known_design_has_its_path_hops_and_text():
    drawn = diagram.draw(KEY, {"pay": SYNC, "bank": SYNC, "mail": ASYNC},
                         entry="Web → Orders", hop_p99_ms=120, hop_failure=0.01)
    assert [lane.name for lane in drawn.lanes] == ["Web", "Orders", "Payments", "Bank", "E-mail"]
    assert drawn.hops == 2 and [a.label for a in drawn.path] == [
        "Orders → Payments", "Payments → Bank"]
    assert drawn.sum_p99_ms == 240
    assert round(drawn.failure_rate, 4) == 0.0199 and drawn.rule_of_thumb == 0.02
    assert drawn.text == (
        "The user waits behind 2 sync calls: 1. Orders → Payments; 2. Payments → Bank. "
        "Not waited for: Orders → E-mail.")
    styles = {a.label: (a.style, a.waited_for) for a in drawn.arrows if not a.entry}
    assert styles["Orders → E-mail"] == (ASYNC, False)


def test_an_async_hop_takes_the_calls_behind_it_off_the_path():
    drawn = diagram.draw(KEY, {"pay": ASYNC, "bank": SYNC})
    assert drawn.hops == 0 and not drawn.path and drawn.undecided == 1
    assert drawn.text.startswith("The user waits for no sync call")
    assert "1 call not decided yet." in drawn.text


def test_the_diagram_renders_as_svg_with_a_text_alternative(client, drill):
    page = client.get(drill.get_absolute_url()).content.decode()
    assert '<svg class="design-svg"' in page and "5 not decided yet" in page
    response = client.post(reverse("drills:design", args=[drill.slug]),
                           post_data({"orders-payments": "sync", "payments-processor": "sync",
                                      "orders-stock": "sync"}), **HTMX)
    fragment = html.unescape(response.content.decode())
    assert response.status_code == 200 and "<html" not in fragment
    assert "The user waits behind 3 sync calls: 1. Orders → Payments; 2. Payments → Processor;" \
        " 3. Orders → Stock." in fragment
    assert "more than 2" in fragment
    assert len(re.findall(r'class="design-arrow design-sync design-waited"', fragment)) == 3
    assert 'stroke-dasharray="2 4"' in fragment  # the undecided calls


def test_without_javascript_the_design_is_drawn_with_the_choices_kept(client, drill):
    response = client.post(reverse("drills:design", args=[drill.slug]),
                           post_data({"orders-payments": "async"}))
    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and "<html" in page
    assert 'value="async" checked' in page.replace("\n", " ") or "checked" in page
    assert "The user waits for no sync call" in page
    assert "Choose what settles" not in page  # drawing is not grading


def test_a_tampered_design_request_is_a_400(client, drill):
    response = client.post(reverse("drills:design", args=[drill.slug]),
                           post_data({"orders-payments": "maybe"}))
    assert response.status_code == 400


def test_the_feedback_shows_both_designs_and_links_them_to_the_simulator(client, drill):
    page = html.unescape(client.post(submit_url(drill), post_data(
        {**RIGHT, "orders-stock": "sync"}), **HTMX).content.decode())
    assert "Your design: a sequence diagram" in page
    assert "The key's design: a sequence diagram" in page
    links = re.findall(r'href="(/simulator/\?[^"]+)"', page)
    assert len(links) == 2
    mine = links[0]
    assert "hop-TOTAL_FORMS=3" in mine and "Orders+%E2%86%92+Stock" in mine
    assert "hop-TOTAL_FORMS=2" in links[1] and "Stock" not in links[1]
    simulator = client.get(mine.replace("&amp;", "&"))
    assert simulator.status_code == 200
    assert "Orders → Stock" in html.unescape(simulator.content.decode())


def test_the_key_path_is_part_of_the_result():
    result = grading.grade(KEY, {k: grading.Answer(SYNC) for k in ("pay", "bank", "mail")})
    assert [i.key for i in result.key_critical_sync_path] == ["pay", "bank"]
