"""Loading drills from drills/content/*.yaml: validation, idempotence, reporting."""

import io
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command

from courseware.loader import ContentError
from courseware.models import Course, Lesson, Module
from drills import grading, loader
from drills.models import Attempt, AttemptAnswer, Drill, Interaction

REQUIRED_SLUGS = {
    "place-an-order", "post-to-feed", "upload-photo", "request-a-ride", "transfer-money",
    "sign-up-user", "publish-video", "search-catalogue", "book-hotel", "reset-password",
}

GOOD = """\
title: Check in for a flight
domain: Travel
difficulty: intro
order: 1
lesson: {lesson}
summary: A passenger checks in and picks a seat.
entry: App → Check-in
scenario: |
  The passenger taps "Check in".

  Then picks a seat.
interactions:
  - key: checkin-seats
    caller: Check-in
    callee: Seats
    exchange: Reserve the chosen seat
    critical_path: true
    answer: sync
    question: 1
    rationale: The passenger must see the seat is theirs.
    wrong_answer_why: Two passengers could get the same seat.
  - key: seats-cache
    caller: Seats
    callee: Seat cache
    after: checkin-seats
    exchange: Refresh the seat map copy
    answer: async
    question: 4
    rationale: A read copy can catch up.
    wrong_answer_why: The passenger waits for a cache.
  - key: checkin-boarding-pass
    caller: Check-in
    callee: Wallet
    exchange: Issue a boarding pass to the phone wallet
    critical_path: true
    answer: either
    condition: Sync when the airport scans passes at the gate within minutes.
    question: 1
    rationale: It depends on how soon the pass is needed.
    wrong_answer_why: Choosing without the condition.
  - key: checkin-analytics
    caller: Check-in
    callee: Analytics
    exchange: Record the check-in
    critical_path: true
    answer: async
    question: 4
    rationale: Bookkeeping.
    wrong_answer_why: Analytics outages block check-in.
  - key: checkin-email
    caller: Check-in
    callee: E-mail sender
    exchange: E-mail the boarding pass as a PDF
    critical_path: true
    answer: async
    question: 3
    rationale: The e-mail can arrive a minute later.
    wrong_answer_why: A slow mail relay stops check-in.
"""


@pytest.fixture
def lesson(db):
    course = Course.objects.create(slug="c", title="Course")
    module = Module.objects.create(course=course, slug="m", title="Module")
    return Lesson.objects.create(module=module, slug="latency-math", title="Latency math",
                                 body_markdown="Text")


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def content(tmp_path) -> Path:
    write(tmp_path, "check-in.yaml", GOOD.format(lesson="latency-math"))
    return tmp_path


# The real content ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_course_ships_ten_valid_drills():
    plan = loader.read_content()
    slugs = {drill["slug"] for drill in plan.drills}
    assert REQUIRED_SLUGS <= slugs
    assert {drill["difficulty"] for drill in plan.drills} == {1, 2, 3}
    assert len({drill["domain"] for drill in plan.drills}) >= 10
    for drill in plan.drills:
        assert 4 <= len(drill["interactions"]) <= 8, drill["slug"]
        assert drill["lesson"], drill["slug"]
        assert drill["debrief"], drill["slug"]
        for item in drill["interactions"]:
            assert len(item["rationale"]) > 40 and len(item["wrong_answer_why"]) > 40, item["key"]


@pytest.mark.django_db
def test_real_drills_keep_the_key_within_two_hops_and_break_long_chains():
    chain_breakers = 0
    used_questions = set()
    for drill in loader.read_content().drills:
        key = [loader.key_item(item) for item in drill["interactions"]]
        used_questions |= {item.deciding_question for item in key}
        assert grading.count_critical_sync_hops(key, grading.key_choices(key)) <= 2
        all_sync = {item.key: grading.SYNC for item in key}
        if any(i.deciding_question == 5 for i in key) and \
                grading.count_critical_sync_hops(key, all_sync) > 3:
            chain_breakers += 1
        result = grading.grade(key, {i.key: grading.Answer(
            grading.SYNC if i.answer == grading.EITHER else i.answer) for i in key})
        assert result.all_correct
    assert chain_breakers >= 2
    assert used_questions == {1, 2, 3, 4, 5, grading.OFF_PATH}


BACKGROUND_CALLS = {
    "place-an-order": "fulfillment-courier", "post-to-feed": "fanout-graph",
    "reset-password": "email-provider", "sign-up-user": "billing-provider",
    "upload-photo": "thumbnails-storage", "request-a-ride": "dispatch-locations",
    "publish-video": "orchestrator-cdn",
}


def real_keys() -> dict[str, list[grading.KeyItem]]:
    return {
        drill["slug"]: [loader.key_item(item) for item in drill["interactions"]]
        for drill in loader.read_content().drills
    }


@pytest.mark.django_db
def test_every_shipped_key_cites_a_reason_that_fits_the_interactions_place():
    for slug, key in real_keys().items():
        assert grading.check_reasons_fit_place(key) == [], slug


@pytest.mark.django_db
def test_calls_made_inside_background_workers_are_settled_by_the_off_path_rule():
    keys = real_keys()
    for slug, interaction in BACKGROUND_CALLS.items():
        item = next(i for i in keys[slug] if i.key == interaction)
        assert item.answer == grading.SYNC
        assert item.deciding_question == grading.OFF_PATH, interaction
        assert "off-path rule" in item.rationale and "own job" in item.rationale, interaction
    # No call behind an async hop, anywhere, is settled by the user's wait.
    for key in keys.values():
        async_keys = {i.key for i in key if i.answer == grading.ASYNC}
        for item in key:
            if item.after in async_keys:
                assert item.deciding_question not in (1, 5), item.key


@pytest.mark.django_db
def test_an_arrow_to_one_consumer_is_not_settled_by_the_fan_out_of_its_event():
    keys = real_keys()
    for slug, interaction in [("place-an-order", "orders-fulfillment"),
                              ("sign-up-user", "accounts-billing"),
                              ("upload-photo", "photos-labels")]:
        item = next(i for i in keys[slug] if i.key == interaction)
        assert item.deciding_question == 3, interaction


@pytest.mark.django_db
def test_search_offers_the_local_copies_as_the_choice_and_its_fix_reaches_the_limit():
    key = real_keys()["search-catalogue"]
    items = {item.key: item for item in key}
    # The first interaction must not give away how stock reaches the page.
    assert "stock" not in items["bff-search"].exchange.lower()
    for copied, event in [("bff-inventory", "StockChanged"), ("pricing-profile", "TierChanged")]:
        exchange = items[copied].exchange
        assert "Sync:" in exchange and "Async:" in exchange and event in exchange
        assert items[copied].answer == grading.ASYNC
    result = grading.grade(key, {item.key: grading.Answer(grading.SYNC) for item in key})
    assert result.advice is not None
    steps = (result.advice, *result.advice.next_steps)
    assert steps[-1].hops_after <= grading.MAX_SYNC_HOPS
    assert {step.item.key for step in steps[:2]} == {"bff-inventory", "pricing-profile"}


@pytest.mark.django_db
def test_the_hotel_booking_is_a_saga_with_an_async_compensation():
    plan = {drill["slug"]: drill for drill in loader.read_content().drills}
    hotel = plan["book-hotel"]
    assert hotel["lesson"] == "choreography-orchestration"
    items = {item["key"]: item for item in hotel["interactions"]}
    # The scenario sets out the saga; the interactions say what each call does, so that which
    # of them is a saga step or its compensation is left for the learner to work out.
    assert "saga" in hotel["scenario"] and "compensating step" in hotel["scenario"]
    assert '"holding"' in items["bookings-inventory"]["exchange"]
    assert '"paying"' in items["bookings-payments"]["exchange"]
    texts = [item["exchange"] for item in hotel["interactions"]] + [
        change.get("exchange", "") for variant in hotel["variants"]
        for change in variant["interactions"].values()]
    assert not [text for text in texts if re.search(r"saga|compensat", text, re.IGNORECASE)]
    release = items["bookings-release"]
    assert release["callee"] == "Room inventory" and release["answer"] == grading.ASYNC
    assert "2.97%" in hotel["debrief"] and "1.99%" in hotel["debrief"]


STYLE_WORDS = re.compile(
    r"\b(a?sync\w*|a?synchronous\w*|wait\w*|events?|messages?|queue\w*|either|"
    r"background|later|afterwards|behind the scenes)\b",
    re.IGNORECASE,
)


@pytest.mark.django_db
def test_no_catalogue_blurb_names_a_style_or_hints_at_one():
    for drill in loader.read_content().drills:
        assert not STYLE_WORDS.search(drill["summary"]), (drill["slug"], drill["summary"])


def test_the_blurb_check_catches_a_leak():
    assert STYLE_WORDS.search("Only one call has to finish; the rest can wait.")
    assert STYLE_WORDS.search("Reads usually stay sync.")
    assert not STYLE_WORDS.search("A shopper presses \"Place order\".")


LESSONS = Path(__file__).resolve().parent.parent / "courseware" / "content" / "sync-vs-async"


@pytest.mark.django_db
def test_a_lesson_that_has_drills_links_to_its_own_drills_only():
    own: dict[str, set[str]] = {}
    for drill in loader.read_content().drills:
        own.setdefault(drill["lesson"], set()).add(drill["slug"])
    checked = 0
    for path in sorted(LESSONS.glob("[0-9][0-9]-*.md")):
        slug = path.stem.split("-", 1)[1]
        linked = set(re.findall(r"\(/drills/([a-z0-9-]+)/\)", path.read_text()))
        linked -= {"own"}
        if slug in own and linked:
            assert linked <= own[slug], (slug, linked - own[slug])
            checked += 1
    assert checked >= 4


def test_question_texts_are_worded_the_same_in_lesson_5_and_the_drills():
    text = " ".join((LESSONS / "05-decision-procedure.md").read_text().split())
    for question in grading.QUESTIONS.values():
        assert f"**{question.text}**" in text, question.number
    assert grading.OFF_PATH_TITLE.lower() in text.lower()


@pytest.mark.django_db
def test_load_course_loads_the_drills_and_is_idempotent():
    out = io.StringIO()
    call_command("load_course", stdout=out)
    assert Drill.objects.filter(slug__in=REQUIRED_SLUGS).count() == 10
    place = Drill.objects.get(slug="place-an-order")
    assert place.lesson is not None and place.lesson.slug == "worked-example"
    capture = place.interactions.get(key="fulfillment-payments")
    assert capture.after is not None and capture.after.key == "orders-fulfillment"
    again = io.StringIO()
    call_command("load_course", stdout=again)
    assert "drills: 0 created, 0 updated" in again.getvalue()
    assert "nothing changed" in again.getvalue()


# Applying and re-applying ----------------------------------------------------------------------


def test_apply_creates_then_reports_nothing_changed(content, lesson):
    report = loader.apply(loader.read_content(content))
    assert "drill check-in" in report.created
    assert len(report.created) == 6 and report.changed
    drill = Drill.objects.get(slug="check-in")
    assert drill.lesson == lesson
    assert drill.scenario == 'The passenger taps "Check in".\n\nThen picks a seat.'
    assert drill.source_path == "drills/content/check-in.yaml"
    cache = drill.interactions.get(key="seats-cache")
    assert cache.after is not None
    assert cache.after.key == "checkin-seats" and cache.on_critical_path is False
    assert drill.interactions.get(key="checkin-boarding-pass").condition.startswith("Sync when")

    second = loader.apply(loader.read_content(content))
    assert not second.changed and second.unchanged == 6
    assert second.lines()[-1] == "drills: 0 created, 0 updated, 6 unchanged"


def test_an_edited_file_updates_only_what_changed(content, lesson):
    loader.apply(loader.read_content(content))
    path = content / "check-in.yaml"
    path.write_text(path.read_text().replace("Bookkeeping.", "Internal record-keeping."))
    report = loader.apply(loader.read_content(content))
    assert report.updated == ["interaction check-in/checkin-analytics"]
    assert Interaction.objects.get(key="checkin-analytics").rationale == "Internal record-keeping."


def test_an_interaction_dropped_from_the_file_is_removed(content, lesson):
    loader.apply(loader.read_content(content))
    path = content / "check-in.yaml"
    text = path.read_text()
    start, end = text.index("  - key: checkin-analytics"), text.index("  - key: checkin-email")
    path.write_text(text[:start] + text[end:])
    report = loader.apply(loader.read_content(content))
    assert "interaction check-in/checkin-analytics removed" in report.updated
    assert not Interaction.objects.filter(key="checkin-analytics").exists()


def test_an_answered_interaction_cannot_be_dropped(content, lesson, learner):
    loader.apply(loader.read_content(content))
    drill = Drill.objects.get(slug="check-in")
    attempt = Attempt.objects.create(drill=drill, learner=learner, score=1, total=4,
                                     critical_sync_hops=1, key_critical_sync_hops=1)
    AttemptAnswer.objects.create(attempt=attempt, choice="async", correct=True,
                                 interaction=drill.interactions.get(key="checkin-analytics"))
    path = content / "check-in.yaml"
    text = path.read_text()
    start, end = text.index("  - key: checkin-analytics"), text.index("  - key: checkin-email")
    path.write_text(text[:start] + text[end:])
    with pytest.raises(ContentError, match="learners have answered it"):
        loader.read_content(content)
    assert Interaction.objects.filter(key="checkin-analytics").exists()


def test_a_missing_lesson_is_a_warning_not_an_error(content, db):
    report = loader.apply(loader.read_content(content))
    assert Drill.objects.get(slug="check-in").lesson is None
    assert any("lesson 'latency-math' does not exist" in w for w in report.warnings)
    assert report.lines()[0].startswith("warning: drill check-in")


def test_a_drill_missing_from_the_files_is_kept(content, lesson):
    loader.apply(loader.read_content(content))
    (content / "check-in.yaml").unlink()
    loader.apply(loader.read_content(content))
    assert Drill.objects.filter(slug="check-in").exists()


# Malformed files -------------------------------------------------------------------------------


def broken(old: str, new: str) -> str:
    text = GOOD.format(lesson="latency-math")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("title: [unclosed\n", "invalid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        (broken("title: Check in for a flight\n", ""), "'title' is missing"),
        (broken("difficulty: intro", "difficulty: expert"), "'difficulty' must be intro"),
        (broken("order: 1", "order: first"), "'order' must be a whole number"),
        (broken("domain: Travel", "domain: Travel\ncolour: blue"), "unknown field(s): colour"),
        (broken("    answer: sync\n", "    answer: maybe\n"), "must be sync, async or either"),
        (broken("    question: 1\n", "    question: 7\n"), "must be one of 1 to 5"),
        (broken("    answer: sync\n    question: 1\n", "    answer: sync\n    question: 3\n"),
         "question 3 points to async, but the answer is sync"),
        (broken("    condition: Sync when the airport scans passes at the gate within minutes.\n",
                ""), "'condition' is missing"),
        (broken("    answer: async\n    question: 4\n    rationale: Bookkeeping.",
                "    answer: async\n    condition: never\n    question: 4\n"
                "    rationale: Bookkeeping."), "'condition' belongs to 'either' answers only"),
        (broken("after: checkin-seats", "after: nowhere"), "which must be listed before it"),
        (broken("    caller: Seats\n", "    caller: Check-in\n"), "its caller must be 'Seats'"),
        (broken("  - key: seats-cache", "  - key: checkin-seats"), "is used twice"),
        (broken("  - key: seats-cache", "  - key: Seats Cache"), "is not a slug"),
        (broken("    critical_path: true\n    answer: sync",
                "    critical_path: maybe\n    answer: sync"), "'critical_path' must be true"),
        (broken("    after: checkin-seats\n",
                "    after: checkin-seats\n    critical_path: true\n"),
         "leave out 'critical_path'"),
        (broken("    answer: async\n    question: 4\n    rationale: Bookkeeping.",
                "    answer: sync\n    question: 1\n    rationale: Bookkeeping.").replace(
            "    answer: either\n", "    answer: sync\n").replace(
            "    condition: Sync when the airport scans passes at the gate within minutes.\n", ""),
         "puts 3 sync hops on the critical path"),
        (GOOD.format(lesson="latency-math").split("  - key: checkin-boarding-pass")[0],
         "4 to 8 interactions, this one has 2"),
        (broken("lesson: latency-math", "lesson: Latency Math"), "is not a slug"),
    ],
)
def test_malformed_files_are_refused_with_the_reason(tmp_path, db, text, reason):
    path = write(tmp_path, "check-in.yaml", text)
    with pytest.raises(ContentError) as caught:
        loader.read_content(tmp_path)
    assert caught.value.path == str(path)
    assert reason in caught.value.reason
    assert not Drill.objects.exists()


@pytest.mark.parametrize(("name", "reason"), [("own.yaml", "reserved"),
                                              ("Bad_Name.yaml", "named <slug>.yaml")])
def test_file_names_must_be_usable_slugs(tmp_path, db, name, reason):
    write(tmp_path, name, GOOD.format(lesson="latency-math"))
    with pytest.raises(ContentError, match=reason):
        loader.read_content(tmp_path)


def test_two_drills_cannot_share_an_order(content, db):
    shutil.copy(content / "check-in.yaml", content / "check-in-again.yaml")
    with pytest.raises(ContentError, match="order 1 is already used"):
        loader.read_content(content)


@pytest.mark.django_db
def test_load_course_changes_nothing_when_a_drill_file_is_bad(monkeypatch, tmp_path):
    write(tmp_path, "broken.yaml", "title: [unclosed\n")
    monkeypatch.setattr(loader, "CONTENT_DIR", tmp_path)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Nothing was changed.*broken.yaml"):
        call_command("load_course", stdout=io.StringIO())
    assert not Drill.objects.exists() and not Lesson.objects.exists()


@pytest.mark.django_db
def test_place_an_order_counts_hops_the_way_the_lessons_do():
    # The worked example and the decision procedure give the hybrid checkout one sync hop,
    # Orders → Payments, and name its event OrderConfirmed; the drill must not contradict them.
    drill = next(d for d in loader.read_content().drills if d["slug"] == "place-an-order")
    key = [loader.key_item(item) for item in drill["interactions"]]
    choices = grading.key_choices(key)
    on_path = grading.critical_path(key, choices)
    hops = [item.key for item in key if item.key in on_path and choices[item.key] == "sync"]
    assert hops == ["orders-payments"]
    text = str(drill)
    assert "OrderConfirmed" in text and "OrderPlaced" not in text
    assert not any(item.callee == "Card processor" for item in key)


# Reasons that contradict an interaction's place -------------------------------------------------

BEHIND_ASYNC = broken(
    "    answer: sync\n    question: 1\n    rationale: The passenger must see",
    "    answer: async\n    question: 3\n    rationale: The passenger must see",
).replace(
    "    answer: async\n    question: 4\n    rationale: A read copy can catch up.",
    "    answer: sync\n    question: 1\n    rationale: A read copy can catch up.",
)


@pytest.mark.parametrize(
    ("text", "interaction", "reason"),
    [
        (BEHIND_ASYNC, "seats-cache",
         "question 1 is about the user's wait, but no user waits for this call (it is made "
         "while handling 'checkin-seats', which is async in the key)"),
        (broken("    exchange: Record the check-in\n    critical_path: true\n"
                "    answer: async\n    question: 4\n",
                "    exchange: Record the check-in\n    critical_path: false\n"
                "    answer: sync\n    question: 1\n"),
         "checkin-analytics", "no user waits for this call (it is off the critical path)"),
        (broken("    exchange: Record the check-in\n    critical_path: true\n"
                "    answer: async\n    question: 4\n",
                "    exchange: Record the check-in\n    critical_path: false\n"
                "    answer: async\n    question: 5\n"),
         "checkin-analytics", "question 5 is about the user's wait"),
        (broken("    answer: sync\n    question: 1\n    rationale: The passenger must see",
                "    answer: sync\n    question: off-path\n    rationale: The passenger must see"),
         "checkin-seats", "the off-path rule is for calls no user waits for"),
    ],
)
def test_a_reason_that_contradicts_the_interactions_place_is_refused(tmp_path, db, text,
                                                                       interaction, reason):
    path = write(tmp_path, "check-in.yaml", text)
    with pytest.raises(ContentError) as caught:
        loader.read_content(tmp_path)
    assert caught.value.path == str(path)
    assert f"interaction {interaction!r}" in caught.value.reason
    assert reason in caught.value.reason
    assert not Drill.objects.exists()


def test_the_off_path_rule_settles_a_worker_call_behind_an_async_hop(tmp_path, lesson):
    text = BEHIND_ASYNC.replace(
        "    answer: sync\n    question: 1\n    rationale: A read copy can catch up.",
        "    answer: sync\n    question: off-path\n    rationale: A read copy can catch up.",
    )
    write(tmp_path, "check-in.yaml", text)
    loader.load(tmp_path)
    worker = Interaction.objects.get(key="seats-cache")
    assert worker.deciding_question == grading.OFF_PATH
    assert worker.key_item().question.label == "the off-path rule"


def test_the_off_path_rule_must_fit_the_answer(tmp_path, db):
    text = BEHIND_ASYNC.replace(
        "    answer: sync\n    question: 1\n    rationale: A read copy can catch up.",
        "    answer: async\n    question: off-path\n    rationale: A read copy can catch up.",
    )
    write(tmp_path, "check-in.yaml", text)
    with pytest.raises(ContentError,
                       match="the off-path rule points to sync, but the answer is async"):
        loader.read_content(tmp_path)


# Techniques, weights, other reasons and variants -----------------------------------------

WITH_TECHNIQUES = GOOD.replace(
    "entry: App → Check-in\n",
    "entry: App → Check-in\ntechniques: [plain-call, event, local-copy]\n",
).replace(
    "    exchange: Refresh the seat map copy\n",
    "    exchange: Refresh the seat map copy\n    technique: local-copy\n",
)

VARIANT = """\
variants:
  - slug: gate-scan
    title: Passes scanned at the gate
    change: The airport now scans every pass at the gate, minutes after check-in.
    interactions:
      checkin-email:
        answer: sync
        question: 1
        rationale: The PDF is the only pass this airport accepts at the gate, in minutes.
        wrong_answer_why: A passenger reaches the gate without a pass they can show.
      checkin-analytics:
        rationale: Still bookkeeping, read tomorrow.
"""


def test_techniques_default_from_the_answer_and_weights_from_the_place(tmp_path, lesson):
    write(tmp_path, "check-in.yaml", WITH_TECHNIQUES.format(lesson="latency-math"))
    loader.load(tmp_path)
    drill = Drill.objects.get()
    assert drill.techniques == ["plain-call", "event", "local-copy"]
    by_key = {i.key: i for i in drill.interactions.all()}
    assert by_key["seats-cache"].techniques == ["local-copy"]
    assert by_key["checkin-seats"].techniques == ["plain-call"]
    assert by_key["checkin-boarding-pass"].techniques == ["plain-call", "event"]
    # Seats' cache refresh sits behind a sync hop the user waits for, so it may lengthen the wait.
    assert {k: i.weight for k, i in by_key.items()} == {
        "checkin-seats": 2, "seats-cache": 2, "checkin-boarding-pass": 2,
        "checkin-analytics": 2, "checkin-email": 2}


def test_a_weight_and_another_reason_can_be_given(tmp_path, lesson):
    text = GOOD.format(lesson="latency-math").replace(
        "    question: 4\n    rationale: Bookkeeping.",
        "    question: 4\n    also: [3]\n    weight: 3\n    rationale: Bookkeeping.")
    write(tmp_path, "check-in.yaml", text)
    loader.load(tmp_path)
    analytics = Interaction.objects.get(key="checkin-analytics")
    assert (analytics.weight, analytics.other_questions) == (3, [3])
    assert analytics.key_item().accepted_reasons == (4, 3)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("    technique: local-copy\n", "    technique: saga\n", "'saga' is not among"),
        ("    technique: local-copy\n", "    technique: plain-call\n",
         "not a way of making a async call"),
        ("techniques: [plain-call, event, local-copy]", "techniques: [plain-call, teleport]",
         "unknown technique(s): teleport"),
        ("techniques: [plain-call, event, local-copy]", "techniques: [event, local-copy]",
         "'plain-call' is not among"),
        ("    question: 4\n    rationale: Bookkeeping.",
         "    question: 4\n    also: [1]\n    rationale: Bookkeeping.",
         "question 1 points to sync, but the answer is async"),
        ("    question: 4\n    rationale: Bookkeeping.",
         "    question: 4\n    weight: 7\n    rationale: Bookkeeping.", "'weight' must be"),
    ],
)
def test_bad_techniques_reasons_and_weights_are_refused(tmp_path, db, old, new, reason):
    text = WITH_TECHNIQUES.format(lesson="latency-math")
    assert old in text
    write(tmp_path, "check-in.yaml", text.replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        loader.read_content(tmp_path)
    assert reason in caught.value.reason


def test_a_technique_needs_the_drill_to_offer_techniques(tmp_path, db):
    text = GOOD.format(lesson="latency-math").replace(
        "    exchange: Refresh the seat map copy\n",
        "    exchange: Refresh the seat map copy\n    technique: event\n")
    write(tmp_path, "check-in.yaml", text)
    with pytest.raises(ContentError, match="needs the drill to offer 'techniques'"):
        loader.read_content(tmp_path)


def test_a_variant_is_stored_with_its_changes_resolved(tmp_path, lesson):
    write(tmp_path, "check-in.yaml", GOOD.format(lesson="latency-math") + VARIANT)
    loader.load(tmp_path)
    drill = Drill.objects.get()
    assert drill.variant_slugs == ["", "gate-scan"]
    variant = drill.variant("gate-scan")
    assert variant is not None
    assert variant["title"] == "Passes scanned at the gate"
    email = variant["interactions"]["checkin-email"]
    assert (email["answer"], email["deciding_question"]) == ("sync", 1)
    assert variant["interactions"]["checkin-analytics"]["answer"] == "async"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("        answer: sync\n        question: 1\n",
         "        answer: async\n        question: 3\n", "changes no answer"),
        ("      checkin-email:\n", "      checkin-mail:\n", "no interaction checkin-mail"),
        ("        answer: sync\n        question: 1\n",
         "        answer: sync\n        question: 1\n        caller: Gate\n", "may change only"),
        ("        answer: sync\n        question: 1\n",
         "        answer: sync\n        question: 4\n", "question 4 points to async"),
        ("  - slug: gate-scan\n", "  - slug: Gate Scan\n", "is not a slug"),
    ],
)
def test_a_bad_variant_is_refused_with_the_reason(tmp_path, db, old, new, reason):
    text = GOOD.format(lesson="latency-math") + VARIANT
    assert old in text
    write(tmp_path, "check-in.yaml", text.replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        loader.read_content(tmp_path)
    assert reason in caught.value.reason


def test_a_variant_that_breaks_the_hop_limit_is_refused(tmp_path, db):
    text = GOOD.format(lesson="latency-math") + VARIANT.replace(
        "      checkin-analytics:\n        rationale: Still bookkeeping, read tomorrow.\n",
        "      checkin-analytics:\n        answer: sync\n        question: 1\n")
    write(tmp_path, "check-in.yaml", text)
    with pytest.raises(ContentError, match="variant 'gate-scan': the answer key puts 3 sync"):
        loader.read_content(tmp_path)


@pytest.mark.django_db
def test_every_real_drill_has_a_variant_that_flips_a_call():
    for drill in loader.read_content().drills:
        assert drill["variants"], drill["slug"]
        base = {item["key"]: item["answer"] for item in drill["interactions"]}
        for variant in drill["variants"]:
            flipped = [key for key, change in variant["interactions"].items()
                       if change["answer"] != base[key]]
            assert flipped, (drill["slug"], variant["slug"])
            assert len(variant["change"]) > 80
