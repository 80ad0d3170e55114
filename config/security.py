"""Login throttling and the security log.

Failed and throttled logins, and requests refused for lack of permission, are written to the
"critical_path.security" logger so that an operator can see someone probing accounts or other
learners' work. Values a visitor controls are logged with repr() so they cannot forge log lines.
"""

import ipaddress
import logging

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

log = logging.getLogger("critical_path.security")


def client_ip(request: HttpRequest) -> str:
    """The address a login attempt came from.

    gunicorn listens on loopback only, so in production every request arrives through the reverse
    proxy, which appends the real client's address to X-Forwarded-For; the last entry is the one
    that proxy wrote, the earlier ones are whatever the client claimed.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    address = valid_address(remote)
    if address and address.is_loopback and valid_address(forwarded):
        return forwarded
    return remote


def valid_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def login_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username a login attempt names, cut to a length the failure records can hold.

    The login forms do not limit what is typed there, and a database that enforces column
    lengths would otherwise turn a very long username into a server error.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    value = credentials.get(field) if credentials else request.POST.get(field)
    return None if value is None else str(value)[:150]


class ThrottledLoginBackend(AxesStandaloneBackend):
    """Refuses logins for a username and address that failed too often (see AXES_* settings).

    Only logins that come through a web request can be brute-forced, so authenticate() calls
    without a request (the shell, the test client's login()) pass straight to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def describe(request: HttpRequest | None) -> str:
    if request is None:
        return "no request"
    return f"ip={client_ip(request)} path={request.get_full_path()[:300]!r}"


@receiver(user_login_failed, dispatch_uid="security_log_login_failed")
def log_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    log.warning("login failed: username=%r %s", username, describe(request))


@receiver(user_locked_out, dispatch_uid="security_log_locked_out")
def log_locked_out(sender, request: HttpRequest | None = None, username=None, **kwargs):
    log.warning(
        "login throttled after repeated failures: username=%r %s",
        str(username or "")[:150],
        describe(request),
    )


@receiver(user_logged_in, dispatch_uid="security_log_logged_in")
def log_logged_in(sender, request: HttpRequest | None, user, **kwargs):
    log.info("login: user_id=%s %s", user.pk, describe(request))


@receiver(user_logged_out, dispatch_uid="security_log_logged_out")
def log_logged_out(sender, request: HttpRequest | None, user, **kwargs):
    log.info("logout: user_id=%s %s", getattr(user, "pk", None), describe(request))
