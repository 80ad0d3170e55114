import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import model
from simulator.report import calculate, milliseconds, percent

probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
hop_counts = st.integers(min_value=1, max_value=10_000)


def hops(n: int, *, failure: float = 0.01, median_ms: float = 20.0, p99_ms: float = 100.0):
    return model.uniform_chain(n, failure=failure, median_ms=median_ms, p99_ms=p99_ms)


# Closed forms ---------------------------------------------------------------------------------


def test_chain_failure_matches_the_lesson():
    assert model.chain_failure(0.01, 5) == pytest.approx(1 - 0.99**5, abs=1e-15)
    assert round(model.chain_failure(0.01, 5), 5) == 0.04901


def test_linear_rule_and_sum_rule():
    assert model.chain_failure_linear(0.01, 5) == pytest.approx(0.05)
    assert model.p99_sum_rule(100.0, 5) == 500.0


def test_fanout_reproduces_the_tail_at_scale():
    assert round(model.fanout_slow(0.01, 100), 3) == 0.634
    assert round(model.fanout_slow(0.0001, 2_000), 3) == 0.181


@pytest.mark.parametrize(
    ("failure", "n", "expected"),
    [(0.0, 10, 0.0), (1.0, 3, 1.0), (1.0, 0, 0.0), (0.5, 1, 0.5), (1e-12, 3, 3e-12)],
)
def test_chain_failure_edges(failure, n, expected):
    assert model.chain_failure(failure, n) == pytest.approx(expected, rel=1e-9, abs=0)


def test_sigma_comes_from_median_and_p99():
    sigma = model.lognormal_sigma(20.0, 100.0)
    assert sigma == pytest.approx(math.log(5) / 2.3263478740408408)
    with pytest.raises(ValueError):
        model.lognormal_sigma(100.0, 100.0)


@given(probabilities, hop_counts)
def test_exact_failure_is_a_probability_below_the_linear_rule(failure, n):
    exact = model.chain_failure(failure, n)
    assert 0.0 <= exact <= 1.0
    assert exact <= model.chain_failure_linear(failure, n) + 1e-12


@given(probabilities, st.integers(min_value=1, max_value=9_999))
def test_failure_never_falls_as_the_chain_grows(failure, n):
    assert model.chain_failure(failure, n) <= model.chain_failure(failure, n + 1)


@given(probabilities, hop_counts)
def test_fanout_is_a_probability_at_least_one_servers(slow, servers):
    probability = model.fanout_slow(slow, servers)
    assert slow - 1e-12 <= probability <= 1.0


@given(st.integers(1, 1_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_brackets_the_rate(counts):
    events, trials = counts
    estimate = model.wilson_interval(events, trials)
    assert 0.0 <= estimate.low <= estimate.rate <= estimate.high <= 1.0


def test_wilson_interval_known_values():
    none = model.wilson_interval(0, 10)
    assert none.low == 0.0
    assert none.high == pytest.approx(0.2775, abs=1e-4)
    half = model.wilson_interval(5, 10)
    assert (half.low, half.high) == pytest.approx((0.2366, 0.7634), abs=1e-4)


# Monte Carlo ----------------------------------------------------------------------------------


def test_simulated_failure_rate_agrees_with_the_exact_value():
    run = model.simulate_chain(hops(5), samples=200_000, seed=11)
    exact = model.chain_failure(0.01, 5)
    assert run.failure.contains(exact)
    assert run.failure.high - run.failure.low < 0.003


def test_failure_intervals_cover_the_truth_about_95_percent_of_the_time():
    exact = model.chain_failure(0.05, 4)
    covered = sum(
        model.simulate_chain(hops(4, failure=0.05), samples=5_000, seed=seed).failure.contains(
            exact
        )
        for seed in range(100)
    )
    assert 88 <= covered <= 100


def test_one_hop_reproduces_its_own_median_and_p99():
    run = model.simulate_chain(hops(1), samples=400_000, seed=3)
    assert run.p50_ms == pytest.approx(20.0, rel=0.01)
    assert run.p99_ms == pytest.approx(100.0, rel=0.02)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_simulated_p99_is_below_the_sum_of_p99s_for_independent_hops(n):
    run = model.simulate_chain(hops(n), samples=100_000, seed=n)
    assert run.p50_ms < run.p99_ms < run.p999_ms
    assert run.p99_ms < model.p99_sum_rule(100.0, n)


def test_three_hops_give_the_lessons_p99():
    run = model.simulate_chain(hops(3), samples=1_000_000, seed=2013)
    assert run.p99_ms == pytest.approx(191, rel=0.02)


def test_same_seed_same_results_other_seed_other_results():
    first = model.simulate_chain(hops(4), samples=20_000, seed=42)
    again = model.simulate_chain(hops(4), samples=20_000, seed=42)
    other = model.simulate_chain(hops(4), samples=20_000, seed=43)
    assert first == again
    assert first != other


def test_all_chain_lengths_in_one_pass_match_single_chains():
    runs = model.simulate_chain_lengths(hops(1)[0], 6, samples=10_000, seed=5)
    assert [run.hops for run in runs] == [1, 2, 3, 4, 5, 6]
    assert runs[4] == model.simulate_chain(hops(5), samples=10_000, seed=5)
    p99s = [run.p99_ms for run in runs]
    assert p99s == sorted(p99s)


def test_percentiles_match_numpy():
    values = np.random.default_rng(1).lognormal(size=10_001)
    expected = np.quantile(values, model.PERCENTILES)
    assert model._percentiles(values.copy(), model.PERCENTILES) == pytest.approx(expected)


def test_budget_is_enforced():
    with pytest.raises(ValueError):
        model.simulate_chain(hops(1), samples=model.MAX_SAMPLES + 1)
    with pytest.raises(ValueError):
        model.simulate_chain(hops(11), samples=model.MAX_SAMPLES)


def test_no_failures_when_p_is_zero_and_all_when_one():
    assert model.simulate_chain(hops(3, failure=0.0), samples=1_000, seed=1).failure.events == 0
    assert model.simulate_chain(hops(3, failure=1.0), samples=1_000, seed=1).failure_rate == 1.0


# Hybrid workflows -----------------------------------------------------------------------------


def test_worked_example_presets():
    designs = model.worked_example(failure=0.01, median_ms=20.0, p99_ms=100.0)
    all_sync, hybrid = designs["All synchronous"], designs["Hybrid"]
    assert [h.name for h in all_sync] == ["Payments", "Inventory", "Fulfillment"]
    assert model.critical_path(all_sync) == all_sync
    assert [h.name for h in model.critical_path(hybrid)] == ["Payments"]
    assert model.path_failure(model.critical_path(all_sync)) == pytest.approx(1 - 0.99**3)
    assert model.path_failure(model.critical_path(hybrid)) == pytest.approx(0.01)


def test_async_hops_add_nothing_to_what_the_user_sees():
    designs = model.worked_example(failure=0.01, median_ms=20.0, p99_ms=100.0)
    hybrid = model.simulate_chain(designs["Hybrid"], samples=50_000, seed=9)
    payments_only = model.simulate_chain(designs["Hybrid"][:1], samples=50_000, seed=9)
    all_sync = model.simulate_chain(designs["All synchronous"], samples=50_000, seed=9)
    assert hybrid == payments_only
    assert hybrid.hops == 1
    assert hybrid.p99_ms < all_sync.p99_ms
    assert hybrid.failure_rate < all_sync.failure_rate


def test_a_workflow_with_no_sync_hops_costs_the_user_nothing():
    workflow = [model.Hop("Audit", 0.5, 10.0, 50.0, sync=False)]
    run = model.simulate_chain(workflow, samples=1_000, seed=1)
    assert (run.hops, run.failure_rate, run.p99_ms) == (0, 0.0, 0.0)
    assert model.path_failure(model.critical_path(workflow)) == 0.0


# Fan-out --------------------------------------------------------------------------------------


def test_simulated_fanout_agrees_with_the_exact_value():
    run = model.simulate_fanout(0.01, [1, 10, 100, 2_000], samples=200_000, seed=4)
    for servers, estimate in zip(run.servers, run.slow, strict=True):
        assert estimate.contains(model.fanout_slow(0.01, servers))


def test_fanout_extremes():
    assert [e.rate for e in model.simulate_fanout(0.0, [1, 100], samples=100).slow] == [0, 0]
    assert [e.rate for e in model.simulate_fanout(1.0, [1, 100], samples=100).slow] == [1, 1]


# The calculator's report ----------------------------------------------------------------------


def test_percent_and_milliseconds_formatting():
    assert percent(0.0490099501) == "4.90%"
    assert percent(0.634) == "63.4%"
    assert percent(0.0001) == "0.0100%"
    assert percent(1.0) == "100%"
    assert percent(0.0) == "0%"
    assert milliseconds(268.4) == "268 ms"
    assert milliseconds(99.94) == "99.9 ms"


def test_readings_are_computed_from_the_numbers():
    calc = calculate(failure=0.01, median_ms=20, p99_ms=100, hops=5, max_hops=10,
                     servers=100, slow=0.01, samples=20_000, seed=1)
    assert "fails 4.90% of requests" in calc.failure_reading
    assert "N·p says 5.00%" in calc.failure_reading
    assert "below the 500 ms" in calc.latency_reading
    assert "is slow 63.4% of the time" in calc.fanout_reading
    assert "from 2.97% to 1.00%" in calc.design_reading
    flaky = calculate(failure=0.3, median_ms=20, p99_ms=100, hops=5, max_hops=10,
                      servers=100, slow=0.01, samples=2_000, seed=1)
    assert "150%, which no probability can be" in flaky.failure_reading


def test_heavy_tails_can_beat_the_sum_rule_and_the_reading_says_so():
    calc = calculate(failure=0.01, median_ms=1, p99_ms=1_000, hops=2, max_hops=2,
                     servers=10, slow=0.01, samples=200_000, seed=1)
    assert calc.focus.simulated.p99_ms > calc.focus.sum_rule_ms
    assert "above the 2,000 ms" in calc.latency_reading
