"""Staying up when a dependency misbehaves or a flood arrives.

- A database that refuses or hangs gets a styled 503 with Retry-After, rendered from a template
  alone: no session, no user, no context processor, so the page itself needs no database.
- A request that outlives gunicorn's timeout is interrupted with ``RequestTimedOut`` (see
  ``worker_abort`` in config/gunicorn.conf.py) and answered the same way, so no worker hangs and
  nobody sees gunicorn's bare error page.
- Per-client limits (``throttle``) and budgets raise ``Throttled``: a styled 429, or JSON for an
  API, with Retry-After.
- Bodies that cannot be read (a charset other than UTF-8, bytes that are not UTF-8, file parts
  where no form takes a file) get a styled 400; the 400 and 500 handlers never read the body.
- Any response to a visitor with a session is marked ``private, no-store``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.files.uploadhandler import FileUploadHandler
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import patch_cache_control
from django_ratelimit.core import get_usage

from config.security import client_ip

log = logging.getLogger("critical_path.faults")

DATABASE_ERRORS = (OperationalError, InterfaceError)
UNAVAILABLE = {
    "heading": "We could not reach the database",
    "reason": "Nothing you sent was lost — try again in a few seconds.",
}
TOO_SLOW = {
    "heading": "That took us too long",
    "reason": "The server gave up waiting. Nothing you sent was lost. Please try again in a few "
              "seconds.",
}


class RequestTimedOut(Exception):
    """Raised inside a request that has run past gunicorn's timeout."""


class Throttled(Exception):
    """A client asked for more than its share; ``retry_after`` seconds from now it may again."""

    def __init__(self, message: str, *, retry_after: int, json: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))
        self.json = json


def client_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's key: the client address the reverse proxy reports."""
    return client_ip(request)


BUSY = "Many people are signing in at this moment. Wait a second and try again."


def site_key(group: str, request: HttpRequest) -> str:
    return "everyone"


def throttle(group: str, *, rate_setting: str, message: str) -> Callable:
    """Limits a view's POSTs per client address to the rate the named setting holds ("30/m"),
    and all clients together to HASHING_RATE, counted in the shared cache.

    Each of these POSTs costs a password hash, which takes most of a core for a good part of a
    second: a flood spread over many addresses gets past any per-address limit, so the site as
    a whole only starts so many hashes a second and refuses the rest cheaply.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            for key, rate, scope, refusal in (
                (client_key, getattr(settings, rate_setting), group, message),
                (site_key, settings.HASHING_RATE, "password-hashing", BUSY),
            ):
                usage = get_usage(
                    request, group=scope, key=key, rate=rate, method="POST", increment=True
                )
                if usage is not None and usage["should_limit"]:
                    raise Throttled(refusal, retry_after=usage["time_left"])
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def render_page(template: str, context: dict, *, status: int) -> HttpResponse:
    """A page rendered from its template alone, never from the request: it reads no session,
    no user and no body, so it renders whatever state the database or the body is in."""
    return HttpResponse(loader.render_to_string(template, context), status=status)


def unavailable(request: HttpRequest, exc: BaseException) -> HttpResponse:
    timed_out = isinstance(exc, RequestTimedOut)
    log.warning(
        "answered 503: %s %s %r",
        "timed out" if timed_out else "database unreachable",
        request.path[:300],
        str(exc)[:300],
    )
    response = render_page(
        "503.html", {"status": 503, **(TOO_SLOW if timed_out else UNAVAILABLE)}, status=503
    )
    response["Retry-After"] = str(settings.FAULT_RETRY_AFTER_SECONDS)
    patch_cache_control(response, no_store=True)
    return response


def too_many(request: HttpRequest, exc: Throttled) -> HttpResponse:
    if exc.json:
        response: HttpResponse = JsonResponse({"error": exc.message, "field": None}, status=429)
    else:
        response = render_page(
            "429.html", {"status": 429, "reason": exc.message, "retry_after": exc.retry_after},
            status=429,
        )
    response["Retry-After"] = str(exc.retry_after)
    patch_cache_control(response, no_store=True)
    return response


class FaultMiddleware:
    """Turns dependency failures and refusals raised in views into fast, styled answers, refuses
    unreadable form bodies before anything reads them, and keeps personal pages out of caches.

    Sits right after SecurityMiddleware and WhiteNoise: before CSRF, sessions and everything
    else that could read the body, and outside them, so it sees every response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.unreadable_body(request)
        response = refusal or self.get_response(request)
        if self.personal(request, response):
            patch_cache_control(response, private=True, no_store=True)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, Throttled):
            return too_many(request, exc)
        if isinstance(exc, (*DATABASE_ERRORS, RequestTimedOut)):
            return unavailable(request, exc)
        return None

    @staticmethod
    def personal(request: HttpRequest, response: HttpResponse) -> bool:
        # A session cookie sent or set means the page may hold the visitor's own data; looking
        # at cookies, not at request.user, costs no query and works while the database is down.
        name = settings.SESSION_COOKIE_NAME
        return name in request.COOKIES or name in response.cookies

    @staticmethod
    def unreadable_body(request: HttpRequest) -> HttpResponse | None:
        """A form body that is not UTF-8 would be read with replacement characters (or refused
        deep inside whatever reads it first); refuse it here with a reason instead."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if request.content_type != "application/x-www-form-urlencoded":
            return None
        charset = (request.content_params or {}).get("charset", "utf-8").strip().lower()
        if charset not in ("utf-8", "utf8"):
            return bad_request_page(
                "Forms must be sent in UTF-8; this one said it was in another encoding."
            )
        try:
            unquote_to_bytes(request.body.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return bad_request_page("The form held bytes that are not UTF-8 text.")
        return None


def bad_request_page(reason: str) -> HttpResponse:
    return render_page("400.html", {"reason": reason}, status=400)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400. Unlike Django's own it does not check the CSRF token, which would read the
    body that was just found unreadable."""
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        reason = "The form was larger than this site accepts."
    elif isinstance(exception, BadRequest):
        reason = str(exception)
    else:
        reason = ""
    return bad_request_page(reason or "Something in the request was missing or not valid.")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. A database failure or a timeout outside a view (in a middleware, while
    saving the session) still gets the 503; the body is never read again."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (*DATABASE_ERRORS, RequestTimedOut)):
        return unavailable(request, exc)
    return render_page("500.html", {}, status=500)


class NoFileUploads(FileUploadHandler):
    """No form of the site takes a file, so a file part is refused before any of it is read.

    A view that one day takes files replaces ``request.upload_handlers`` for itself.
    """

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        raise BadRequest("This address does not take files.")

    def receive_data_chunk(self, raw_data, start):
        raise BadRequest("This address does not take files.")

    def file_complete(self, file_size):
        return None
