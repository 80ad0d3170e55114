"""The own-workflow builder draws the learner's design from its structure: live over htmx, on
request without JavaScript, and not at all while the structure is broken."""

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills import diagram, workflow
from drills.forms import WorkflowRowForm
from drills.views import OWN_DRAFT_KEY
from grading.models import Submission
from tests import test_drills_views as views_tests
from tests.matching import search
from tests.test_drills_views import (
    ADD_URL,
    HAND_IN_URL,
    HTMX,
    OWN_URL,
    PREVIEW_URL,
    UPDATE_URL,
    own_data,
    row,
)

lesson = views_tests.lesson
own_question = views_tests.own_question

SHOP = [
    row(caller="Web", callee="Orders", entry=True),
    row(caller="Orders", callee="Payments", after="1"),
    row(caller="Payments", callee="Bank", after="2"),
    row(caller="Orders", callee="Mail", style="async", after="1"),
    row(caller="Mail", callee="Provider", after="4"),
]


def preview(client, rows, **extra) -> str:
    response = client.post(PREVIEW_URL, own_data(rows, **extra), **HTMX)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def design_part(page: str) -> str:
    """What the page shows under "Your design so far"."""
    return page.split('id="own-design"', 1)[1].split("</section>", 1)[0]


# The path from the structure alone ---------------------------------------------------------------


def test_a_call_made_for_the_users_request_is_on_the_path_without_any_tick():
    rows = [{"caller": "Web", "callee": "Orders", "style": "sync"},
            {"caller": "Orders", "callee": "Mail", "style": "async"},
            {"caller": "Mail", "callee": "Provider", "style": "sync", "after": 2}]
    assert workflow.on_path(rows) == {0, 1}
    assert workflow.count_hops(rows) == 1


def test_a_tick_kept_in_older_rows_changes_nothing():
    ticked = [{"caller": "Web", "callee": "Orders", "style": "sync", "critical": False},
              {"caller": "Orders", "callee": "Mail", "style": "async", "critical": True},
              {"caller": "Mail", "callee": "Provider", "style": "sync", "after": 2,
               "critical": True}]
    plain = [{k: v for k, v in r.items() if k != "critical"} for r in ticked]
    assert workflow.on_path(ticked) == workflow.on_path(plain) == {0, 1}
    text = workflow.as_text("Shop", ticked)
    assert "1. Web → Orders: SYNC, on the critical path" in text
    assert "3. Mail → Provider, made while handling 2: SYNC, off the critical path" in text
    assert "Sync hops on the critical path: 1" in text


def test_the_builder_has_no_critical_path_tick_box(client, own_question):
    page = client.get(OWN_URL).content.decode()
    assert "critical" not in WorkflowRowForm.base_fields
    assert 'name="rows-0-critical"' not in page
    assert 'name="rows-0-after"' in page


def test_a_hand_in_stores_the_structure_and_no_tick(learner_client, own_question):
    rows = [*SHOP[:4], row(caller="Mail", callee="Provider", after="4")]
    response = learner_client.post(HAND_IN_URL, own_data(rows, proposal=""))
    assert response.status_code == 302
    payload = Submission.objects.get().payload
    assert all("critical" not in stored for stored in payload["rows"])
    assert [stored["after"] for stored in payload["rows"]] == [None, 1, 2, 1, 4]
    assert payload["critical_sync_hops"] == 2


def test_an_older_hand_in_is_shown_with_its_path_from_the_structure(learner_client, learner,
                                                                   own_question):
    # Handed in while a tick set the path: the sync call to Payments was left unticked.
    rows = [{"caller": "Orders", "callee": "Payments", "exchange": "", "style": "sync",
             "justification": "The card", "critical": False, "entry": False, "after": None}]
    Submission.objects.create(
        learner=learner, question=own_question, payload={"workflow": "Old shop", "rows": rows},
        answer="Workflow: Old shop\n\n1. Orders → Payments: SYNC, off the critical path")
    page = html.unescape(learner_client.get(OWN_URL).content.decode())
    handed_in = page.split('id="your-workflows"', 1)[1]
    assert "1. Orders → Payments: SYNC, on the critical path" in handed_in
    assert "off the critical path" not in handed_in
    assert "Sync hops on the critical path: 1" in handed_in


def test_an_older_hand_in_with_damaged_rows_keeps_its_own_text(learner_client, learner,
                                                              own_question):
    Submission.objects.create(learner=learner, question=own_question, answer="Kept as written",
                              payload={"workflow": "Odd", "rows": ["not a row"]})
    page = learner_client.get(OWN_URL)
    assert page.status_code == 200 and "Kept as written" in page.content.decode()


def test_a_draft_kept_from_before_the_tick_went_is_restored(client, learner, own_question):
    client.force_login(learner)
    session = client.session
    session[OWN_DRAFT_KEY] = {"name": "Kept", "proposal": "", "rows": [
        {"caller": "App", "callee": "Orders", "style": "sync", "justification": "j",
         "critical": True, "entry": False, "after": None, "exchange": ""}]}
    session.save()
    page = html.unescape(client.get(OWN_URL).content.decode())
    assert 'value="App"' in page and "App → Orders" in design_part(page)


# Drawn live over htmx ------------------------------------------------------------------------


def test_the_live_drawing_comes_with_the_hop_count_and_nothing_else(client, own_question):
    fragment = preview(client, SHOP)
    assert fragment.lstrip().startswith('<div class="hop-counter">')
    assert "<html" not in fragment and "<form" not in fragment
    assert "2</span> sync hops on the critical path" in fragment
    drawing = search(r'<div id="own-design" hx-swap-oob="innerHTML">.*</div>', fragment, re.S)
    svg = drawing.group()
    assert '<svg class="design-svg"' in svg
    assert "The user waits behind 2 sync calls: 1. Orders → Payments; 2. Payments → Bank." in svg
    assert "Not waited for: Orders → Mail, Mail → Provider." in svg
    assert len(re.findall(r'class="design-arrow design-sync design-waited"', svg)) == 2
    assert 'class="design-arrow design-sync design-waited design-entry"' in svg
    # Made behind the async call to Mail: drawn, but not highlighted.
    assert 'class="design-arrow design-sync"' in svg
    assert "no made-up latency or failure figures" in svg
    assert " ms" not in svg and "% of requests" not in svg


def test_the_page_draws_the_rows_from_the_start(client, learner, own_question):
    client.force_login(learner)
    session = client.session
    session[OWN_DRAFT_KEY] = {"name": "Shop", "proposal": "", "rows": [
        {**r, "after": int(r["after"]) if r["after"] else None} for r in SHOP]}
    session.save()
    page = html.unescape(client.get(OWN_URL).content.decode())
    part = design_part(page)
    assert "The user waits behind 2 sync calls" in part
    # The drawing sits after the form in the page, so a phone shows the rows first.
    assert page.index('id="own-form"') < page.index('id="own-design"')


def test_the_form_asks_for_a_drawing_on_every_change(client, own_question):
    page = client.get(OWN_URL).content.decode()
    counter = search(r'<div id="hop-count"[^>]*>', page).group()
    assert f'hx-post="{PREVIEW_URL}"' in counter and 'hx-trigger="change from:#own-form"' in counter
    assert "Name the two services of an interaction" in design_part(page)


def test_undecided_and_half_typed_rows_are_said_so(client, own_question):
    rows = [row(caller="Orders", callee="Payments", style=""),
            row(caller="Orders", callee="", style="sync"), row(caller="", callee="", style="",
                                                               why="")]
    fragment = preview(client, rows)
    assert "0</span> sync hops" in fragment
    assert "1 not decided yet" in fragment
    assert "1 not drawn yet: it needs two different services" in fragment
    assert 'stroke-dasharray="2 4"' in fragment


def test_an_htmx_redraw_of_the_builder_brings_the_drawing_along(client, own_question):
    data = own_data(SHOP, **{"rows-4-DELETE": "on"})
    fragment = html.unescape(client.post(UPDATE_URL, data, **HTMX).content.decode())
    assert fragment.lstrip().startswith('<form id="own-form"')
    after_form = fragment.split("</form>", 1)[1]
    assert '<div id="own-design" hx-swap-oob="innerHTML">' in after_form
    assert "Not waited for: Orders → Mail." in after_form


# Drawn without JavaScript ----------------------------------------------------------------------


def test_without_javascript_the_drawing_is_made_on_request(client, own_question):
    page = client.get(OWN_URL).content.decode()
    button = search(r'<noscript><button [^>]*>Draw my design</button></noscript>', page).group()
    assert f'formaction="{PREVIEW_URL}#own-design-heading"' in button
    assert 'id="own-design-heading"' in page
    response = client.post(PREVIEW_URL, own_data(SHOP, name="Shop"))
    assert response.status_code == 200
    drawn = html.unescape(response.content.decode())
    assert "<html" in drawn and 'value="Shop"' in drawn and 'value="Provider"' in drawn
    assert "The user waits behind 2 sync calls" in design_part(drawn)
    # Drawing is not handing in: no form errors, nothing stored.
    assert "is not handed in yet" not in drawn and not Submission.objects.exists()


# A broken structure ------------------------------------------------------------------------------


BLANK = row(caller="", callee="", style="", why="")
THREE = [row(), row(caller="Payments", callee="Bank"), row(caller="Orders", callee="Stock")]


@pytest.mark.parametrize(
    ("rows", "afters", "message", "named"),
    [
        (THREE, {1: "7"},
         "Interaction 2 is made while handling interaction 7, which does not exist.", [1]),
        (THREE, {1: "3", 2: "2"},
         "Interactions 2, 3 are each made while handling another of them", [1, 2]),
        (THREE, {1: "2"}, "Interaction 2 is made while handling itself", [1]),
        ([THREE[0], BLANK, THREE[2]], {2: "2"},
         "Interaction 3 is made while handling interaction 2, which is empty.", [2]),
    ],
)
def test_a_broken_structure_is_not_drawn_and_names_the_rows(client, own_question, rows, afters,
                                                           message, named):
    extra = {f"rows-{i}-after": v for i, v in afters.items()}
    fragment = preview(client, rows, **extra)
    assert "cannot be drawn until" in fragment and message in fragment
    assert "<svg" not in fragment
    assert "not counted until the rows named" in fragment
    assert search(r'<a href="#id_rows-(\d+)-after">', fragment).group(1) == str(named[0])

    # Without JavaScript the rows it names carry the message too, and nothing is stored.
    page = html.unescape(client.post(PREVIEW_URL, own_data(rows, **extra)).content.decode())
    for index in named:
        assert f'id="row-{index}-structure">{message}' in page
    assert "cannot be drawn until" in design_part(page)

    response = client.post(HAND_IN_URL, own_data(rows, **extra))
    assert response.status_code == 422
    handed = html.unescape(response.content.decode())
    summary = handed.split('id="own-errors"', 1)[1].split("</ul>", 1)[0]
    # One line however many rows share the problem, linked to the first of them.
    assert summary.count(message) == 1
    assert f'<a href="#id_rows-{named[0]}-after">{message}' in summary
    for index in named:
        fieldset = handed.split(f'id="row-{index}"', 1)[1].split("</fieldset>", 1)[0]
        assert "own-row has-error" in fieldset and fieldset.count(message) == 1
    assert not Submission.objects.exists()


def test_the_users_request_cannot_be_made_by_another_call(client, own_question):
    rows = [row(), row(caller="Web", callee="Orders", entry=True, after="1")]
    fragment = preview(client, rows)
    assert "Interaction 2 is the user's own request, so no other call makes it" in fragment


def test_the_users_request_marked_async_points_at_its_style(client, own_question):
    fragment = preview(client, [row(style="async", entry=True)])
    assert '<a href="#id_rows-0-style_0">Interaction 1 is the user\'s own request' in fragment


@pytest.mark.parametrize("after", ["x", "-1", "²", "1.5"])
def test_a_number_that_is_not_one_is_a_message_not_a_500(client, own_question, after):
    fragment = preview(client, [row(after=after)])
    assert "Interaction 1: give the number of the interaction" in fragment
    response = client.post(PREVIEW_URL, own_data([row(after=after)]))
    assert response.status_code == 200
    response = client.post(HAND_IN_URL, own_data([row(after=after)]))
    assert response.status_code == 422 and not Submission.objects.exists()


def test_a_call_to_its_own_service_is_a_form_error(learner_client, own_question):
    response = learner_client.post(HAND_IN_URL, own_data([row(caller="Orders", callee="orders")]))
    assert response.status_code == 422
    assert "name the service that is called, not the caller again" in response.content.decode()
    assert not Submission.objects.exists()


# Numbers follow their rows ---------------------------------------------------------------------


def test_removing_a_row_keeps_every_number_on_the_row_it_named(client, own_question):
    rows = [row(caller="A", callee="B"), row(caller="B", callee="C", after="1"),
            row(caller="C", callee="D", after="2"), row(caller="A", callee="E", after="1")]
    page = html.unescape(client.post(UPDATE_URL, own_data(rows, **{"rows-0-DELETE": "on"}))
                         .content.decode())
    after = {i: search(rf'<input [^>]*name="rows-{i}-after"[^>]*>', page).group()
             for i in range(3)}
    assert 'value=' not in after[0] and 'value="1"' in after[1] and 'value=' not in after[2]
    assert ("Interactions 1 and 3 were made while handling the one you removed, so now they "
            "hang off the user's request.") in page
    assert "cannot be drawn" not in page


def test_empty_rows_in_between_do_not_shift_the_numbers(learner_client, own_question):
    blank = row(caller="", callee="", style="", why="")
    rows = [row(caller="A", callee="B"), blank, row(caller="B", callee="C", after="1"),
            row(caller="C", callee="D", after="3")]
    response = learner_client.post(HAND_IN_URL, own_data(rows, proposal="Make C → D async."))
    assert response.status_code == 302
    stored = Submission.objects.get()
    assert [r["after"] for r in stored.payload["rows"]] == [None, 1, 2]
    assert "3. C → D, made while handling 2: SYNC, on the critical path" in stored.answer


def test_adding_a_row_is_not_held_up_by_the_drawing(client, own_question):
    response = client.post(ADD_URL, own_data([row()]), **HTMX)
    assert response.status_code == 200 and 'name="rows-1-caller"' in response.content.decode()


# The drawing itself ----------------------------------------------------------------------------


def test_a_workflow_diagram_has_the_learners_numbers_and_lanes():
    rows = [{"caller": "Web", "callee": "Orders", "style": "sync", "entry": True},
            None,
            {"caller": "orders ", "callee": "Payments", "style": "sync", "after": "1"},
            {"caller": "Orders", "callee": "Mail", "style": "async"}]
    drawn = diagram.draw_workflow(rows)
    assert [lane.name for lane in drawn.lanes] == ["Web", "Orders", "Payments", "Mail"]
    assert [a.number for a in drawn.arrows] == [1, 3, 4]
    assert drawn.hops == 1 and [a.label for a in drawn.path] == ["Orders → Payments"]
    assert not drawn.figures and drawn.left_out == 0 and drawn.undecided == 0


@given(st.lists(st.fixed_dictionaries({
    "caller": st.sampled_from(["A", "B", "C", ""]),
    "callee": st.sampled_from(["B", "C", "D", ""]),
    "style": st.sampled_from(["sync", "async", "", None]),
    "after": st.sampled_from(["", "1", "2", "3", "4", "9", "0", "x", "²", None]),
    "entry": st.booleans(),
}), max_size=6))
def test_the_drawing_and_the_count_always_agree(rows):
    drawn = diagram.draw_workflow(rows)
    assert drawn.hops == len(drawn.path) == workflow.count_hops(rows)
    assert drawn.left_out + len(drawn.arrows) == sum(not workflow.is_blank(r) for r in rows)
    if not workflow.structure_errors(rows):
        kept, orphans = workflow.compact([None if workflow.is_blank(r) else r for r in rows])
        assert orphans == [] and workflow.count_hops(kept) == drawn.hops
