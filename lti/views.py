"""The tool's endpoints for LTI platforms: key set, login initiation, launch."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from lti_tool.models import Key, LtiRegistration

from lti import deep_linking, framing, services
from lti.launch import CookiesBlocked, LaunchRefused, check_launch, login_redirect

log = logging.getLogger("critical_path.security")


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """The tool's public keys, which platforms use to check what the tool signs."""
    return JsonResponse(Key.objects.as_jwks())


def refused(request: HttpRequest, error: LaunchRefused) -> HttpResponse:
    log.warning("LTI launch refused: %s %s", error.problem, error.detail)
    framing.allow_platform_frames(request)
    return render(request, "lti/refused.html",
                  {"problem": error.problem, "detail": error.detail}, status=403)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def login_initiation(request: HttpRequest, registration_uuid: str) -> HttpResponse:
    """Step one of a launch: the platform names the person, the tool answers with a redirect
    to the platform's authorisation endpoint carrying a fresh state and nonce."""
    registration = LtiRegistration.objects.active().filter(uuid=registration_uuid).first()
    if registration is None:
        return refused(request, LaunchRefused("No platform is registered at this login address."))
    try:
        return login_redirect(request, registration, request.build_absolute_uri(
            reverse("lti:launch")))
    except LaunchRefused as error:
        return refused(request, error)


@csrf_exempt
@xframe_options_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    """Step two: the platform posts the signed id_token; a good one signs the person in."""
    try:
        checked = check_launch(request)
    except LaunchRefused as error:
        return refused(request, error)
    except CookiesBlocked as blocked:
        framing.allow_platform_frames(request)
        restart = reverse("lti:login", args=[blocked.registration.uuid])
        return render(request, "lti/cookies.html", {
            "restart_url": f"{restart}?{urlencode(blocked.login_params)}",
        })
    signed_in = services.sign_in_from_launch(checked=checked)
    login(request, signed_in.user, backend="django.contrib.auth.backends.ModelBackend")
    framing.mark_lti_session(request, checked.registration)
    if checked.message_type == "LtiDeepLinkingRequest":
        if not signed_in.instructor:
            return refused(request, LaunchRefused(
                "Only an instructor of the course may place activities in it."))
        request.session[deep_linking.SESSION_KEY] = checked.launch.get_launch_id()
        return redirect("lti:deep_link")
    return redirect(signed_in.target.url)
