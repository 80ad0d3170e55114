"""Load benchmark: `make serve` on a fresh PostgreSQL database, driven by Locust over loopback.

    python benchmarks/run_load.py [--duration 20] [--connections 16] [--hold 60]
                                  [--cohorts 250,500,1000,2000,3000] [--only NAME]

It recreates its database (critical_path_load by default), starts `make serve` on it, creates
as many learners as the largest cohort with a signed-in session each, and runs
benchmarks/locustfile.py headless:

1. single pages flat out, one Locust run each with --connections users that send their next
   request as soon as the last is answered: /healthz, an anonymous lesson, a signed-in learner
   reading (random learner, random lesson), the simulator lesson, /simulator/ with its default
   inputs, drill submissions. Each page's requests/s is set beside /healthz's from the same run.
2. the learner journey (the Learner class), cohort after cohort of concurrent learners each
   acting every 10 to 20 seconds, until p99 passes 100 ms or a request fails. It reports the
   largest cohort held with p99 at most 100 ms and no errors, and that cohort's pages.

Locust runs on the same cores as the server: its own CPU time (start-up included) is printed
beside the server's.
Everything runs on 127.0.0.1, each Locust run is bounded by its --run-time, and the server stops
at the end. Exits non-zero when a request of the single-page runs failed.
"""

import argparse
import json
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import Request, urlopen

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT = BASE_DIR / "benchmarks" / "output" / "load"
LOCUSTFILE = BASE_DIR / "benchmarks" / "locustfile.py"
LOCUST = str(Path(sys.executable).with_name("locust"))
P99_LIMIT_MS = 100
# How long a learner of the journey thinks between steps, at least and at most; the cohort file
# hands it to benchmarks/locustfile.py. A cohort is counted from the longest think after its last
# learner starts, when every learner has taken a first step.
THINK_SECONDS = (10, 20)

# (Locust user class, what it measures, least share of /healthz's requests/s it should reach)
PAGES = [
    ("Healthz", "/healthz", None),
    ("AnonymousLesson", "lesson, anonymous", 0.3),
    ("SignedInLesson", "lesson, signed in (random learner and lesson)", 0.2),
    ("SimulatorLesson", "simulator lesson, default inputs, signed in", 0.1),
    ("SimulatorDefault", "/simulator/, default inputs", 0.1),
    ("DrillSubmission", "drill submissions (POST)", None),
]
DRILL_SUBMISSIONS_PER_SECOND = 190
COHORT_TARGET = 2000

# Creates the learners, a session for each as if each had signed in, and writes the cohort file
# the locustfile reads. Run by `manage.py shell` under the server's settings.
CREATE_COHORT = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from courseware.models import Lesson, Question
from drills.models import Drill

count, password, path = {count}, {password!r}, {path!r}
User = get_user_model()
hashed = make_password(password)
User.objects.bulk_create(User(username=f"load-learner-{{n}}", password=hashed)
                         for n in range(1, count + 1))
store = import_module(settings.SESSION_ENGINE).SessionStore
backend = "django.contrib.auth.backends.ModelBackend"
learners = []
for user in User.objects.filter(username__startswith="load-learner-").order_by("pk"):
    session = store()
    session.update({{SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend,
                     HASH_SESSION_KEY: user.get_session_auth_hash()}})
    session.create()
    learners.append({{"username": user.username, "session": session.session_key}})
lessons = list(Lesson.objects.order_by("module__order", "order").values_list("slug", flat=True))
questions = sorted(set(Question.objects.values_list("lesson__slug", flat=True)))
with_simulator = [lesson.slug for lesson in Lesson.objects.all() if lesson.embed]
with open(path, "w") as handle:
    json.dump({{
        "password": password,
        "learners": learners,
        "lessons": lessons,
        "question_lessons": questions,
        "simulator_lesson": with_simulator[0] if with_simulator else lessons[0],
        "drills": list(Drill.objects.order_by("order").values_list("slug", flat=True)),
        "think_seconds": {think_seconds},
    }}, handle)
"""


@dataclass
class Stats:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class Run:
    label: str
    user_class: str
    users: int
    pages: list[Stats]
    total: Stats
    locust_cpu: float
    server_cpu: float


# The server ------------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"unexpected database name {name!r}")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def start_server(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    # `make bench-load` has brought the virtualenv up to date already: don't let `make serve`
    # reinstall it.
    return subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "serve"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_until_up(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"make serve stopped:\n{log_path.read_text()[-3000:]}")
        try:
            with urlopen(base_url + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up within 300 s")


def warm_up(host: str, cohort_file: Path) -> None:
    """One anonymous request to every lesson and drill page and the simulator, so that no
    measured run pays for what the first visitor of a fresh server pays."""
    cohort = json.loads(cohort_file.read_text())
    paths = [f"/lessons/{slug}/" for slug in cohort["lessons"]]
    paths += [f"/drills/{slug}/" for slug in cohort["drills"]] + ["/drills/", "/simulator/"]
    for path in paths:
        request = Request(host + path, headers={"X-Forwarded-Proto": "https"})
        with urlopen(request, timeout=60) as response:
            response.read()


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds so far of a process and everything below it (make, the
    gunicorn master and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack += children.get(pid, [])
    return total


# Locust ----------------------------------------------------------------------------------------


def run_locust(
    label: str, user_class: str, *, host: str, users: int, spawn_rate: float, seconds: int,
    env: dict[str, str], server: subprocess.Popen, processes: int,
) -> Run:
    prefix = OUTPUT / re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    command = [
        LOCUST, "-f", str(LOCUSTFILE), "--headless", "--host", host,
        "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s",
        # Count only what happens once every user is running.
        "--reset-stats", "--only-summary", "--stop-timeout", "5",
        "--csv", str(prefix), "--json-file", str(prefix), "--loglevel", "WARNING", user_class,
    ]
    if processes > 1:
        command[1:1] = ["--processes", str(processes)]
    json_file = prefix.with_suffix(".json")
    json_file.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = tree_cpu_seconds(server.pid)
    ramp = users / spawn_rate
    completed = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=seconds + ramp + 120,
    )
    server_cpu = tree_cpu_seconds(server.pid) - server_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    (prefix.parent / f"{prefix.name}.log").write_text(completed.stdout + completed.stderr)
    if not json_file.exists():
        raise SystemExit(f"locust wrote no statistics:\n{completed.stderr[-3000:]}")
    entries = json.loads(json_file.read_text())
    return Run(
        label=label, user_class=user_class, users=users,
        pages=[summarise(entry["name"], [entry]) for entry in entries],
        total=summarise("all requests", entries),
        locust_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        server_cpu=server_cpu,
    )


def summarise(name: str, entries: list[dict[str, Any]]) -> Stats:
    """Requests/s over the measured window and percentiles from Locust's histograms of
    response times (milliseconds, rounded as Locust rounds them)."""
    histogram: Counter[float] = Counter()
    for entry in entries:
        histogram.update({float(ms): count for ms, count in entry["response_times"].items()})
    count = sum(histogram.values())
    times = [e["last_request_timestamp"] for e in entries if e["last_request_timestamp"]]
    window = max(times, default=0) - min((e["start_time"] for e in entries), default=0)

    def percentile(p: float) -> float:
        seen = 0
        for ms in sorted(histogram):
            seen += histogram[ms]
            if seen >= p * count:
                return ms
        return 0.0

    return Stats(
        name=name, requests=sum(e["num_requests"] for e in entries),
        failures=sum(e["num_failures"] for e in entries),
        rps=count / window if window > 0 else 0.0,
        p50=percentile(0.50), p95=percentile(0.95), p99=percentile(0.99),
    )


# Report ----------------------------------------------------------------------------------------


def table(rows: list[tuple[str, Stats, str]], first: str) -> None:
    print(f"| {first:<46} | {'requests/s':>10} | {'p50 ms':>6} | {'p95 ms':>6} | {'p99 ms':>6} "
          f"| {'failed':>6} | {'':<22} |")
    print(f"|{'-' * 48}|{'-' * 11}:|{'-' * 7}:|{'-' * 7}:|{'-' * 7}:|{'-' * 7}:|{'-' * 24}|")
    for name, s, note in rows:
        print(f"| {name:<46} | {s.rps:>10.1f} | {s.p50:>6.0f} | {s.p95:>6.0f} | {s.p99:>6.0f} "
              f"| {s.failures:>6} | {note:<22} |")


def report_pages(runs: list[Run], connections: int, seconds: int) -> bool:
    by_class = {run.user_class: run for run in runs}
    floor = by_class.get("Healthz")
    print(f"\nSingle pages flat out: {connections} users, {seconds} s each after ramp-up\n")
    rows, checks = [], []
    for user_class, label, share in PAGES:
        run = by_class.get(user_class)
        if run is None:
            continue
        note = ""
        if floor and floor.total.rps and user_class != "Healthz":
            ratio = run.total.rps / floor.total.rps
            note = f"{ratio:.2f} × /healthz"
            if share is not None:
                checks.append(
                    (ratio >= share, f"{label}: {ratio:.2f} × /healthz (at least {share})")
                )
        if user_class == "DrillSubmission":
            checks.append((run.total.rps >= DRILL_SUBMISSIONS_PER_SECOND,
                           f"{label}: {run.total.rps:.0f}/s (at least "
                           f"{DRILL_SUBMISSIONS_PER_SECOND})"))
        rows.append((label, run.total, note))
    table(rows, "page")
    print("\nCPU seconds spent by the server and by Locust (start-up included) in each run:")
    for user_class, label, _ in PAGES:
        if run := by_class.get(user_class):
            print(f"  {label}: server {run.server_cpu:.1f} s, Locust {run.locust_cpu:.1f} s")
    print()
    for met, text in checks:
        print(f"{'met   ' if met else 'MISSED'} {text}")
    return all(run.total.failures == 0 for run in runs)


def report_cohorts(runs: list[Run], hold: int) -> None:
    low, high = THINK_SECONDS
    print(f"\nLearner journey: each learner acts every {low}-{high} s; {hold} s measured per "
          "cohort\n")
    rows = []
    held = None
    for run in runs:
        ok = run.total.failures == 0 and run.total.p99 <= P99_LIMIT_MS
        held = run if ok else held
        rows.append((f"{run.users} learners", run.total, "held" if ok else "not held"))
    table(rows, "cohort")
    print("\nCPU seconds spent by the server and by Locust in each cohort:")
    for run in runs:
        print(f"  {run.users} learners: server {run.server_cpu:.1f} s, "
              f"Locust {run.locust_cpu:.1f} s")
    if held is None:
        print(f"\nMISSED no cohort held with p99 ≤ {P99_LIMIT_MS} ms and no errors")
        return
    print(f"\nLargest cohort held with p99 ≤ {P99_LIMIT_MS} ms and no errors: {held.users} "
          "concurrent learners; its pages:\n")
    table([(s.name, s, "") for s in held.pages], "request")
    met = held.users >= COHORT_TARGET
    print(f"\n{'met   ' if met else 'MISSED'} cohort of {held.users} learners "
          f"(at least {COHORT_TARGET})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20,
                        help="seconds measured per single-page run")
    parser.add_argument("--connections", type=int, default=16,
                        help="users sending flat out in the single-page runs")
    parser.add_argument("--hold", type=int, default=60,
                        help="seconds measured per cohort, once all its learners are running")
    parser.add_argument("--cohorts", default="250,500,1000,2000,3000",
                        help="cohort sizes to try, in order, comma-separated")
    parser.add_argument("--spawn-rate", type=float, default=50,
                        help="learners started per second in the cohort runs")
    parser.add_argument("--processes", type=int, default=1,
                        help="Locust processes (each costs a core the server could use)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only the user classes named (repeatable; 'Learner' for the "
                        "cohorts)")
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/critical_path_load"
        ),
    )
    parser.add_argument("--redis-url", default="",
                        help="serve with the cache and sessions in this Redis database, emptied "
                        "first (default: the database cache)")
    args = parser.parse_args()
    cohorts = [int(n) for n in args.cohorts.split(",") if n.strip()]
    if not cohorts or min(cohorts) < 1 or args.duration < 2 or args.hold < 5:
        parser.error("cohorts must be positive; --duration at least 2 s, --hold at least 5 s")
    wanted = set(args.only or [c for c, _, _ in PAGES] + ["Learner"])

    OUTPUT.mkdir(parents=True, exist_ok=True)
    recreate_database(args.database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("REDIS_URL", None)
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        env["REDIS_URL"] = args.redis_url
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=args.database_url,
        DJANGO_STATIC_ROOT=str(OUTPUT / "static"),
        PORT=str(args.port),
    )
    host = f"http://127.0.0.1:{args.port}"
    log_path = OUTPUT / "serve.log"
    cohort_file = OUTPUT / "cohort.json"
    print(f"starting make serve on {host} (log: {log_path.relative_to(BASE_DIR)}) …")
    server = start_server(env, log_path)
    page_runs: list[Run] = []
    cohort_runs: list[Run] = []
    try:
        wait_until_up(host, server, log_path)
        learners = max(max(cohorts) if "Learner" in wanted else 0, args.connections)
        print(f"creating {learners} learners with a session each …")
        code = CREATE_COHORT.format(
            count=learners, password=secrets.token_urlsafe(16), path=str(cohort_file),
            think_seconds=list(THINK_SECONDS),
        )
        subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=BASE_DIR,
                       env={**env, "DJANGO_DEBUG": "false"}, check=True, capture_output=True)
        warm_up(host, cohort_file)
        locust_env = {**env, "LOAD_COHORT": str(cohort_file)}
        common = {"host": host, "env": locust_env, "server": server, "processes": args.processes}
        for user_class, label, _ in PAGES:
            if user_class not in wanted:
                continue
            run = run_locust(label, user_class, users=args.connections,
                             spawn_rate=args.connections, seconds=args.duration, **common)
            print(f"  {label}: {run.total.rps:.0f} requests/s")
            page_runs.append(run)
        if "Learner" in wanted:
            for size in cohorts:
                ramp = size / args.spawn_rate
                run = run_locust(f"cohort {size}", "Learner", users=size,
                                 spawn_rate=args.spawn_rate,
                                 seconds=int(ramp) + THINK_SECONDS[1] + args.hold,
                                 **common)
                held = run.total.failures == 0 and run.total.p99 <= P99_LIMIT_MS
                print(f"  {size} learners: p99 {run.total.p99:.0f} ms, "
                      f"{run.total.failures} failed: {'held' if held else 'not held'}")
                cohort_runs.append(run)
                if not held:
                    break
    finally:
        stop_server(server)

    cores = len(os.sched_getaffinity(0))
    print(f"\n{cores} cores shared by the server, PostgreSQL and Locust "
          f"({args.processes} Locust process{'es' if args.processes > 1 else ''}); "
          f"Locust's CSV files are in {OUTPUT.relative_to(BASE_DIR)}/")
    ok = True
    if page_runs:
        ok = report_pages(page_runs, args.connections, args.duration)
    if cohort_runs:
        report_cohorts(cohort_runs, args.hold)
    (OUTPUT / "load.json").write_text(json.dumps(
        [{"label": r.label, "users": r.users, "total": r.total.__dict__,
          "pages": [p.__dict__ for p in r.pages], "server_cpu": r.server_cpu,
          "locust_cpu": r.locust_cpu} for r in page_runs + cohort_runs], indent=2))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
