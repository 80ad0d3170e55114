"""Benchmark: the gradebook page and its CSV export for a class of 1,000 learners.

Builds 1,000 learners × 40 assessments (20 questions and 20 drills) in a throwaway test
database, then measures

* the gradebook page (first page, sorted by name, total, completion and one drill's column):
  render time and SQL queries;
* the streamed CSV export: time, size, and peak Python memory (tracemalloc) for classes of
  100, 250, 500 and 1,000 learners, to show that memory stays flat as the class grows.

Run from the project root (SQLite in memory by default; any DATABASE_URL works, and Django
creates and drops a ``test_<name>`` database on that server):

    .venv/bin/python benchmarks/gradebook.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/grading .venv/bin/python benchmarks/gradebook.py

Targets: the page under 0.5 s with a query count that does not depend on the class size.
"""

import os
import random
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import StreamingHttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.roles import ensure_instructor_group  # noqa: E402
from courseware.models import Course, Lesson, Module, Question  # noqa: E402
from drills.models import Attempt, Drill, Interaction  # noqa: E402
from grading.models import Grade, Submission  # noqa: E402

LEARNERS = 1_000
QUESTIONS = 20
DRILLS = 20
INTERACTIONS_PER_DRILL = 6
ROUNDS = 5
TARGET_SECONDS = 0.5
CSV_CLASS_SIZES = (100, 250, 500, 1_000)


def build_class(rng: random.Random) -> User:
    course = Course.objects.create(slug="bench", title="Bench")
    module = Module.objects.create(course=course, slug="bench", title="Bench")
    lessons = [
        Lesson.objects.create(module=module, slug=f"bench-{i}", title=f"Lesson {i}", order=i,
                              body_markdown="Text.")
        for i in range(4)
    ]
    # bulk_create skips Question.save, so the criteria carry their ids here.
    rubric = [{"id": f"c{i + 1}", "label": f"Criterion {i}", "points": 2} for i in range(5)]
    questions = Question.objects.bulk_create(
        Question(lesson=lessons[i % 4], slug=f"bench-q{i}", order=i, prompt=f"Question {i}?",
                 rubric=rubric, max_score=10)
        for i in range(QUESTIONS)
    )
    drills = Drill.objects.bulk_create(
        Drill(slug=f"bench-d{i}", title=f"Drill {i}", domain="Bench", summary="s",
              scenario="s", order=i)
        for i in range(DRILLS)
    )
    Interaction.objects.bulk_create(
        Interaction(drill=drill, key=f"i{j}", order=j, caller="a", callee=f"b{j}", exchange="x",
                    answer="sync" if j % 2 else "async", rationale="r", deciding_question=1,
                    wrong_answer_why="w")
        for drill in drills
        for j in range(INTERACTIONS_PER_DRILL)
    )
    User.objects.bulk_create(
        User(username=f"learner{i:04}", first_name="Learner", last_name=str(i),
             email=f"learner{i}@example.com", password="!")
        for i in range(LEARNERS)
    )
    learners = list(User.objects.filter(username__startswith="learner"))
    Submission.objects.bulk_create(
        (
            Submission(learner=learner, question=question, answer="An answer of a few words.",
                       status=Submission.Status.RETURNED)
            for learner in learners
            for question in questions
            if rng.random() < 0.85
        ),
        batch_size=2_000,
    )
    instructor = User.objects.create_user("bench-instructor", password="bench-password-1")
    instructor.groups.add(ensure_instructor_group())
    now = timezone.now()
    Grade.objects.bulk_create(
        (
            Grade(submission_id=pk, score=Decimal(rng.randint(0, 10)), max_score=Decimal(10),
                  criteria_met=["c1", "c3"], rubric=[
                      {"id": c["id"], "label": c["label"], "points": "2"} for c in rubric
                  ], feedback_markdown="Fine.", feedback_html="<p>Fine.</p>",
                  released=released, released_at=now if released else None,
                  graded_by=instructor)
            for pk in Submission.objects.values_list("pk", flat=True)
            if rng.random() < 0.8
            for released in [rng.random() < 0.7]
        ),
        batch_size=2_000,
    )
    Attempt.objects.bulk_create(
        (
            Attempt(drill=drill, learner=learner, score=rng.randint(0, INTERACTIONS_PER_DRILL),
                    total=INTERACTIONS_PER_DRILL, critical_sync_hops=1, key_critical_sync_hops=1)
            for learner in learners
            for drill in drills
            for _ in range(rng.choice((0, 1, 1, 2)))
        ),
        batch_size=2_000,
    )
    return instructor


def time_page(client: Client, url: str) -> tuple[float, float, int]:
    client.get(url)  # warm up
    times, queries = [], 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
        queries = len(captured.captured_queries)
    return statistics.median(times), min(times), queries


def consume_csv(client: Client) -> tuple[float, int, int]:
    start = time.perf_counter()
    response = client.get(reverse("grading:gradebook_csv"))
    assert isinstance(response, StreamingHttpResponse), type(response)
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    return time.perf_counter() - start, size, rows


def measure_csv(client: Client, class_size: int) -> dict:
    User = get_user_model()
    learners = User.objects.filter(username__startswith="learner")
    # Only active learners are in the gradebook: switch the rest off for a smaller class.
    keep = list(learners.order_by("username").values_list("pk", flat=True)[:class_size])
    learners.exclude(pk__in=keep).update(is_active=False)
    try:
        seconds, size, rows = consume_csv(client)
        tracemalloc.start()
        consume_csv(client)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        learners.update(is_active=True)
    return {"learners": class_size, "seconds": seconds, "bytes": size, "rows": rows,
            "peak": peak}


def main() -> int:
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        started = time.perf_counter()
        instructor = build_class(random.Random(7))
        print(f"Built {LEARNERS} learners × {QUESTIONS + DRILLS} assessments "
              f"({Submission.objects.count()} submissions, {Grade.objects.count()} grades, "
              f"{Attempt.objects.count()} drill attempts) on {connection.vendor} "
              f"in {time.perf_counter() - started:.1f} s\n")
        client = Client()
        client.force_login(instructor)
        failed = False
        print("Gradebook page (50 learners a page)")
        for sort in ("name", "-total", "-completion", "d-bench-d3"):
            url = f"{reverse('grading:gradebook')}?sort={sort}"
            median, best, queries = time_page(client, url)
            failed |= median >= TARGET_SECONDS
            print(f"  sort={sort:<11} median {median * 1000:6.0f} ms, best {best * 1000:6.0f} ms, "
                  f"{queries} SQL queries")
        print("\nCSV export (streamed)")
        for size in CSV_CLASS_SIZES:
            result = measure_csv(client, size)
            print(f"  {result['learners']:>5} learners: {result['rows']:>5} rows, "
                  f"{result['bytes'] / 1024:7.0f} KiB in {result['seconds'] * 1000:6.0f} ms, "
                  f"peak Python memory {result['peak'] / 1024:6.0f} KiB")
        print(f"\nTarget: page under {TARGET_SECONDS} s — {'MISSED' if failed else 'met'}")
        return 1 if failed else 0
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
