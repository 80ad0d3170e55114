"""Inside a platform's frame: which pages may be framed, by whom, and with which cookies.

The site forbids framing everywhere. A person who arrived by an LTI launch uses the site inside
the platform's page, so for their session, and for the launch's own pages, the frame-ancestors
rule names the registered platforms (and only them), and the session and CSRF cookies are
marked SameSite=None; Secure, as browsers require of cookies sent inside a cross-site frame.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from lti_tool.models import LtiRegistration

LTI_SESSION = "lti_registration"


def mark_lti_session(request: HttpRequest, registration: LtiRegistration) -> None:
    request.session[LTI_SESSION] = registration.pk


def allow_platform_frames(request: HttpRequest) -> None:
    """Let this response be framed by the registered platforms (a launch's own pages)."""
    request.lti_frame = True  # type: ignore[attr-defined]


def is_lti_session(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    # A response that never read the session shows nothing of a person's own (a health check,
    # an error page), so the session is not loaded just to ask.
    if session is None or not session.accessed:
        return False
    return bool(session.get(LTI_SESSION))


def platform_origins(registration_pk: int | None = None) -> list[str]:
    """The origins of the registered platforms' pages: of their issuers and login endpoints."""
    registrations = LtiRegistration.objects.active()
    if registration_pk is not None:
        registrations = registrations.filter(pk=registration_pk)
    origins: set[str] = set()
    for issuer, auth_url in registrations.values_list("issuer", "auth_url"):
        for url in (issuer, auth_url):
            parts = urlsplit(url)
            if parts.scheme in ("https", "http") and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)
