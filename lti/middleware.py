"""Framing and cookies for people using the site inside a platform (see lti.framing)."""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import NONE
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from lti.framing import LTI_SESSION, is_lti_session, platform_origins


class LtiCookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_lti_session(request):
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                morsel = response.cookies.get(name)
                # A deleted cookie (logout) needs no cross-site attributes.
                if morsel is not None and morsel.value:
                    morsel["samesite"] = "None"
                    morsel["secure"] = True
        return response


class LtiFrameMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "lti_frame", False):
            origins = platform_origins()
        elif is_lti_session(request):
            origins = platform_origins(request.session.get(LTI_SESSION))
        else:
            return response
        response._csp_replace = {"frame-ancestors": origins or [NONE]}  # type: ignore[attr-defined]
        response.xframe_options_exempt = True
        return response
