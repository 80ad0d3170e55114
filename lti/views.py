"""The tool's endpoints for LTI platforms: key set, login initiation, launch."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from lti_tool.models import Key, LtiRegistration

from lti import deep_linking, framing, passback, services
from lti.launch import CookiesBlocked, LaunchRefused, check_launch, login_redirect
from lti.models import CourseLink, ScorePost

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


PASSBACK_DENIED = "Only instructors see the grades sent to learning platforms."


@require_safe
@login_required
def passbacks(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("lti.view_scorepost"):
        raise PermissionDenied(PASSBACK_DENIED)
    counts = {status: 0 for status in ScorePost.Status.values}
    for row in ScorePost.objects.values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return render(request, "lti/passbacks.html", {
        "dead": ScorePost.objects.needing_attention()[:200], "counts": counts,
        "links": CourseLink.objects.select_related("context", "section").order_by(
            "section__title", "pk"),
    })


@require_POST
@login_required
def retry_passback(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("lti.change_scorepost"):
        raise PermissionDenied(PASSBACK_DENIED)
    post = get_object_or_404(ScorePost, pk=pk)
    if post.status != ScorePost.Status.DEAD:
        messages.info(request, "That grade is already on its way or was received.")
    else:
        passback.retry(post=post)
        messages.success(request, "Queued again: it is sent in the background.")
    return redirect("lti:passbacks")


@require_POST
@login_required
def sync_roster(request: HttpRequest, pk: int) -> HttpResponse:
    """Read a platform course's roster again now, in the background."""
    if not request.user.has_perm("lti.change_courselink"):
        raise PermissionDenied("Only instructors may sync a course roster.")
    link = get_object_or_404(CourseLink.objects.select_related("context", "section"), pk=pk)
    if not link.context.memberships_url:
        messages.error(request, "This platform course offers no roster to read.")
    else:
        services.queue_roster_sync(context=link.context)
        messages.success(request, f"Reading the roster of {link.section.title} again: the "
                                  "section is updated in the background.")
    return redirect("lti:passbacks")
