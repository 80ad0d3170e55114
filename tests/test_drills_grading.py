"""The drill grading rules, as plain Python: no database, no requests."""

import pytest

from drills import grading
from drills.grading import ASYNC, EITHER, SYNC, Answer, GradingError, KeyItem, grade


def item(key, answer, *, critical=True, after=None, question=None, caller="A", callee="B",
         condition="") -> KeyItem:
    if question is None:
        question = 1 if answer == SYNC else 3
    return KeyItem(
        key=key, caller=caller, callee=callee, exchange=f"{key} data", on_critical_path=critical,
        answer=answer, rationale=f"why {key}", deciding_question=question,
        wrong_answer_why=f"{key} hurts", condition=condition or (
            f"when {key} must block" if answer == EITHER else ""), after=after,
    )


def answers(**choices) -> dict[str, Answer]:
    return {key.replace("_", "-"): Answer(choice) for key, choice in choices.items()}


# A shop: Orders -> Payments -> Processor must be sync; the rest should be async.
SHOP = [
    item("payments", SYNC),
    item("processor", SYNC, after="payments"),
    item("inventory", ASYNC),
    item("fulfilment", ASYNC),
    item("courier", SYNC, after="fulfilment", question=grading.OFF_PATH),
    item("email", ASYNC),
    item("report", ASYNC, critical=False, question=4),
]
RIGHT = dict(payments=SYNC, processor=SYNC, inventory=ASYNC, fulfilment=ASYNC, courier=SYNC,
             email=ASYNC, report=ASYNC)


def test_all_correct_scores_full_marks_without_advice():
    result = grade(SHOP, answers(**RIGHT))
    # Only the style was asked: two points an interaction.
    assert (result.score, result.total) == (14, 14)
    assert result.all_correct and result.percent == 100
    assert result.critical_sync_hops == 2 == result.key_critical_sync_hops
    assert [i.key for i in result.critical_sync_path] == ["payments", "processor"]
    assert result.advice is None and not result.over_limit
    assert all(v.correct for v in result.verdicts)


def test_all_wrong_scores_zero_and_keeps_each_verdict():
    flipped = {key: ASYNC if choice == SYNC else SYNC for key, choice in RIGHT.items()}
    result = grade(SHOP, answers(**flipped))
    assert result.score == 0 and not result.all_correct
    assert [v.choice for v in result.verdicts] == [flipped[i.key] for i in SHOP]
    # Payments async takes the processor off the path; fulfilment sync puts the courier on it.
    assert result.critical_sync_hops == 3  # inventory, fulfilment and email
    on_path = {v.item.key for v in result.verdicts if v.on_critical_path}
    assert "processor" not in on_path and "courier" in on_path
    assert "report" not in on_path  # off the path, whatever the choice


def test_wrong_verdicts_carry_the_key_and_why_it_hurts():
    result = grade(SHOP, answers(**{**RIGHT, "inventory": SYNC}))
    wrong = [v for v in result.verdicts if not v.correct]
    assert len(wrong) == 1
    assert wrong[0].item.answer == ASYNC and wrong[0].item.wrong_answer_why == "inventory hurts"
    assert wrong[0].item.question.number == 3


@pytest.mark.parametrize("choice", [SYNC, ASYNC])
def test_either_accepts_both_choices_and_shows_the_condition(choice):
    key = [item("auth", SYNC), item("fraud", EITHER, condition="when money is irreversible")]
    result = grade(key, answers(auth=SYNC, fraud=choice))
    fraud = result.verdicts[1]
    assert fraud.correct and fraud.either
    assert fraud.item.condition == "when money is irreversible"
    assert result.score == result.total == 4


def test_key_counts_either_hops_as_async_and_reports_the_maximum():
    key = [item("auth", SYNC), item("fraud", EITHER), item("email", ASYNC)]
    result = grade(key, answers(auth=SYNC, fraud=SYNC, email=ASYNC))
    assert result.key_critical_sync_hops == 1
    assert result.key_max_critical_sync_hops == 2
    assert result.critical_sync_hops == 2


def test_hops_off_the_critical_path_never_count():
    key = [item("a", SYNC), item("nightly", SYNC, critical=False)]
    assert grade(key, answers(a=SYNC, nightly=SYNC)).critical_sync_hops == 1


def test_a_chain_counts_only_while_every_hop_before_it_is_sync():
    key = [
        item("rides-dispatch", ASYNC, question=5),
        item("locations", SYNC, after="rides-dispatch"),
        item("offer", ASYNC, after="rides-dispatch"),
        item("deep", SYNC, after="locations"),
    ]
    all_sync = {k.key: SYNC for k in key}
    assert grading.count_critical_sync_hops(key, all_sync) == 4
    broken = {**all_sync, "rides-dispatch": ASYNC}
    assert grading.count_critical_sync_hops(key, broken) == 0
    middle = {**all_sync, "locations": ASYNC}
    assert grading.count_critical_sync_hops(key, middle) == 2  # dispatch and offer


def test_no_advice_at_exactly_two_hops():
    key = [item("a", SYNC), item("b", ASYNC), item("c", ASYNC)]
    result = grade(key, answers(a=SYNC, b=SYNC, c=ASYNC))
    assert result.critical_sync_hops == 2 and result.advice is None


def test_advice_prefers_the_chain_breaker_of_question_5():
    key = [
        item("payments", SYNC),
        item("email", ASYNC),
        item("dispatch", ASYNC, question=5),
        item("locations", SYNC, after="dispatch"),
    ]
    result = grade(key, answers(payments=SYNC, email=SYNC, dispatch=SYNC, locations=SYNC))
    assert result.critical_sync_hops == 4 and result.over_limit
    advice = result.advice
    assert advice is not None
    assert advice.item.key == "dispatch"
    assert advice.reason == "why dispatch"
    assert (advice.hops_before, advice.hops_after) == (4, 2)
    assert [i.key for i in advice.also_removes] == ["locations"]


def test_advice_otherwise_picks_the_hop_that_removes_most():
    result = grade(SHOP, answers(**{k: SYNC for k in RIGHT}))
    # fulfilment takes the courier with it; inventory and email only remove themselves.
    assert result.advice is not None
    assert result.advice.item.key == "fulfilment"
    assert result.advice.hops_after == result.critical_sync_hops - 2


def test_advice_prefers_a_hop_the_key_marks_async_over_an_either_hop():
    key = [item("a", SYNC), item("fraud", EITHER), item("b", ASYNC), item("c", SYNC)]
    result = grade(key, answers(a=SYNC, fraud=SYNC, b=SYNC, c=SYNC))
    assert result.advice is not None
    assert result.advice.item.key == "b"


def test_advice_on_an_either_hop_explains_its_condition():
    key = [item("a", SYNC), item("b", SYNC), item("fraud", EITHER, condition="it must block")]
    result = grade(key, answers(a=SYNC, b=SYNC, fraud=SYNC))
    assert result.advice is not None
    assert result.advice.item.key == "fraud"
    assert "it must block" in result.advice.reason


def test_advice_still_names_a_hop_when_the_key_itself_is_too_long():
    key = [item("a", SYNC), item("b", SYNC), item("c", SYNC)]
    result = grade(key, answers(a=SYNC, b=SYNC, c=SYNC))
    assert result.advice is not None
    assert result.advice.item.key == "c" and result.advice.hops_after == 2


def test_failure_rate_shows_the_exact_figure_next_to_the_rule_of_thumb():
    assert grading.chain_failure_rate(0) == 0
    assert grading.chain_failure_rate(5) == pytest.approx(0.049, abs=0.0005)
    assert grading.chain_failure_rate(5) < 5 * grading.HOP_FAILURE_RATE


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({**answers(**RIGHT), "ghost": Answer(SYNC)}, "not part of this drill: ghost"),
        ({k: v for k, v in answers(**RIGHT).items() if k != "email"}, "no answer for: email"),
        ({**answers(**RIGHT), "email": Answer("maybe")}, "neither sync nor async"),
        ({**answers(**RIGHT), "email": Answer(EITHER)}, "neither sync nor async"),
    ],
)
def test_answers_that_do_not_fit_the_key_are_refused(given, message):
    with pytest.raises(GradingError, match=message):
        grade(SHOP, given)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ([item("a", SYNC), item("a", ASYNC)], "appears twice"),
        ([item("b", SYNC, after="a"), item("a", SYNC)], "must come before it"),
        ([item("a", SYNC, question=7)], "not one of 1 to 5 or the off-path rule"),
        ([item("a", "sometimes")], "unknown answer"),
    ],
)
def test_a_broken_key_is_refused(key, message):
    with pytest.raises(GradingError, match=message):
        grade(key, {k.key: Answer(SYNC) for k in key})


def test_justifications_are_carried_through():
    given = answers(**RIGHT)
    given["email"] = Answer(ASYNC, "the page already confirms")
    result = grade(SHOP, given)
    assert result.verdicts[5].justification == "the page already confirms"


def test_the_shop_key_cites_reasons_that_fit_each_place():
    assert grading.check_reasons_fit_place(SHOP) == []


def test_every_deciding_question_points_to_a_style():
    assert set(grading.QUESTIONS) == {1, 2, 3, 4, 5}
    assert grading.QUESTIONS[1].points_to == SYNC
    assert {grading.QUESTIONS[n].points_to for n in (2, 3, 4, 5)} == {ASYNC}


def test_the_off_path_rule_is_cited_by_name_and_points_to_a_plain_call():
    rule = grading.REASONS[grading.OFF_PATH]
    assert rule is grading.OFF_PATH_RULE and rule.points_to == SYNC
    assert rule.label == "the off-path rule"
    assert grading.QUESTIONS[3].label == "question 3"
    assert grading.OFF_PATH not in grading.QUESTIONS
    worker = item("courier", SYNC, after="fulfilment", question=grading.OFF_PATH)
    assert worker.question.label == "the off-path rule"


@pytest.mark.parametrize(
    ("hops", "shown"), [(0, "0%"), (1, "1.00%"), (2, "1.99%"), (3, "2.97%"), (5, "4.90%")]
)
def test_failure_rates_keep_enough_digits_to_differ_from_the_rule_of_thumb(hops, shown):
    assert grading.percent(grading.chain_failure_rate(hops)) == shown


def test_a_percentage_of_a_half_or_more_keeps_three_figures():
    assert grading.percent(0.5) == "50.0%" and grading.percent(1.0) == "100%"


def place_check(key):
    return grading.check_reasons_fit_place(key)


def test_question_1_on_a_call_behind_an_async_hop_contradicts_its_place():
    key = [item("orders", ASYNC), item("courier", SYNC, after="orders", question=1)]
    [problem] = place_check(key)
    assert "'courier'" in problem and "'orders', which is async in the key" in problem
    assert "question: off-path" in problem


def test_question_1_and_5_off_the_critical_path_contradict_their_place():
    key = [item("report", SYNC, critical=False, question=1),
           item("nightly", ASYNC, critical=False, question=5)]
    problems = place_check(key)
    assert len(problems) == 2 and all("off the critical path" in p for p in problems)


def test_the_off_path_rule_on_a_call_the_user_waits_for_contradicts_its_place():
    key = [item("payments", SYNC, question=grading.OFF_PATH),
           item("processor", SYNC, after="payments", question=grading.OFF_PATH)]
    problems = place_check(key)
    assert len(problems) == 2 and all("waits for this one" in p for p in problems)


def test_behind_an_either_hop_both_kinds_of_reason_fit():
    key = [item("fraud", EITHER), item("model", SYNC, after="fraud", question=1),
           item("features", SYNC, after="fraud", question=grading.OFF_PATH)]
    assert place_check(key) == []


def test_the_off_path_rule_fits_a_worker_behind_an_async_hop():
    key = [item("orders", ASYNC),
           item("courier", SYNC, after="orders", question=grading.OFF_PATH)]
    assert place_check(key) == []


def test_advice_names_the_next_step_when_one_change_leaves_the_path_too_long():
    key = [
        item("search", SYNC), item("pricing", SYNC),
        item("tiers", ASYNC, after="pricing", question=5),
        item("stock", ASYNC, question=5),
    ]
    result = grade(key, {i.key: Answer(SYNC) for i in key})
    advice = result.advice
    assert advice is not None
    assert (advice.item.key, advice.hops_before, advice.hops_after) == ("tiers", 4, 3)
    [step] = advice.next_steps
    assert (step.item.key, step.hops_before, step.hops_after) == ("stock", 3, 2)
    assert step.hops_after <= grading.MAX_SYNC_HOPS


def test_advice_has_no_next_step_when_one_change_is_enough():
    key = [item("a", SYNC), item("b", ASYNC, question=5),
           item("c", SYNC, after="b", question=1)]
    advice = grade(key, {i.key: Answer(SYNC) for i in key}).advice
    assert advice is not None
    assert advice.hops_after == 1 and advice.next_steps == ()


# Parts of an answer: style, reason, technique, and weights --------------------------------


def weighted(items) -> list[KeyItem]:
    """The key with the loader's default weights and a technique per interaction."""
    weights = grading.default_weights(items)
    return [
        KeyItem(**{**i.__dict__, "weight": weights[i.key],
                   "techniques": grading.DEFAULT_TECHNIQUES[i.answer]})
        for i in items
    ]


WEIGHTED_SHOP = weighted(SHOP)


def full_answers(key, **changes) -> dict[str, Answer]:
    """The key's own answers, each part right, with some parts changed per interaction."""
    given = {}
    for i in key:
        choice = SYNC if i.answer == EITHER else i.answer
        answer = Answer(choice, reason=i.deciding_question,
                        technique=grading.DEFAULT_TECHNIQUES[choice][0])
        given[i.key] = Answer(**{**answer.__dict__, **changes.get(i.key, {})})
    return given


def test_default_weights_double_the_calls_the_user_may_wait_behind():
    weights = grading.default_weights(SHOP)
    assert weights == {"payments": 2, "processor": 2, "inventory": 2, "fulfilment": 2,
                       "courier": 1, "email": 2, "report": 1}


def test_every_part_right_scores_full_marks():
    result = grade(WEIGHTED_SHOP, full_answers(WEIGHTED_SHOP))
    assert result.all_correct and result.score == result.total == grading.total_points(
        WEIGHTED_SHOP)
    assert result.right_count == 7 and all(result.correctness.values())


def test_a_wrong_reason_costs_its_part_only_and_is_named():
    result = grade(WEIGHTED_SHOP, full_answers(WEIGHTED_SHOP, email={"reason": 1}))
    email = result.verdicts[5]
    assert email.style_correct and email.reason_correct is False and email.technique_correct
    assert not email.correct and email.wrong_parts == ("reason",)
    assert email.points == email.max_points - grading.REASON_POINTS * 2
    assert result.correctness["email"] is False and result.correctness["payments"] is True


def test_another_accepted_reason_counts_as_right():
    key = [KeyItem(**{**i.__dict__, "other_questions": (4,)}) if i.key == "email" else i
           for i in WEIGHTED_SHOP]
    result = grade(key, full_answers(key, email={"reason": 4}))
    assert result.verdicts[5].reason_correct


def test_a_technique_of_the_wrong_style_is_wrong_even_under_either():
    key = weighted([item("auth", SYNC), item("fraud", EITHER), item("email", ASYNC)])
    result = grade(key, full_answers(key, fraud={"choice": SYNC, "technique": "event"}))
    fraud = result.verdicts[1]
    assert fraud.style_correct and fraud.technique_correct is False
    assert fraud.wrong_parts == ("technique",)


def test_a_guess_of_the_style_alone_scores_well_under_half():
    given = {i.key: Answer(i.answer if i.answer != EITHER else SYNC, reason=2,
                           technique="command") for i in WEIGHTED_SHOP}
    result = grade(WEIGHTED_SHOP, given)
    # Every style right, but no reason and no technique: half the points at most.
    assert result.score * 2 == result.total
    assert result.right_count == 0


def test_parts_not_asked_are_left_out_of_the_total():
    result = grade(WEIGHTED_SHOP, answers(**RIGHT))
    assert result.total == sum(i.weight * grading.STYLE_POINTS for i in WEIGHTED_SHOP)
    assert all(v.reason_correct is None and v.technique_correct is None for v in result.verdicts)


def test_an_unknown_reason_is_refused():
    with pytest.raises(GradingError, match="not one of the reasons"):
        grade(WEIGHTED_SHOP, full_answers(WEIGHTED_SHOP, email={"reason": 9}))


def test_a_key_with_an_unknown_technique_is_refused():
    key = [KeyItem(**{**WEIGHTED_SHOP[0].__dict__, "techniques": ("teleport",)})]
    with pytest.raises(GradingError, match="unknown technique"):
        grade(key, full_answers(WEIGHTED_SHOP[:1]))


# Properties --------------------------------------------------------------------------------

from hypothesis import given as hyp_given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def keys(draw):
    """A random, consistent key: direct calls on or off the path, followers, any answers."""
    count = draw(st.integers(min_value=2, max_value=7))
    items: list[KeyItem] = []
    for index in range(count):
        answer = draw(st.sampled_from([SYNC, ASYNC, EITHER]))
        after = draw(st.sampled_from([None, *[i.key for i in items]])) if items else None
        items.append(item(f"k{index}", answer, critical=draw(st.booleans()), after=after))
    return weighted(items)


@hyp_given(keys())
def test_property_the_key_itself_scores_full_marks(key):
    result = grade(key, full_answers(key))
    assert result.score == result.total == grading.total_points(key)
    assert result.all_correct


@hyp_given(keys(), st.data())
def test_property_a_swap_on_the_critical_path_costs_more_than_one_off_it(key, data):
    may_wait = grading.critical_path(key, grading.key_choices(key, SYNC))
    on = [i for i in key if i.key in may_wait and i.answer != EITHER]
    off = [i for i in key if i.key not in may_wait and i.answer != EITHER]
    if not on or not off:
        return
    first, second = data.draw(st.sampled_from(on)), data.draw(st.sampled_from(off))

    def cost(target: KeyItem) -> int:
        flipped = ASYNC if target.answer == SYNC else SYNC
        result = grade(key, full_answers(key, **{target.key: {"choice": flipped}}))
        return result.total - result.score

    assert cost(first) > cost(second) > 0
