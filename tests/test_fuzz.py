"""Robustness: property tests of the grading and simulator rules, and a fuzz pass over every
form and endpoint of the site.

The properties are invariants that must hold for any drill key and any learner's choices, or for
any hop parameters, so hypothesis looks for the key, choices or numbers that break them. The
fuzz pass walks the URL resolver (so endpoints added later are covered without changes here),
and throws random and hostile values at each as an anonymous visitor, a learner and an
instructor, with and without htmx; nothing may answer 500.
"""

import json
import math
import random
import string
import sys
import traceback
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import NoReverseMatch, reverse
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drills import grading
from simulator import model
from tests import sitemap

# Drill grading -------------------------------------------------------------------------------

KEYS = st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=12)


@st.composite
def drill_keys(draw, min_size: int = 1, max_size: int = 9) -> list[grading.KeyItem]:
    """A consistent answer key: unique keys, each 'after' pointing at an earlier item."""
    names = draw(st.lists(KEYS, min_size=min_size, max_size=max_size, unique=True))
    items = []
    for index, name in enumerate(names):
        after = draw(st.one_of(st.none(), st.sampled_from(names[:index]))) if index else None
        items.append(grading.KeyItem(
            key=name,
            caller=f"Service {index}",
            callee=f"Service {index + 1}",
            exchange="asks for something",
            on_critical_path=draw(st.booleans()),
            answer=draw(st.sampled_from(grading.KEY_ANSWERS)),
            rationale="because",
            deciding_question=draw(st.integers(1, 5)),
            condition="when it must be fresh",
            after=after,
        ))
    return items


@st.composite
def key_and_choices(draw):
    items = draw(drill_keys())
    choices = {item.key: draw(st.sampled_from(grading.CHOICES)) for item in items}
    return items, choices


def graded(items, choices) -> grading.DrillResult:
    return grading.grade(items, {key: grading.Answer(choice) for key, choice in choices.items()})


@given(key_and_choices())
def test_the_score_counts_exactly_the_choices_the_key_accepts(case):
    items, choices = case
    result = graded(items, choices)

    # Only the style was answered: each interaction is worth its style points, times its weight.
    assert len(result.verdicts) == len(items)
    assert result.total == sum(item.weight * grading.STYLE_POINTS for item in items)
    assert result.score == sum(item.weight * grading.STYLE_POINTS
                               for item in items if item.accepts(choices[item.key]))
    assert 0 <= result.score <= result.total
    assert result.all_correct == all(v.correct for v in result.verdicts)
    assert 0 <= result.percent <= 100


@given(drill_keys(), st.sampled_from(grading.CHOICES))
def test_answering_with_the_key_scores_full_marks(items, either):
    result = graded(items, grading.key_choices(items, either))

    assert result.all_correct and result.score == result.total
    expected = result.key_max_critical_sync_hops if either == "sync" else (
        result.key_critical_sync_hops
    )
    assert result.critical_sync_hops == expected


@given(key_and_choices())
def test_the_hop_count_is_the_sync_hops_on_the_learners_own_critical_path(case):
    items, choices = case
    result = graded(items, choices)
    by_key = {v.item.key: v for v in result.verdicts}

    assert result.critical_sync_hops == sum(v.counts_as_hop for v in result.verdicts)
    assert result.critical_sync_hops <= sum(c == "sync" for c in choices.values())
    assert result.key_critical_sync_hops <= result.key_max_critical_sync_hops
    for item in items:
        verdict = by_key[item.key]
        if item.after is None:
            assert verdict.on_critical_path == item.on_critical_path
        else:
            parent = by_key[item.after]
            assert verdict.on_critical_path == (parent.on_critical_path and parent.choice == "sync")
    assert 0.0 <= result.failure_rate <= 1.0
    assert result.over_limit == (result.critical_sync_hops > grading.MAX_SYNC_HOPS)


@given(key_and_choices(), st.data())
def test_making_a_hop_async_never_lengthens_the_wait(case, data):
    items, choices = case
    sync = [key for key, choice in choices.items() if choice == "sync"]
    assume(sync)
    key = data.draw(st.sampled_from(sync))

    before = graded(items, choices).critical_sync_hops
    after = graded(items, {**choices, key: "async"}).critical_sync_hops

    assert after <= before


@given(key_and_choices())
def test_advice_appears_past_the_limit_and_shortens_the_chain_as_it_says(case):
    items, choices = case
    result = graded(items, choices)

    if result.critical_sync_hops <= grading.MAX_SYNC_HOPS:
        assert result.advice is None
        return
    advice = result.advice
    assert advice is not None
    assert advice.hops_before == result.critical_sync_hops
    assert choices[advice.item.key] == "sync"
    on_path = {v.item.key for v in result.verdicts if v.counts_as_hop}
    assert advice.item.key in on_path
    assert {i.key for i in advice.also_removes} <= on_path - {advice.item.key}
    assert advice.hops_after == advice.hops_before - 1 - len(advice.also_removes)
    changed = graded(items, {**choices, advice.item.key: "async"})
    assert advice.hops_after == changed.critical_sync_hops


@given(key_and_choices(), st.randoms())
def test_grading_does_not_depend_on_the_order_of_the_answers(case, rng):
    items, choices = case
    shuffled = list(choices.items())
    rng.shuffle(shuffled)

    assert graded(items, dict(shuffled)) == graded(items, choices)


hostile_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "SYNC", " sync", "either", "async\n", "None", "\x00", "同步"]),
)


@given(drill_keys(), st.dictionaries(hostile_text, hostile_text, max_size=10))
def test_malformed_answers_are_refused_with_a_grading_error(items, raw):
    answers = {key: grading.Answer(choice) for key, choice in raw.items()}
    try:
        result = grading.grade(items, answers)
    except grading.GradingError:
        return
    assert set(answers) == {item.key for item in items}
    assert all(answer.choice in grading.CHOICES for answer in answers.values())
    assert result.total == len(items)


@given(st.integers(0, 200), st.integers(0, 200))
def test_each_extra_sync_hop_raises_the_failure_rate(fewer, more):
    assume(fewer < more)
    assert 0.0 <= grading.chain_failure_rate(fewer) < grading.chain_failure_rate(more) <= 1.0


# Simulator model -------------------------------------------------------------------------------

probabilities = st.floats(0.0, 1.0, allow_nan=False)
medians = st.floats(0.01, 10_000.0, allow_nan=False)


@st.composite
def hops(draw, max_size: int = 8) -> list[model.Hop]:
    result = []
    for index in range(draw(st.integers(0, max_size))):
        median = draw(medians)
        p99 = median * draw(st.floats(1.01, 50.0))
        result.append(model.Hop(
            f"hop {index}", draw(probabilities), median, p99, sync=draw(st.booleans())
        ))
    return result


@given(probabilities, st.integers(0, 500))
def test_a_uniform_chain_fails_as_the_closed_form_says(failure, n):
    chain = model.uniform_chain(n, failure=failure, median_ms=10.0, p99_ms=50.0)

    assert model.path_failure(chain) == pytest.approx(model.chain_failure(failure, n), abs=1e-12)


@given(hops())
def test_path_failure_is_a_probability_no_lower_than_any_one_hop(path):
    failure = model.path_failure(path)

    assert 0.0 <= failure <= 1.0
    for hop in path:
        assert failure >= hop.failure - 1e-12
    assert failure <= min(1.0, sum(hop.failure for hop in path)) + 1e-12


@given(hops(), st.integers(1, 2_000), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_a_simulation_is_reproducible_and_self_consistent(path, samples, seed):
    first = model.simulate_chain(path, samples=samples, seed=seed)
    again = model.simulate_chain(path, samples=samples, seed=seed)
    sync_only = model.simulate_chain(model.critical_path(path), samples=samples, seed=seed)

    assert first == again == sync_only
    assert first.hops == len(model.critical_path(path))
    estimate = first.failure
    assert 0.0 <= estimate.low <= estimate.rate <= estimate.high <= 1.0
    assert 0.0 <= first.p50_ms <= first.p99_ms <= first.p999_ms
    assert all(math.isfinite(v) for v in (first.p50_ms, first.p99_ms, first.p999_ms))


@given(st.integers(-5, 2 * model.MAX_SAMPLES), st.integers(0, 100_000))
def test_simulations_beyond_the_bounds_are_refused_with_a_value_error(samples, n):
    within = 1 <= samples <= model.MAX_SAMPLES and samples * n <= model.MAX_DRAWS
    try:
        model.check_budget(samples, n)
    except ValueError:
        assert not within
    else:
        assert within


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True,
                                                                  allow_infinity=True))
def test_a_lognormal_needs_a_median_below_its_p99(median, p99):
    try:
        sigma = model.lognormal_sigma(median, p99)
    except ValueError:
        assert not 0 < median < p99
    else:
        assert sigma > 0 or (math.isinf(p99) and math.isinf(sigma))


@given(probabilities, st.lists(st.integers(1, 10_000), min_size=1, max_size=6),
       st.integers(1, 2_000), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_wider_fanouts_are_never_less_often_slow(slow, servers, samples, seed):
    widths = sorted(servers)
    run = model.simulate_fanout(slow, widths, samples=samples, seed=seed)

    rates = [estimate.rate for estimate in run.slow]
    assert rates == sorted(rates)
    assert all(0.0 <= e.low <= e.rate <= e.high <= 1.0 for e in run.slow)


# Fuzzing every endpoint ------------------------------------------------------------------------

HOSTILE = [
    "", " ", "0", "-1", "1.5", "1e309", "-1e309", "NaN", "inf", "null", "true", "[]", "{}",
    "9" * 400, "2147483648", "-9223372036854775809", "0x1F", "1_000",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "' OR '1'='1' --",
    "\x00", "a\x00b", "%00", "../../../../etc/passwd", "\u202eevil", "\r\nSet-Cookie: a=b",
    "😀" * 300, "x" * 20_000, "sync", "async", "either", "SYNC", " sync ",
    "00000000-0000-0000-0000-000000000000", str(uuid.uuid4()), "not-a-uuid",
    "javascript:alert(1)", "//evil.example/", "https://evil.example/",
]
SAMPLE_TEXT = "The caller needs the reply before it can answer the user, so it waits."


def random_value(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return rng.choice(HOSTILE)
    if kind < 0.7:
        return str(rng.choice([rng.randint(-10**6, 10**6), rng.uniform(-1e6, 1e6)]))
    alphabet = [chr(rng.choice([rng.randint(1, 0x7F), rng.randint(0x80, 0xD7FF),
                               rng.randint(0xE000, 0x10FFFF)])) for _ in range(64)]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300)))


def mutate(fields: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """The form as a careless or malicious visitor might send it: values swapped for hostile
    ones, fields dropped or sent twice, and a field the form never had."""
    sent = []
    for name, value in fields:
        roll = rng.random()
        if roll < 0.35:
            sent.append((name, random_value(rng)))
        elif roll < 0.45:
            continue
        elif roll < 0.55:
            sent += [(name, value), (name, random_value(rng))]
        else:
            sent.append((name, value))
    if rng.random() < 0.5:
        sent.append((random_value(rng)[:40] or "extra", random_value(rng)))
    return sent


def filled(form: sitemap.Form) -> list[tuple[str, str]]:
    """A form sent as an ordinary visitor would: first choices, and text where text goes."""
    return [
        (name, value or (SAMPLE_TEXT if name not in form.choices else value))
        if name != "csrfmiddlewaretoken" else (name, value)
        for name, value in form.defaults()
    ]


def sample_values(model_class, field_name: str, limit: int = 3) -> list:
    if model_class is None or not any(f.name == field_name for f in model_class._meta.fields):
        return []
    return list(model_class.objects.values_list(field_name, flat=True)[:limit])


def concrete_urls(route: sitemap.Route, site: sitemap.Crawl) -> list[str]:
    """URLs for a route: some that the site itself links to, then made-up ones with real and
    hostile values for each parameter."""
    urls = site.urls_for(route.name)[:2]
    params = route.params
    if not params:
        return urls or [route.path]
    options: dict[str, list] = {}
    for converter, name, segment in params:
        owner = sitemap.model_for(segment, route.name)
        if converter == "int":
            options[name] = sample_values(owner, "id") + [0, 2**31, 10**25]
        elif converter == "uuid":
            options[name] = [uuid.UUID(int=1), uuid.uuid4()]
        else:
            real = sample_values(owner, "slug" if name == "slug" else name)
            options[name] = real + ["no-such-thing", "x" * 300]
    for index in range(max(len(values) for values in options.values())):
        kwargs = {name: values[index % len(values)] for name, values in options.items()}
        try:
            urls.append(reverse(route.name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    return list(dict.fromkeys(urls))


class Fuzzer:
    def __init__(self, client: Client, user, rng: random.Random) -> None:
        self.client, self.user, self.rng = client, user, rng
        self.failures: list[str] = []
        self.sent = 0

    def send(self, method: str, url: str, data=None, **extra) -> None:
        if self.rng.random() < 0.5:
            extra["HTTP_HX_REQUEST"] = "true"
        errors: list[str] = []

        def record(sender, request, **kwargs):
            errors.append("".join(traceback.format_exception(*sys.exc_info())[-6:]))

        got_request_exception.connect(record)
        try:
            response = getattr(self.client, method)(url, data, **extra)
        finally:
            got_request_exception.disconnect(record)
        self.sent += 1
        # The readiness probe answers 503 by design while a dependency fails (here its cache check,
        # from a thread of its own, meets the test's open transaction).
        probe_says_not_ready = url.startswith("/readyz") and response.status_code == 503
        if (response.status_code >= 500 and not probe_says_not_ready) or errors:
            shown = repr(data)[:300]
            self.failures.append(
                f"{method.upper()} {url[:200]} {shown} -> {response.status_code}\n"
                + "".join(errors)
            )
        if self.user is not None and "_auth_user_id" not in self.client.session:
            self.client.force_login(self.user)  # the fuzz may have logged itself out

    def route(self, route: sitemap.Route, site: sitemap.Crawl) -> None:
        """The full battery at one real URL of the route; made-up URLs get a GET and a POST."""
        forms = [form for form in site.forms_for(route.name) if form.method == "post"][:2]
        queries = site.queries.get(route.name, [])
        names = {name for form in forms for name in form.names}
        names |= {name for query in queries for name, _ in query}
        posted = [filled(form) for form in forms] or [[(n, SAMPLE_TEXT) for n in sorted(names)]]
        first, *others = concrete_urls(route, site)
        path = urlsplit(first).path
        self.send("get", first)
        for _ in range(3):
            query = queries[0] if queries else [(name, "") for name in sorted(names)]
            self.send("get", path + "?" + urlencode(mutate(query, self.rng)))
        self.send("delete", path)
        self.send("post", path, json.dumps({"x": random_value(self.rng)}),
                  content_type="application/json")
        self.send("post", path, "{not json", content_type="application/json")
        for fields in posted:
            self.send("post", path, _multi(fields))
            for _ in range(4):
                self.send("post", path, _multi(mutate(fields, self.rng)))
        for url in others:
            self.send("get", url)
            self.send("post", urlsplit(url).path, _multi(mutate(posted[0], self.rng)))


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


@pytest.fixture
def populated_site(course, make_user):
    """The loaded course with what people make in it (answers, attempts, grades, comments)."""
    learner = make_user("ada")
    instructor = make_user("teach", instructor=True)
    # The instructor goes twice: some forms (release, regrade answers) exist only after grading.
    sitemap.populate([learner, instructor, learner, instructor],
                     fill=lambda form: _multi(filled(form)))
    return {"anonymous": None, "learner": learner, "instructor": instructor}


def test_no_endpoint_answers_500_to_random_or_hostile_input(populated_site):
    routes = sitemap.routes()
    failures, sent = [], 0
    for role, user in populated_site.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        site = sitemap.crawl(client, per_route=12)
        fuzzer = Fuzzer(client, user, random.Random(f"critical-path-{role}"))
        for route in routes:
            fuzzer.route(route, site)
        failures += [f"as {role}: {failure}" for failure in fuzzer.failures]
        sent += fuzzer.sent

    assert len(routes) > 15 and sent > 3 * 10 * len(routes)
    assert not failures, f"{len(failures)} requests failed:\n\n" + "\n\n".join(failures[:15])
