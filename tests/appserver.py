"""Real gunicorn app servers with production settings, and a small HTTP client to talk to them.

The production tests and the scale-out test run the app the way `make serve` does, in separate
processes, so they see what a deployment sees: DEBUG off, hashed static files, secure cookies.
"""

import atexit
import functools
import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SECRET_KEY = "test-only-production-key-7d1e9b3c5a2f4e6d8c0b1a3f5e7d9c2b4a6f8e0d"


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "REDIS_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        DJANGO_STATIC_ROOT=str(collected_static()),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def prepare_database(env: dict[str, str], *, learner: str, password: str) -> None:
    """Migrates the database in ``env``, loads the course and adds one learner, as `make serve`
    and a sign-up would; in one process, since each start of Django costs a second or more."""
    code = (
        "from django.contrib.auth.models import User; "
        "from django.core.management import call_command; "
        "call_command('migrate', interactive=False, verbosity=0); "
        "call_command('load_course'); "
        f"User.objects.create_user({learner!r}, password={password!r})"
    )
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr


@functools.cache
def collected_static() -> Path:
    """Runs collectstatic once per test session into a private folder (other runs may share
    the project's staticfiles/)."""
    root = Path(tempfile.mkdtemp(prefix="critical-path-static-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=env.get("DATABASE_URL") or "sqlite:///unused.sqlite3",
        DJANGO_STATIC_ROOT=str(root),
    )
    result = manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    assert result.returncode == 0, result.stderr
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2):
    """Starts gunicorn with the project's config on a free loopback port; yields its base URL."""
    port = free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [GUNICORN, "--config", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"gunicorn exited early:\n{log.read()}")
            try:
                if Client(base_url).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within 30 s")
            time.sleep(0.1)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    text: str

    def header(self, name: str) -> str | None:
        values = self.all_headers(name)
        return values[0] if values else None

    def all_headers(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def form_token(self) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.text)
        assert match, "no CSRF token on the page"
        return html.unescape(match.group(1))


@dataclass
class Client:
    """An HTTP client with a cookie jar that talks to one server as if through the TLS proxy.

    It keeps every cookie (a browser would too, over HTTPS) and sends X-Forwarded-Proto and
    Origin as the proxy and the browser would.
    """

    base_url: str
    https: bool = True
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        data: dict | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        parts = urlsplit(self.base_url)
        assert parts.hostname is not None  # base_url is always http://host:port
        connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
        sent = {"Host": parts.netloc, "Accept-Encoding": "identity"}
        if self.https:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            scheme = "https" if self.https else "http"
            sent["Origin"] = f"{scheme}://{parts.netloc}"
        sent.update(headers or {})
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            response = Response(raw.status, raw.getheaders(), raw.read().decode("utf-8", "replace"))
        finally:
            connection.close()
        for value in response.all_headers("Set-Cookie"):
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | list[tuple[str, str]], **kwargs) -> Response:
        return self.request("POST", path, data=data, **kwargs)

    def post_form(self, page: str, action: str, data: dict) -> Response:
        """Loads a page, then posts a form on it with that page's CSRF token, as a browser does."""
        token = self.get(page).form_token()
        return self.post(action, {"csrfmiddlewaretoken": token, **data})

    def log_in(self, username: str, password: str) -> Response:
        # The site hashes only so many passwords a second; a refused sign-in says when to
        # try again, and a person would.
        for _ in range(10):
            response = self.post_form(
                "/accounts/login/", "/accounts/login/",
                {"username": username, "password": password},
            )
            if response.status != 429:
                break
            time.sleep(float(response.header("Retry-After") or "1"))
        assert response.status == 302, response.text[:2000]
        return response
