"""Problem types: numbers drawn from a seed, exact answers, tolerance grading, reading answers."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courseware import problems
from simulator import model, report
from simulator import problems as simulator_problems

ARITHMETIC = [name for name in problems.names() if name != simulator_problems.P99_SUM.name]
SEEDS = st.integers(min_value=0, max_value=2**62 - 1)


def test_at_least_six_types_are_registered_with_the_simulators_among_them():
    assert len(problems.names()) >= 6
    assert problems.get("p99-sum-overstatement") is simulator_problems.P99_SUM


def check_type(problem_type: problems.ProblemType, seed: int) -> None:
    params = problem_type.generate(seed)
    assert params == problem_type.generate(seed)
    truth = problem_type.answer(params)
    assert math.isfinite(truth) and truth > 0
    assert problem_type.grade(params, truth).correct
    # What a learner types: the answer rounded to five significant figures.
    assert problem_type.grade(params, float(problems.number(truth, 5).replace(",", ""))).correct
    margin = problem_type.tolerance.margin(truth)
    low, high = problem_type.tolerance.bounds(truth)
    assert problem_type.grade(params, low).correct and problem_type.grade(params, high).correct
    assert not problem_type.grade(params, truth + margin * 1.01).correct
    assert not problem_type.grade(params, truth - margin * 1.01).correct
    assert problem_type.prompt(params) and all(problem_type.solution(params))


@settings(max_examples=300)
@given(name=st.sampled_from(ARITHMETIC), seed=SEEDS)
def test_every_generated_problem_is_solvable_and_graded_within_its_tolerance(name, seed):
    check_type(problems.get(name), seed)


@pytest.mark.django_db
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=SEEDS)
def test_the_simulator_problem_is_solvable_and_the_rule_always_overstates(seed):
    check_type(simulator_problems.P99_SUM, seed)


@given(seed=SEEDS)
def test_the_n_p_shortcut_never_passes_for_a_chains_exact_failure(seed):
    chain = problems.CHAIN_FAILURE
    params = chain.generate(seed)
    shortcut = params["hops"] * params["failure_pct"]
    assert not chain.grade(params, shortcut).correct
    assert any("N · p" in step for step in chain.solution(params))


@given(seed=SEEDS)
def test_a_chains_failure_matches_the_simulators_closed_form(seed):
    params = problems.CHAIN_FAILURE.generate(seed)
    exact = model.chain_failure(params["failure_pct"] / 100, int(params["hops"]))
    assert problems.CHAIN_FAILURE.answer(params) == pytest.approx(exact * 100, rel=1e-12)


def test_different_seeds_give_different_numbers():
    for name in problems.names():
        problem_type = problems.get(name)
        drawn = {json.dumps(problem_type.generate(seed), sort_keys=True) for seed in range(40)}
        assert len(drawn) > 5, name


def test_the_numbers_for_a_seed_are_the_same_in_another_process():
    script = (
        "import json, django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
        "django.setup(); from courseware import problems; "
        "print(json.dumps({n: problems.get(n).generate(987654321) for n in problems.names()}))"
    )
    root = Path(__file__).resolve().parent.parent
    for hash_seed in ("12345",):
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
        ).stdout
        here = {n: problems.get(n).generate(987654321) for n in problems.names()}
        assert json.loads(out) == json.loads(json.dumps(here))


@pytest.mark.django_db
def test_the_simulator_answer_is_what_the_calculator_shows_for_the_linked_numbers(monkeypatch):
    params = simulator_problems.P99_SUM.generate(7)
    link = simulator_problems.P99_SUM.links(params)[0].url
    assert f"hops={int(params['hops'])}" in link and f"seed={simulator_problems.SEED}" in link
    calculation = report.calculate(
        failure=0.01, median_ms=params["median_ms"], p99_ms=params["p99_ms"],
        hops=int(params["hops"]), max_hops=10, servers=100, slow=0.01,
        samples=simulator_problems.SAMPLES, seed=simulator_problems.SEED,
    )
    shown = calculation.focus.simulated.p99_ms
    assert simulator_problems.true_p99(params) == pytest.approx(shown, rel=1e-12)
    overstatement = params["hops"] * params["p99_ms"] - shown
    assert simulator_problems.P99_SUM.grade(params, overstatement).correct


@pytest.mark.django_db
def test_the_simulator_answer_is_memoised_in_the_cache(monkeypatch):
    params = simulator_problems.P99_SUM.generate(11)
    first = simulator_problems.answer(params)
    calls = []
    monkeypatch.setattr(model, "simulate_chain", lambda *a, **k: calls.append(1))
    assert simulator_problems.answer(params) == first
    assert calls == []


@pytest.mark.parametrize("typed, value", [
    ("4.9", 4.9), (" 4.9 % ", 4.9), ("4.9%", 4.9), ("1,250", 1250.0), ("1,250.5", 1250.5),
    ("1.2e3", 1200.0), ("-3", -3.0), (".5", 0.5), ("12.", 12.0),
])
def test_answers_are_read_as_a_learner_types_them(typed, value):
    assert problems.parse_answer(typed, problems.PERCENT) == value


@pytest.mark.parametrize("typed, reason", [
    ("", "Type a number"), ("   ", "Type a number"), ("nan", "finite"), ("NaN", "finite"),
    ("inf", "finite"), ("-Infinity", "finite"), ("1e999", "too large"), ("abc", "not a number"),
    ("4,9", "point for decimals"), ("1 2", "not a number"), ("0x10", "not a number"),
    ("4.9 ms", "not a number"), ("9" * 41, "at most"),
])
def test_what_is_not_a_finite_number_is_refused_with_a_reason(typed, reason):
    with pytest.raises(problems.AnswerError, match=reason):
        problems.parse_answer(typed, problems.PERCENT)


def test_the_tolerance_is_stated_in_words():
    assert problems.Tolerance(relative=0.01).describe(problems.PERCENT) == (
        "within 1% of the exact value"
    )
    assert simulator_problems.P99_SUM.tolerance_text() == (
        "within 2% of the exact value or 2 ms, whichever is wider"
    )
