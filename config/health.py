import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Tells a load balancer this process answers requests; touches no database and no session."""
    return HttpResponse("ok", content_type="text/plain")


def database_ready() -> None:
    # Runs in a thread of its own, so on a connection of its own that it closes again: a hung
    # query never holds up the request's connection.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def cache_ready() -> None:
    token = secrets.token_hex(8)
    cache.set(READY_KEY, token, 30)
    if cache.get(READY_KEY) != token:
        # django-redis logs and swallows connection errors, so a lost value is the sign.
        raise ConnectionError("the cache did not keep a value")


READY_CHECKS: dict[str, Callable[[], None]] = {"database": database_ready, "cache": cache_ready}
READY_KEY = "readyz"
_pending: dict[str, Future] = {}


def start(name: str) -> Future:
    future: Future = Future()

    def run() -> None:
        try:
            READY_CHECKS[name]()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting probe
            future.set_exception(exc)
        else:
            future.set_result(None)

    # A daemon thread: one stuck on a hung dependency never holds up the worker's exit.
    threading.Thread(target=run, name=f"readyz-{name}", daemon=True).start()
    return future


def check_all() -> dict[str, str]:
    """"ok" or why not, for each check, all run at once within READY_TIMEOUT_SECONDS.

    A check still waiting from an earlier probe counts as a failure at once, so a hung
    dependency holds at most one thread per check in each worker, never one per probe.
    """
    futures = {}
    for name in READY_CHECKS:
        future = _pending.get(name)
        if future is None or future.done():
            future = _pending[name] = start(name)
        futures[name] = future
    deadline = time.monotonic() + settings.READY_TIMEOUT_SECONDS
    results = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = "timed out"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            results[name] = f"failed: {type(exc).__name__}"
        else:
            results[name] = "ok"
    return results


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Tells a load balancer whether to send traffic here: the database and the shared cache
    each answered within a short timeout. Touches no session."""
    results = check_all()
    ready = all(result == "ok" for result in results.values())
    body = "\n".join(f"{name}: {result}" for name, result in results.items())
    return HttpResponse(body + "\n", content_type="text/plain", status=200 if ready else 503)
