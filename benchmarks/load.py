"""Load benchmark: `make serve` on PostgreSQL, driven over loopback by wrk.

    python benchmarks/load.py [--duration 10] [--connections 16] [--rate 250] [--learners 30]
                              [--only TEXT]

It recreates its own database (critical_path_load by default), starts `make serve` on it,
signs in a cohort of learners, then runs wrk against each scenario: a short warm-up, then a
measured run. The drill submissions come from the whole cohort in turn, each learner in their
own session; the signed-in lesson page is read by the first learner.
Most scenarios send flat out: each of the 16 connections sends its next request as soon as the
last one is answered. Drill submissions are also sent paced, at a fixed rate (--rate a second)
whatever the server does, with latencies counted from when each request was due.

For every scenario it prints requests/s, p50/p95/p99 latency, the count of responses that were
not 2xx, and the CPU time the app server and PostgreSQL spent per request; for the drill
submissions it also checks that the number of stored attempts equals the number of successful
submissions. Then it lists each target as met or missed. It exits non-zero only when an answer
was not a 2xx or an attempt was lost, not when the machine is too slow. Everything runs on
127.0.0.1 and stops by itself.

Needs wrk (Debian package `wrk`; `make bench-load` installs it when missing) and PostgreSQL.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT = BASE_DIR / "benchmarks" / "output"
PASSWORD = "load-test-password-" + secrets.token_hex(8)
LESSON = "/lessons/two-styles/"
SIMULATOR_API = "/simulator/api/chain?" + urlencode(
    {"hops": 5, "failure": 0.001, "p99_ms": 120, "median_ms": 30}
)

# wrk runs one copy of this per thread; done() merges the threads' status counts and prints one
# JSON line. %(build)s defines build(), which makes each request.
#
# Flat out, each connection sends its next request as soon as the answer to the last one
# arrives, and the latencies are wrk's own. Paced (rate > 0), each thread has one connection
# that sends on a fixed schedule, so the server is offered a steady number of requests per
# second whatever it answers; a request's latency is counted from the moment it was due, not from
# when it went out, so a server that falls behind is charged for the wait it caused (the
# correction wrk2 makes for coordinated omission).
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clock_id, load_timespec *tp);
]]
local clock = ffi.new("load_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local threads = {}
local counter = 0
local rate = %(rate)f
local active_us = %(active)d * 1000000
local stop_at, next_at, interval_us, due, sent

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  latencies = {}
  math.randomseed(os.time() * 1000 + id)
  local start = now_us()
  stop_at = start + active_us
  if rate > 0 then
    interval_us = 1000000 * %(connections)d / rate
    next_at = start + (id - 1) * interval_us / %(connections)d
  end
end

%(build)s

function request()
  if now_us() >= stop_at then
    return ""
  end
  if rate > 0 then
    sent = now_us()
    due = next_at
    next_at = next_at + interval_us
  end
  return build()
end

if rate > 0 then
  function delay()
    if now_us() >= stop_at then
      return 3600000
    end
    return math.max(0, (next_at - now_us()) / 1000)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if rate > 0 then
    table.insert(latencies, now_us() - math.min(due, sent))
  end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(#sorted * p / 100))]
end

function done(summary, latency, requests)
  local merged = {}
  local paced = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
    for _, value in ipairs(thread:get("latencies")) do
      table.insert(paced, value)
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%%d": %%d', status, count))
  end
  local p50, p95, p99 = latency:percentile(50), latency:percentile(95), latency:percentile(99)
  if rate > 0 then
    table.sort(paced)
    p50, p95, p99 = percentile(paced, 50), percentile(paced, 95), percentile(paced, 99)
  end
  io.write(string.format(
    'RESULT {"requests": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"socket_errors": %%d, "statuses": {%%s}}\n',
    summary.requests, p50, p95, p99,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, table.concat(parts, ", ")))
end
"""

BUILD_STATIC = r"""
function build()
  return wrk.request()
end
"""

# Each submission comes from the next learner of the cohort, with that learner's session cookie
# and CSRF token, and carries a fresh idempotency token, so each one is a new attempt.
BUILD_SUBMISSION = r"""
local learners = %(learners)s

function build()
  counter = counter + 1
  local learner = learners[(id + counter) %% #learners + 1]
  local token = string.format("%%08x-%%04x-4%%03x-8%%03x-%%04x%%08x",
    math.random(0, 0x7fffffff), math.random(0, 0xffff), math.random(0, 0xfff),
    math.random(0, 0xfff), id, counter)
  wrk.headers["Cookie"] = learner.cookie
  return wrk.format(nil, nil, nil, string.gsub(learner.body, "TOKEN", token))
end
"""


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: dict[int, int]
    socket_errors: int
    # Requests per second the scenario offered; 0 when each connection went flat out.
    offered_rate: float = 0.0
    # CPU time per request of the app server (all gunicorn processes) and of PostgreSQL: unlike
    # requests/s, they hardly depend on what else the machine is doing.
    cpu_ms_per_request: float = 0.0
    db_cpu_ms_per_request: float = 0.0
    # Everything else the machine's cores did meanwhile, per request: wrk, the kernel's loopback
    # networking, other services.
    other_cpu_ms_per_request: float = 0.0
    # Attempts the server stored during the run (submission scenarios only).
    stored: int | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def not_2xx(self) -> int:
        return self.requests - self.ok


# A tiny HTTP client for setting up the learner's session ----------------------------------------


class Client:
    def __init__(self, base_url: str) -> None:
        self.parts = urlsplit(base_url)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        connection = HTTPConnection(self.parts.hostname, self.parts.port, timeout=30)
        headers = {**proxy_headers(self.parts.netloc), "Cookie": cookie_header(self.cookies)}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(value)
                self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
            return response.status, text
        finally:
            connection.close()


def proxy_headers(netloc: str) -> dict[str, str]:
    """What the TLS-terminating proxy and a browser would add."""
    return {"Host": netloc, "X-Forwarded-Proto": "https", "Origin": f"https://{netloc}"}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def form_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise SystemExit("no CSRF token on the page")
    return match.group(1)


# Setting up ----------------------------------------------------------------------------------


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
    return subprocess.Popen(
        ["make", "--no-print-directory", "serve"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_until_up(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"make serve stopped:\n{log_path.read_text()[-3000:]}")
        try:
            if Client(base_url).request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up within 300 s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def create_learners(env: dict[str, str], count: int) -> list[str]:
    names = [f"load-learner-{n}" for n in range(1, count + 1)]
    code = (
        "from django.contrib.auth import get_user_model; "
        "from django.contrib.auth.hashers import make_password; "
        f"password = make_password({PASSWORD!r}); "
        "get_user_model().objects.bulk_create("
        f"get_user_model()(username=name, password=password) for name in {names!r})"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=BASE_DIR, env=env, check=True
    )
    return names


def sign_in(base_url: str, username: str) -> Client:
    client = Client(base_url)
    _, page = client.request("GET", "/accounts/login/")
    status, _ = client.request(
        "POST", "/accounts/login/",
        {"csrfmiddlewaretoken": form_token(page), "username": username, "password": PASSWORD},
    )
    if status != 302 or "sessionid" not in client.cookies:
        raise SystemExit(f"could not sign in as {username} (HTTP {status})")
    return client


@dataclass
class DrillForm:
    action: str
    fields: list[tuple[str, str]]
    token_field: str


def drill_form(client: Client) -> DrillForm:
    """The first drill's answer form, filled in the way a learner would: one choice for each
    interaction and a short justification."""
    status, catalogue = client.request("GET", "/drills/")
    slugs = re.findall(r'href="/drills/([-a-z0-9]+)/"', catalogue)
    if status != 200 or not slugs:
        raise SystemExit("no drill found on /drills/")
    _, page = client.request("GET", f"/drills/{slugs[0]}/")
    form = re.search(r'<form[^>]*action="(/drills/[-a-z0-9]+/submit/)"[^>]*>(.*?)</form>',
                     page, re.S)
    if not form:
        raise SystemExit(f"no answer form on /drills/{slugs[0]}/")
    action, body = form.groups()
    fields: list[tuple[str, str]] = []
    token_field = ""
    seen_radios: set[str] = set()
    for tag in re.findall(r"<(?:input|textarea|select)\b[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        name = name.group(1)
        kind = (re.search(r'type="([^"]+)"', tag) or re.search("()", "")).group(1)
        value = (re.search(r'value="([^"]*)"', tag) or re.search("()", "")).group(1)
        if name == "csrfmiddlewaretoken":
            continue
        if kind == "hidden" and re.fullmatch(r"[0-9a-f-]{36}", value):
            token_field = name
        elif kind == "radio":
            if name not in seen_radios:
                seen_radios.add(name)
                fields.append((name, value))
        elif kind == "hidden":
            fields.append((name, value))
        elif tag.startswith("<textarea") or kind in ("text", ""):
            fields.append((name, "The user waits for this answer."))
    if not token_field or not seen_radios:
        raise SystemExit("the drill form has no idempotency token or no choices")
    return DrillForm(action=action, fields=fields, token_field=token_field)


# Running wrk ---------------------------------------------------------------------------------


def run_wrk(
    name: str, url: str, *, seconds: int, connections: int, headers: dict[str, str],
    method: str = "GET", body: str = "", rate: float = 0,
    learners: list[tuple[str, str]] | None = None,
) -> Result:
    # wrk drops the requests still in flight when its time is up, and the server would store
    # those attempts without wrk counting them; so every scenario stops sending a little before
    # the end (an empty request leaves a connection idle), and every request sent gets its
    # answer counted.
    drain = max(1, min(3, seconds // 3))
    script = WRK_SCRIPT % {
        "rate": rate,
        "active": seconds - drain,
        "connections": connections,
        "build": BUILD_SUBMISSION % {"learners": lua_learners(learners)} if learners
        else BUILD_STATIC,
    }
    setup = [f"wrk.method = {json.dumps(method)}", f"wrk.body = {json.dumps(body)}"]
    setup += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    # Paced, each thread drives one connection, so that its requests and answers pair up.
    threads = connections if rate else 2
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write("\n".join(setup) + "\n" + script)
    try:
        completed = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
             "-s", handle.name, url],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        )
    finally:
        os.unlink(handle.name)
    line = next(ln for ln in completed.stdout.splitlines() if ln.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return Result(
        name=name,
        requests=data["requests"],
        # Throughput over the time requests were being sent.
        seconds=seconds - drain,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        statuses={int(k): v for k, v in data["statuses"].items()},
        socket_errors=data["socket_errors"],
        offered_rate=rate,
    )


def lua_learners(learners: list[tuple[str, str]]) -> str:
    """A Lua table of each learner's Cookie header and submission body."""
    rows = [f"{{cookie = {json.dumps(cookie)}, body = {json.dumps(body)}}}"
            for cookie, body in learners]
    return "{\n  " + ",\n  ".join(rows) + "\n}"


def cpu_times(root_pid: int | None = None, command: str | None = None) -> dict[int, float]:
    """User + system CPU seconds so far of each process in a tree (make, the gunicorn master
    and its workers), or of each process running the named command (PostgreSQL's)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        pid = int(entry.name)
        names[pid] = head.split("(", 1)[1]
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks
    if command is not None:
        return {pid: t for pid, t in times.items() if names[pid] == command}
    tree, stack = {}, [root_pid]
    while stack:
        pid = stack.pop()
        tree[pid] = times.get(pid, 0.0)
        stack += children.get(pid, [])
    return tree


def machine_busy() -> float:
    """CPU seconds all cores have spent busy since boot (from /proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    # The guest columns are already counted in user and nice.
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def reference_seconds() -> float:
    """CPU seconds of a fixed piece of pure-Python work, one core, nothing else of ours running.

    A virtual machine's cores can run at very different speeds from one hour to the next; this
    says how fast they were around a run, so that figures from different runs can be compared.
    """
    start = time.process_time()
    for _ in range(20):
        counts: dict[str, int] = {}
        for n in range(50_000):
            counts[str(n)] = counts.get(str(n - 1), n) + 1
    return time.process_time() - start


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings by the processes alive at the second one."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def count_attempts(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT count(*) FROM drills_attempt").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--rate", type=float, default=250,
                        help="drill submissions per second offered in the paced run")
    parser.add_argument("--learners", type=int, default=30,
                        help="signed-in learners who take turns sending the drill submissions")
    parser.add_argument(
        "--only", action="append", metavar="TEXT",
        help="run only the scenarios whose name contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/critical_path_load"
        ),
    )
    args = parser.parse_args()
    if args.learners < 1:
        parser.error("--learners must be at least 1")
    if args.duration < 3 or args.warmup < 2:
        parser.error("runs shorter than 3 s (warm-up 2 s) leave no time to send submissions")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench-load does it for you)")

    OUTPUT.mkdir(parents=True, exist_ok=True)
    recreate_database(args.database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=args.database_url,
        DJANGO_STATIC_ROOT=str(OUTPUT / "static"),
        PORT=str(args.port),
    )
    base_url = f"http://127.0.0.1:{args.port}"
    log_path = OUTPUT / "serve.log"
    print(f"starting make serve on {base_url} (log: {log_path.relative_to(BASE_DIR)}) …")
    server = start_server(env, log_path)
    try:
        wait_until_up(base_url, server, log_path)
        names = create_learners({**env, "DJANGO_DEBUG": "false"}, args.learners)
        print(f"signing in {len(names)} learners …")
        cohort = [sign_in(base_url, name) for name in names]
        netloc = urlsplit(base_url).netloc
        anonymous = proxy_headers(netloc)
        signed_in = {**anonymous, "Cookie": cookie_header(cohort[0].cookies)}
        form = drill_form(cohort[0])
        learners = []
        for client in cohort:
            _, drill_page = client.request("GET", form.action.removesuffix("submit/"))
            body = urlencode(
                [("csrfmiddlewaretoken", form_token(drill_page)), *form.fields,
                 (form.token_field, "TOKEN")]
            )
            learners.append((cookie_header(client.cookies), body))
        submit = {**anonymous, "Content-Type": "application/x-www-form-urlencoded",
                  "HX-Request": "true"}

        post = {"headers": submit, "method": "POST", "learners": learners}
        scenarios = [
            ("/healthz", "/healthz", {"headers": anonymous}),
            ("lesson, anonymous", LESSON, {"headers": anonymous}),
            ("lesson, signed in", LESSON, {"headers": signed_in}),
            ("drill submission (POST)", form.action, post),
            (f"drill submission, {args.rate:g}/s offered", form.action,
             {**post, "rate": args.rate}),
            ("simulator API, default samples", SIMULATOR_API, {"headers": anonymous}),
        ]
        if args.only:
            scenarios = [s for s in scenarios if any(text in s[0] for text in args.only)]
        results = []
        load = os.getloadavg()[0]
        reference = [reference_seconds()]
        for name, path, options in scenarios:
            run_wrk(name, base_url + path, seconds=args.warmup,
                    connections=args.connections, **options)
            submissions = "learners" in options
            before = count_attempts(args.database_url) if submissions else 0
            app_before, db_before = cpu_times(root_pid=server.pid), cpu_times(command="postgres")
            busy_before = machine_busy()
            result = run_wrk(name, base_url + path, seconds=args.duration,
                             connections=args.connections, **options)
            server_cpu = cpu_used(app_before, cpu_times(root_pid=server.pid))
            db_cpu = cpu_used(db_before, cpu_times(command="postgres"))
            other_cpu = machine_busy() - busy_before - server_cpu - db_cpu
            result.cpu_ms_per_request = 1000 * server_cpu / max(result.requests, 1)
            result.db_cpu_ms_per_request = 1000 * db_cpu / max(result.requests, 1)
            result.other_cpu_ms_per_request = 1000 * max(other_cpu, 0.0) / max(result.requests, 1)
            if submissions:
                result.stored = count_attempts(args.database_url) - before
            results.append(result)
            print(f"  {name}: {result.rps:.0f} requests/s")
        reference.append(reference_seconds())
    finally:
        stop_server(server)

    report(results, args, load, reference)


def report(results: list[Result], args, load: float, reference: list[float]) -> None:
    cores = len(os.sched_getaffinity(0))
    print()
    print(f"wrk, {args.connections} connections, {args.duration} s per scenario after "
          f"{args.warmup} s warm-up; submissions from {args.learners} learners; {cores} cores; "
          f"load average before the runs {load:.2f}")
    print(f"reference work (lower is a faster core): {reference[0]:.2f} s before the runs, "
          f"{reference[-1]:.2f} s after")
    print()
    print(f"| {'scenario':<32} | {'requests/s':>10} | {'p50 ms':>6} | {'p95 ms':>6} | "
          f"{'p99 ms':>6} | {'non-2xx':>7} | {'app CPU ms/req':>14} | {'DB CPU ms/req':>13} | "
          f"{'other CPU ms/req':>16} |")
    print(f"|{'-' * 34}|{'-' * 11}:|{'-' * 7}:|{'-' * 7}:|{'-' * 7}:|{'-' * 8}:|{'-' * 15}:|"
          f"{'-' * 14}:|{'-' * 17}:|")
    for r in results:
        print(f"| {r.name:<32} | {r.rps:>10.0f} | {r.p50_ms:>6.1f} | {r.p95_ms:>6.1f} | "
              f"{r.p99_ms:>6.1f} | {r.not_2xx + r.socket_errors:>7} | "
              f"{r.cpu_ms_per_request:>14.2f} | {r.db_cpu_ms_per_request:>13.2f} | "
              f"{r.other_cpu_ms_per_request:>16.2f} |")
    print()
    speed, correctness = targets(results), correct(results)
    for met, text in speed + correctness:
        print(f"{'met   ' if met else 'MISSED'} {text}")
    (OUTPUT / "load.json").write_text(json.dumps(
        [{**r.__dict__, "rps": r.rps, "not_2xx": r.not_2xx} for r in results], indent=2
    ))
    # Speed depends on the machine; a wrong answer or a lost attempt does not.
    if not all(met for met, _ in correctness):
        sys.exit(1)


def targets(results: list[Result]) -> list[tuple[bool, str]]:
    """Each speed target the results bear on, and whether it was met."""
    by_name = {r.name: r for r in results}
    checks = []
    floor, anonymous = by_name.get("/healthz"), by_name.get("lesson, anonymous")
    if anonymous:
        checks.append((anonymous.rps >= 800, f"anonymous lesson: {anonymous.rps:.0f} requests/s "
                       "(at least 800)"))
        checks.append((anonymous.p99_ms <= 25, f"anonymous lesson: p99 {anonymous.p99_ms:.1f} ms "
                       "(at most 25)"))
        if floor:
            share = anonymous.rps / floor.rps
            checks.append((share >= 0.6, f"anonymous lesson: {100 * share:.0f}% of /healthz's "
                           "requests/s (at least 60%)"))
    for r in results:
        if r.offered_rate:
            # A paced run that answers fewer than it was offered has fallen behind.
            checks.append((r.rps >= 0.98 * r.offered_rate,
                           f"{r.name}: {r.rps:.0f} requests/s answered"))
            checks.append((r.p99_ms <= 50, f"{r.name}: p99 {r.p99_ms:.1f} ms (at most 50)"))
    return checks


def correct(results: list[Result]) -> list[tuple[bool, str]]:
    """Every answer a 2xx, and one stored attempt for each successful submission."""
    checks = []
    for r in results:
        if r.stored is not None:
            checks.append((r.stored == r.ok, f"{r.name}: {r.stored} attempts stored for "
                           f"{r.ok} successful submissions"))
    bad = sum(r.not_2xx + r.socket_errors for r in results)
    checks.append((bad == 0, f"{bad} responses that were not 2xx, or failed, in all scenarios"))
    return checks


if __name__ == "__main__":
    main()
