import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.http import HtmxHttpRequest
from config.security import describe, log


class SessionIdleTimeoutMiddleware:
    """Ends sessions that sit unused for SESSION_COOKIE_AGE seconds.

    A session that a request used is saved again, which moves its expiry to SESSION_COOKIE_AGE
    from now; the server forgets it once that passes. To spare a database write on every page,
    the save happens at most once a minute per session, so a session ends between
    SESSION_COOKIE_AGE minus a minute and SESSION_COOKIE_AGE after its last request. Requests
    that never look at the session (health checks) write nothing. Sits just inside
    SessionMiddleware so that the save happens on the way out.
    """

    KEY = "_last_seen"
    REFRESH_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        # Not after a server error: the database may be what failed, and SessionMiddleware
        # saves nothing then either.
        if response.status_code < 500 and session.accessed and not session.is_empty():
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.REFRESH_SECONDS:
                session[self.KEY] = now
        return response


class SecurityLogMiddleware:
    """Logs refused requests: every 403, the lockout 429, and 404s met by signed-in users.

    A signed-in learner who meets a 404 is often asking for someone else's work by number (the
    apps answer 404 rather than admit it exists); anonymous 404s are mostly crawlers and are left
    to django.request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if status in (403, 404, 429):
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
            if status != 404 or user_id is not None:
                log.warning(
                    "refused %s %s: %s user_id=%s %s",
                    request.method,
                    status,
                    "forbidden" if status == 403 else "not found" if status == 404 else "throttled",
                    user_id,
                    describe(request),
                )
        return response


def method_not_allowed_page(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HtmxHttpRequest], HttpResponse]:
    """Gives the empty 405 that require_POST and friends return a page a person can read."""

    def middleware(request: HtmxHttpRequest) -> HttpResponse:
        response = get_response(request)
        if response.status_code != 405 or response.content or request.htmx:
            return response
        page = render(
            request,
            "400.html",
            {
                "heading": "That page only accepts a form",
                "status": 405,
                "reason": "This address is where a form sends its answer; it has nothing to "
                "show on its own. Go back to the page with the form and submit it from there.",
            },
            status=405,
        )
        page["Allow"] = response["Allow"]
        return page

    return middleware
