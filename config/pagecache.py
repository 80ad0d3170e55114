"""Micro-caching of the pages anonymous visitors read.

When a cohort starts, many visitors without an account open the same lesson within seconds. For
a visitor with no session, a lesson page is the same for everyone but for the CSRF token in its
forms, so each worker keeps the rendered page for a few seconds with the token cut out, and puts
a token of the visitor's own back in when it serves the page again.
"""

import re
import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils.cache import patch_vary_headers

CACHE_ALIAS = "pages"
# Random per process, so no page text can collide with it.
PLACEHOLDER = f"csrf-token-{secrets.token_hex(16)}".encode()
# A masked CSRF token: 64 letters and digits standing alone.
TOKEN_LIKE = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


class AnonymousPageCacheMiddleware:
    """Serves the views named in ANONYMOUS_PAGE_CACHE_VIEWS from a short-lived per-worker cache.

    Only plain GETs without a query string from visitors without a session or pending messages
    are served from it; everyone else gets a freshly rendered page. Sits inside the CSRF, session
    and security-header middleware so that those still act on every response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        key = getattr(request, "_page_cache_key", None)
        # A view that wrote to the session made this page the visitor's own.
        if key and self.storable(response) and not request.session.modified:
            content = self.without_tokens(request, response.content)
            caches[CACHE_ALIAS].set(
                key, (content, response["Content-Type"]), settings.ANONYMOUS_PAGE_CACHE_SECONDS
            )
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not self.cacheable(request):
            return None
        key = f"{request.get_host()}{request.path}"
        entry = caches[CACHE_ALIAS].get(key)
        if entry is None:
            request._page_cache_key = key
            return None
        content, content_type = entry
        response = HttpResponse(
            content.replace(PLACEHOLDER, get_token(request).encode()), content_type=content_type
        )
        # As the rendered page would: its content depends on having no session cookie.
        patch_vary_headers(response, ("Cookie",))
        return response

    @staticmethod
    def cacheable(request: HttpRequest) -> bool:
        match = request.resolver_match
        return bool(
            settings.ANONYMOUS_PAGE_CACHE_SECONDS > 0
            and request.method == "GET"
            and not request.META.get("QUERY_STRING")
            and "HTTP_HX_REQUEST" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and CookieStorage.cookie_name not in request.COOKIES
            and match is not None
            and match.view_name in settings.ANONYMOUS_PAGE_CACHE_VIEWS
        )

    @staticmethod
    def storable(response: HttpResponse) -> bool:
        cache_control = response.get("Cache-Control", "")
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "private" not in cache_control
            and "no-store" not in cache_control
            and "no-cache" not in cache_control
        )

    @staticmethod
    def without_tokens(request: HttpRequest, content: bytes) -> bytes:
        """The page with every CSRF token of this request (in a form or anywhere else, whatever
        its mask) replaced by the placeholder."""
        secret = request.META.get("CSRF_COOKIE")
        if not secret:
            return content
        tokens = {
            candidate
            for candidate in TOKEN_LIKE.findall(content)
            if _unmask_cipher_token(candidate.decode()) == secret
        }
        for token in tokens:
            content = content.replace(token, PLACEHOLDER)
        return content
