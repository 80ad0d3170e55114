"""Checking an LTI 1.3 launch and naming what is wrong with a bad one.

PyLTI1p3 does the protocol (state, nonce issued at login, the platform's key set, signature,
deployment, message shape). Around it the tool names each refusal in words a person can act on,
never creates a deployment it was not told about, and accepts each nonce once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from lti_tool.models import LtiDeployment, LtiLaunch, LtiRegistration
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException

from lti import keysets
from lti.models import UsedNonce

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
DEPLOYMENT_ID = LTI + "deployment_id"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CUSTOM = LTI + "custom"
CONTEXT = LTI + "context"
TARGET_LINK_URI = LTI + "target_link_uri"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
RESOURCE_LAUNCH = "LtiResourceLinkRequest"
DEEP_LINKING_LAUNCH = "LtiDeepLinkingRequest"
STATE_COOKIE_PREFIX = "lti1p3-"
NONCE_MEMORY = timedelta(days=2)


class LaunchRefused(Exception):
    """A launch the tool will not accept; ``problem`` names what is wrong, for the 403 page."""

    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.detail = detail


class CookiesBlocked(Exception):
    """The browser did not send back the cookie set at login, as browsers do inside frames
    that may not keep cookies. ``login_params`` restart the login in a window of its own."""

    def __init__(self, login_params: dict[str, str], registration: LtiRegistration) -> None:
        super().__init__("cookies blocked")
        self.login_params = login_params
        self.registration = registration


class TimeoutSession(requests.Session):
    """A requests session whose every call gives up after the configured time."""

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", settings.LTI_HTTP_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


class StrictToolConfig(DjangoToolConfig):
    """django-lti's registration lookup, without its habit of creating a deployment the first
    time an unknown deployment id launches: an unknown deployment is refused.

    Given a ``key_set``, the registrations it finds check signatures against it instead of
    fetching the platform's key set themselves (lti.keysets keeps that one cached).
    """

    def __init__(self, registration_uuid: Any = None, key_set: dict[str, Any] | None = None):
        super().__init__(registration_uuid)
        self.key_set = key_set

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Any:
        return self._with_keys(super().find_registration_by_issuer(iss, *args, **kwargs))

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any,
                                    **kwargs: Any) -> Any:
        return self._with_keys(
            super().find_registration_by_params(iss, client_id, *args, **kwargs)
        )

    def _with_keys(self, registration: Any) -> Any:
        if registration is not None and self.key_set is not None:
            registration.set_key_set(self.key_set)
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> Any:
        return self._find(registration__issuer=iss, deployment_id=deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        return self._find(
            registration__issuer=iss,
            registration__client_id=client_id,
            deployment_id=deployment_id,
        )

    def _find(self, **lookups: Any) -> Any:
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        deployment = (
            LtiDeployment.objects.active().filter(registration__is_active=True, **lookups).first()
        )
        if deployment is None:
            return None
        self.deployment = deployment
        return Deployment().set_deployment_id(deployment.deployment_id)


def storage() -> DjangoCacheDataStorage:
    return DjangoCacheDataStorage(cache_name="default")


# OIDC login initiation ---------------------------------------------------------------------


LOGIN_KEY = "lti:login:{state}"
# As long as the library's state cookie lives.
LOGIN_SECONDS = 5 * 60
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id",
                "lti_deployment_id")


def login_redirect(request: HttpRequest, registration: LtiRegistration, redirect_uri: str) -> Any:
    """The redirect to the platform's authorisation endpoint that starts a launch."""
    params = request.GET if request.method in ("GET", "HEAD") else request.POST
    if params.get("iss") != registration.issuer:
        raise LaunchRefused(
            "The login came from an issuer this platform was not registered with.",
            f"Expected {registration.issuer}.",
        )
    if params.get("client_id") and params.get("client_id") != registration.client_id:
        raise LaunchRefused("The login names a client id this tool was not registered under.")
    if not params.get("login_hint"):
        raise LaunchRefused("The login has no login_hint, so the platform cannot say who it is.")
    login = DjangoOIDCLogin(request, StrictToolConfig(registration.uuid),
                            launch_data_storage=storage())
    try:
        response = login.redirect(redirect_uri)
    except (OIDCException, LtiException) as error:
        raise LaunchRefused("The login could not be started.", str(error)) from error
    state = parse_qs(urlsplit(response["Location"]).query).get("state", [""])[0]
    # Kept by state alone (not by any cookie), so that a launch whose cookies the browser
    # dropped can start again in a window of its own.
    cache.set(LOGIN_KEY.format(state=state), {
        "registration": str(registration.uuid),
        "login": {key: params[key] for key in LOGIN_PARAMS if params.get(key)},
    }, LOGIN_SECONDS)
    return response


# Launch --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedLaunch:
    launch: LtiLaunch
    registration: LtiRegistration
    claims: dict[str, Any]

    @property
    def message_type(self) -> str:
        return str(self.claims.get(MESSAGE_TYPE, ""))

    @property
    def roles(self) -> list[str]:
        return [str(role) for role in self.claims.get(ROLES) or []]

    @property
    def custom(self) -> dict[str, Any]:
        custom = self.claims.get(CUSTOM)
        return custom if isinstance(custom, dict) else {}


INSTRUCTOR_ROLES = ("Instructor", "TeachingAssistant", "Administrator")


def is_instructor_role(roles: list[str]) -> bool:
    """Whether the roles claim names an instructor, a teaching assistant or an administrator
    of the course (short names, context role URIs and sub-roles alike). Institution and
    system roles do not count: being staff somewhere is not teaching this course."""
    for role in roles:
        name = role.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        context_role = "membership" in role or "/" not in role
        if name in INSTRUCTOR_ROLES and context_role:
            return True
        if "membership/Instructor#" in role:
            return True
    return False


def check_launch(request: HttpRequest) -> CheckedLaunch:
    """Validate the POSTed id_token; raise LaunchRefused naming the problem, or CookiesBlocked."""
    id_token = request.POST.get("id_token", "")
    state = request.POST.get("state", "")
    if not id_token:
        raise LaunchRefused("The launch carried no id_token.")
    try:
        unverified = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.InvalidTokenError as error:
        raise LaunchRefused("The id_token is not a well-formed signed token.") from error
    registration = _registration_for(unverified)
    if not state:
        raise LaunchRefused("The launch carried no state, so it cannot be matched to a login.")
    if not request.COOKIES.get(STATE_COOKIE_PREFIX + state):
        params = _state_params(request, state)
        if params is None:
            raise LaunchRefused(
                "This launch does not belong to a login started here, or it took too long.",
                "Start again from the course in your learning platform.",
            )
        raise CookiesBlocked(params.get("login", {}), registration)
    _check_claims_present(unverified)
    kid = str(jwt.get_unverified_header(id_token).get("kid") or "")
    message_launch = DjangoMessageLaunch(
        request, StrictToolConfig(key_set=keysets.key_set(registration, kid)),
        launch_data_storage=storage(), requests_session=TimeoutSession(),
    )
    message_launch.set_jwt_verify_options({"verify_aud": False})
    try:
        message_launch.validate()
    except LtiException as error:
        raise _named(str(error)) from error
    claims = message_launch.get_launch_data()
    # A nonce is only honoured while the login that issued it is remembered (a day, in the
    # library); older records can go.
    UsedNonce.objects.filter(used_at__lt=timezone.now() - NONCE_MEMORY).delete()
    try:
        with transaction.atomic():
            UsedNonce.objects.create(issuer=registration.issuer, nonce=str(claims["nonce"]))
    except IntegrityError:
        raise LaunchRefused(
            "This id_token's nonce was used before: a launch is accepted once.",
            "Start again from the course in your learning platform.",
        ) from None
    return CheckedLaunch(LtiLaunch(message_launch), registration, dict(claims))


def _registration_for(claims: dict[str, Any]) -> LtiRegistration:
    issuer = claims.get("iss")
    registrations = list(LtiRegistration.objects.active().filter(issuer=issuer)) if issuer \
        else []
    if not registrations:
        raise LaunchRefused(f"The issuer {issuer or '(none)'} is not a registered platform.")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    for registration in registrations:
        if registration.client_id in audiences:
            if len(audiences) > 1 and claims.get("azp") != registration.client_id:
                break
            return registration
    raise LaunchRefused(
        "The id_token is addressed to another tool: its audience is not this tool's client id."
    )


def _state_params(request: HttpRequest, state: str) -> dict[str, Any] | None:
    value = cache.get(LOGIN_KEY.format(state=state))
    return value if isinstance(value, dict) else None


# A claim the tool needs, and why, for the 403 page.
REQUIRED_CLAIMS = {
    "sub": "who is launching",
    "exp": "when the token expires",
    "iat": "when the token was issued",
    "nonce": "the one-time value of the login",
    DEPLOYMENT_ID: "which deployment launches",
    MESSAGE_TYPE: "what kind of launch this is",
    LTI + "version": "the LTI version",
    ROLES: "the person's roles",
}


def _check_claims_present(claims: dict[str, Any]) -> None:
    missing = [name for name in REQUIRED_CLAIMS if claims.get(name) in (None, "")]
    if ROLES in missing and isinstance(claims.get(ROLES), list):
        # An empty list of roles is a launch by someone with no role: allowed.
        missing.remove(ROLES)
    if claims.get(MESSAGE_TYPE) == RESOURCE_LAUNCH and not (claims.get(RESOURCE_LINK) or {}).get(
        "id"
    ):
        missing.append(RESOURCE_LINK)
    if missing:
        names = ", ".join(f"{name.removeprefix(LTI)} ({REQUIRED_CLAIMS.get(name, 'the link')})"
                          for name in missing)
        raise LaunchRefused(f"The id_token is missing claims the tool needs: {names}.")
    exp = claims.get("exp")
    if isinstance(exp, int | float) and exp < time.time():
        raise LaunchRefused("The id_token has expired: start again from the learning platform.")


def _named(message: str) -> LaunchRefused:
    """The library's message, as a problem a person can act on."""
    lowered = message.lower()
    if "signature has expired" in lowered:
        return LaunchRefused("The id_token has expired: start again from the learning platform.")
    if "signature verification failed" in lowered or "unable to find public key" in lowered \
            or "kid" in lowered:
        return LaunchRefused(
            "The id_token's signature does not match the platform's published key set.",
            message,
        )
    if "deployment" in lowered:
        return LaunchRefused("The deployment id of this launch is not registered with the tool.")
    if "nonce" in lowered:
        return LaunchRefused("The id_token's nonce was not issued by a login started here.")
    if "state" in lowered:
        return LaunchRefused("The launch's state does not match the login started here.")
    if "registration" in lowered or "client id" in lowered:
        return LaunchRefused("The platform or client id of this launch is not registered.")
    if "missing" in lowered or "claim" in lowered or "message" in lowered:
        return LaunchRefused("The id_token lacks claims an LTI launch must have.", message)
    return LaunchRefused("The id_token was refused.", message)
