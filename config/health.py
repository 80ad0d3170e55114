import secrets
import threading
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


def check(name: str) -> str:
    """"ok", or why not, within READY_TIMEOUT_SECONDS.

    A check still waiting from an earlier probe counts as a failure at once, so a hung
    dependency holds at most one thread per check in each worker, never one per probe.
    """
    future = _pending.get(name)
    if future is None or future.done():
        future = _pending[name] = start(name)
    try:
        future.result(timeout=settings.READY_TIMEOUT_SECONDS)
    except FutureTimeout:
        return "timed out"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"failed: {type(exc).__name__}"
    return "ok"


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Tells a load balancer whether to send traffic here: the database and the shared cache
    each answered within a short timeout. Touches no session."""
    results = {name: check(name) for name in READY_CHECKS}
    ready = all(result == "ok" for result in results.values())
    body = "\n".join(f"{name}: {result}" for name, result in results.items())
    return HttpResponse(body + "\n", content_type="text/plain", status=200 if ready else 503)
