"""Locust scenarios for Critical Path: the learner journey, and single pages at full speed.

benchmarks/run_load.py prepares a server, a cohort of learners and their sessions, and runs each
user class below in turn. To drive a server you prepared yourself:

    LOAD_COHORT=cohort.json locust -f benchmarks/locustfile.py --host http://127.0.0.1:8000 Learner

The cohort file (written by run_load.py) names the learners, a signed-in session for each, their
password, the lessons and drills to visit, and how long a learner thinks between steps.

Every request carries what the TLS-terminating reverse proxy and a browser would add
(X-Forwarded-Proto, Origin on POSTs), and forms that htmx would send go with htmx's headers, so
the server does what it does for a real browser. Forms are read from the pages with Python's own
HTML parser: names, hidden values, CSRF and idempotency tokens all come from the page served.
"""

import json
import os
import random
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import Cookie, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent
from locust import FastHttpUser, between, constant, events, task
from locust.env import Environment

ANSWER = (
    "The caller waits on this reply, so each hop adds its latency and its failures to the "
    "user's request; I would keep it synchronous only where the user needs the answer now."
)


def load_cohort() -> dict[str, Any]:
    path = os.environ.get("LOAD_COHORT")
    if not path:
        raise SystemExit("set LOAD_COHORT to the cohort file that benchmarks/run_load.py writes")
    with open(path) as handle:
        return json.load(handle)


COHORT = load_cohort()
LEARNERS: list[dict[str, str]] = COHORT["learners"]
LESSONS: list[str] = COHORT["lessons"]
DRILLS: list[str] = COHORT["drills"]
# The lessons that end with check-yourself questions.
QUESTION_LESSONS: list[str] = COHORT["question_lessons"] or LESSONS
SIMULATOR_LESSON: str = COHORT["simulator_lesson"]
# How long a learner thinks between steps, at least and at most, as run_load.py sets it.
THINK_SECONDS: tuple[int, int] = tuple(COHORT["think_seconds"])
# Steps a learner takes in an hour, about: a learner signs in again about once an hour, as a
# session left unused for an hour ends.
STEPS_PER_HOUR = 3600 * 2 // sum(THINK_SECONDS)
_next_learner = 0
# Every page shows a signed-in learner the way out.
SIGNED_IN_MARK = 'action="/accounts/logout/"'


@events.init.add_listener
def count_from_settled_cohort(environment: Environment, **kwargs: Any) -> None:
    """Learners' statistics start again once the last to arrive has taken a first step, so a
    cohort's figures are those of all its learners at work, not of the cohort filling up."""

    def settled(user_count: int, **kwargs: Any) -> None:
        runner = environment.runner
        if runner is not None and runner.user_classes_count.get(Learner.__name__):
            gevent.spawn_later(THINK_SECONDS[1], environment.stats.reset_all)

    environment.events.spawning_complete.add_listener(settled)


def next_learner() -> dict[str, str]:
    """Each user of the journey is a different learner, in turn."""
    global _next_learner
    learner = LEARNERS[_next_learner % len(LEARNERS)]
    _next_learner += 1
    return learner


# Reading forms ---------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    attrs: dict[str, str]
    hidden: list[tuple[str, str]] = field(default_factory=list)
    # name -> (input type, [values]) for radio buttons and checkboxes.
    choices: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    checked: list[tuple[str, str]] = field(default_factory=list)
    values: list[tuple[str, str]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    """Collects every form of a page with its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.current = Form(a.get("action", ""), a.get("method", "get").lower(), a)
            self.forms.append(self.current)
            return
        form, name = self.current, a.get("name")
        if form is None or not name:
            return
        kind = a.get("type", "text").lower()
        if tag == "textarea" or (tag == "input" and kind in ("text", "search", "email")):
            form.text.append(name)
            if a.get("value"):
                form.values.append((name, a["value"]))
        elif tag == "input" and kind == "hidden":
            form.hidden.append((name, a.get("value", "")))
        elif tag == "input" and kind in ("radio", "checkbox"):
            form.choices.setdefault(name, (kind, []))[1].append(a.get("value", "on"))
            if "checked" in a:
                form.checked.append((name, a.get("value", "on")))
        elif tag == "input" and kind == "number":
            form.values.append((name, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def forms_of(page: str) -> list[Form]:
    parser = FormParser()
    parser.feed(page)
    return parser.forms


def pick_choices(form: Form) -> list[tuple[str, str]]:
    """One answer for each radio group; a random non-empty set of each group of checkboxes."""
    picked = []
    for name, (kind, values) in form.choices.items():
        if kind == "radio":
            picked.append((name, random.choice(values)))
        else:
            chosen = random.sample(values, random.randint(1, len(values)))
            picked += [(name, value) for value in chosen]
    return picked


# Users -----------------------------------------------------------------------------------------


class SiteUser(FastHttpUser):
    """A browser behind the TLS proxy."""

    abstract = True
    network_timeout = 30.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        netloc = urlsplit(self.host or "").netloc
        self.origin = f"https://{netloc}"
        self.headers = {"X-Forwarded-Proto": "https"}
        # Behind the proxy the browser speaks HTTPS, so it sends the server's Secure cookies.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("http", "https")))

    def use_session(self, learner: dict[str, str]) -> None:
        """Takes over a learner's signed-in session, as a browser that signed in earlier."""
        jar = self.client.cookiejar
        jar.clear()
        host = urlsplit(self.host or "").hostname or ""
        jar.set_cookie(Cookie(
            0, "sessionid", learner["session"], None, False, host, False, False, "/", True,
            True, None, False, None, None, {"HttpOnly": ""},
        ))

    def page(
        self, path: str, name: str, *, signed_in: bool = False,
        headers: dict[str, str] | None = None,
    ) -> str:
        with self.client.get(
            path, name=name, headers={**self.headers, **(headers or {})}, catch_response=True
        ) as response:
            text = response.text or ""
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif signed_in and SIGNED_IN_MARK not in text:
                response.failure("the page was served to a visitor who is not signed in")
            return text

    def submit(
        self, form: Form, data: list[tuple[str, str]], name: str, page_url: str,
        expect: tuple[int, ...] = (200, 302, 303),
    ) -> None:
        """Posts a form as htmx does when the form has hx-post, else as a plain form."""
        headers = {**self.headers, "Origin": self.origin,
                   "Content-Type": "application/x-www-form-urlencoded"}
        if "hx-post" in form.attrs:
            headers.update({"HX-Request": "true", "HX-Current-URL": self.origin + page_url})
            target = form.attrs.get("hx-target", "")
            if target.startswith("#"):
                headers["HX-Target"] = target[1:]
        # A form without an action posts back to its own page.
        with self.client.post(
            form.attrs.get("hx-post") or form.action or page_url, data=urlencode(data), name=name,
            headers=headers, allow_redirects=False, catch_response=True,
        ) as response:
            if response.status_code not in expect:
                response.failure(f"HTTP {response.status_code}")


class Learner(SiteUser):
    """A signed-in learner working through the course, one step every 10 to 20 seconds: reads a
    lesson, answers its quick checks and check-yourself questions, does drills (the drill page,
    some thought, the answers), and plays with the latency simulator, from the lesson's own
    inputs and from inputs of their own."""

    wait_time = between(*THINK_SECONDS)

    def on_start(self) -> None:
        super().on_start()
        self.learner = next_learner()
        self.use_session(self.learner)
        self.lesson_url = ""
        self.lesson_forms: list[Form] = []
        self.simulator_defaults: list[tuple[str, str]] = []
        # A learner joins a cohort already at work somewhere in a think, not all of them on the
        # same second: otherwise each arrival adds a step to the steady rate while they spawn.
        gevent.sleep(random.uniform(0, THINK_SECONDS[1]))

    def read(self, slug: str) -> None:
        self.lesson_url = f"/lessons/{slug}/"
        page = self.page(self.lesson_url, "lesson", signed_in=True)
        self.lesson_forms = forms_of(page)
        for form in self.lesson_forms:
            if form.attrs.get("hx-get", "").startswith("/simulator/"):
                self.simulator_defaults = [*form.checked, *form.values, *form.hidden]

    def lesson_form(self, prefix: str) -> Form | None:
        found = [f for f in self.lesson_forms if f.action.startswith(prefix)]
        return random.choice(found) if found else None

    @task(6)
    def read_lesson(self) -> None:
        self.read(random.choice(LESSONS))

    @task(3)
    def answer_quick_check(self) -> None:
        form = self.lesson_form("/quick-checks/")
        if form is None:
            return self.read_lesson()
        self.submit(form, [*form.hidden, *pick_choices(form)], "quick check", self.lesson_url)

    @task(1)
    def answer_question(self) -> None:
        form = self.lesson_form("/questions/")
        if form is None:
            return self.read(random.choice(QUESTION_LESSONS))
        answer = [(name, ANSWER) for name in form.text]
        self.submit(form, [*form.hidden, *answer], "question answer", self.lesson_url)

    @task(3)
    def do_drill(self) -> None:
        url = f"/drills/{random.choice(DRILLS)}/"
        page = self.page(url, "drill page", signed_in=True)
        forms = [f for f in forms_of(page) if f.action.endswith("/submit/")]
        if not forms:
            return
        # Working out the answers takes a while.
        self.wait()
        form = forms[0]
        reasons = [(name, random.choice(["", "The user waits for it."])) for name in form.text]
        self.submit(form, [*form.hidden, *pick_choices(form), *reasons], "drill submission", url)

    @task(2)
    def open_simulator(self) -> None:
        if not self.simulator_defaults:
            return self.read(SIMULATOR_LESSON)
        lesson = f"/lessons/{SIMULATOR_LESSON}/"
        htmx = {"HX-Request": "true", "HX-Target": "simulator-results",
                "HX-Current-URL": self.origin + lesson}
        defaults, own = urlencode(self.simulator_defaults), urlencode(random_inputs())
        self.page(f"/simulator/?{defaults}", "simulator, lesson's inputs", headers=htmx)
        # Then the learner moves the inputs about.
        self.wait()
        self.page(f"/simulator/?{own}", "simulator, own inputs", headers=htmx)

    @task(1)
    def sign_in_again(self) -> None:
        # This task is drawn once in len(self.tasks) steps; a learner signs in about once an hour.
        if random.random() >= len(self.tasks) / STEPS_PER_HOUR:
            return self.read_lesson()
        self.client.cookiejar.clear()
        login = "/accounts/login/"
        form = next(
            (f for f in forms_of(self.page(login, "sign-in page")) if f.method == "post"), None
        )
        if form is None:
            return
        credentials = [("username", self.learner["username"]),
                       ("password", COHORT["password"])]
        # Signed in, the server sends the learner on with a redirect.
        self.submit(form, [*form.hidden, *credentials], "sign in", login, expect=(302,))


def random_inputs() -> dict[str, Any]:
    """A scenario a curious learner might try: nothing any other learner is likely to have run."""
    median = random.randint(5, 60)
    return {
        "p_as": "p",
        "failure": random.choice([0.001, 0.005, 0.01, 0.02, 0.05]),
        "median_ms": median,
        "p99_ms": median * random.randint(2, 10),
        "hops": random.randint(1, 10),
        "max_hops": 10,
        "servers": random.choice([10, 50, 100, 500]),
        "slow": random.choice([0.001, 0.01, 0.05]),
        "samples": 100_000,
        "seed": random.randint(0, 2**32 - 1),
    }


# Single pages at full speed: each user sends its next request as soon as the last is answered.


class Healthz(SiteUser):
    """The cheapest answer the app server gives: the yardstick for the others."""

    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        self.page("/healthz", "/healthz")


class AnonymousLesson(SiteUser):
    wait_time = constant(0)

    @task
    def lesson(self) -> None:
        self.page(f"/lessons/{LESSONS[0]}/", "lesson, anonymous")


class SignedInLesson(SiteUser):
    """A random learner reading a random lesson, every request."""

    wait_time = constant(0)

    @task
    def lesson(self) -> None:
        self.use_session(random.choice(LEARNERS))
        self.page(f"/lessons/{random.choice(LESSONS)}/", "lesson, signed in", signed_in=True)


class SimulatorLesson(SiteUser):
    """The lesson with the simulator in it, default inputs, random learner."""

    wait_time = constant(0)

    @task
    def lesson(self) -> None:
        self.use_session(random.choice(LEARNERS))
        self.page(f"/lessons/{SIMULATOR_LESSON}/", "simulator lesson, signed in", signed_in=True)


class SimulatorDefault(SiteUser):
    wait_time = constant(0)

    @task
    def simulator(self) -> None:
        self.page("/simulator/", "/simulator/, default inputs")


class DrillSubmission(SiteUser):
    """Drill answers from one learner per user, each with a fresh idempotency token, as fast as
    the server takes them."""

    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        self.use_session(next_learner())
        self.url = f"/drills/{DRILLS[0]}/"
        page = self.page(self.url, "drill page", signed_in=True)
        forms = [f for f in forms_of(page) if f.action.endswith("/submit/")]
        if not forms:
            raise SystemExit(f"no answer form on {self.url}")
        self.form = forms[0]
        # The idempotency token is the hidden field holding a UUID; a new one makes a new attempt.
        self.fixed = []
        self.token_field = ""
        for name, value in self.form.hidden:
            try:
                uuid.UUID(value)
                self.token_field = name
            except ValueError:
                self.fixed.append((name, value))
        if not self.token_field:
            raise SystemExit(f"the drill form on {self.url} has no idempotency token")

    @task
    def submit_answers(self) -> None:
        data = [*self.fixed, (self.token_field, str(uuid.uuid4())), *pick_choices(self.form)]
        self.submit(self.form, data, "drill submission", self.url)
