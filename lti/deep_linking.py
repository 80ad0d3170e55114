"""Deep linking: an instructor, sent from the platform, picks activities to place in a course.

Each picked activity goes back to the platform as an LTI resource link whose custom parameter
names it (lti.targets); a graded one brings a line item, so the platform makes it a graded
assignment whose scores the tool can post (lti.passback).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from pylti1p3.contrib.django import DjangoMessageLaunch
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem

from accounts.roles import INSTRUCTORS
from lti import framing, targets
from lti.launch import StrictToolConfig, storage

SESSION_KEY = "lti_deep_link_launch"


def resources_for(chosen: list[targets.Target], launch_url: str) -> list[DeepLinkResource]:
    resources = []
    for target in chosen:
        resource = (
            DeepLinkResource()
            .set_url(launch_url)
            .set_title(target.title)
            .set_custom_params({"target": target.name})
        )
        if target.graded:
            resource.set_lineitem(
                LineItem()
                .set_score_maximum(int(target.max_score or 0))
                .set_label(target.title)
                .set_resource_id(target.assessment_key)
                .set_tag("critical-path")
            )
        resources.append(resource)
    return resources


@require_http_methods(["GET", "HEAD", "POST"])
def pick(request: HttpRequest) -> HttpResponse:
    launch_id = request.session.get(SESSION_KEY)
    if not launch_id or not request.user.groups.filter(name=INSTRUCTORS).exists():
        raise PermissionDenied(
            "Placing activities starts from your learning platform: add Critical Path to a "
            "course there as an instructor."
        )
    framing.allow_platform_frames(request)
    catalogue = targets.catalogue()
    if request.method != "POST":
        return render(request, "lti/deep_link.html", {"catalogue": catalogue})
    by_name = {target.name: target for target in catalogue}
    chosen = [by_name[name] for name in request.POST.getlist("target") if name in by_name]
    if not chosen:
        return render(request, "lti/deep_link.html", {
            "catalogue": catalogue, "error": "Tick at least one activity to place.",
        }, status=400)
    try:
        message_launch = DjangoMessageLaunch.from_cache(
            launch_id, request, StrictToolConfig(), launch_data_storage=storage()
        )
        deep_link = message_launch.get_deep_link()
    except LtiException as error:
        raise PermissionDenied(
            "This placement has expired: open the tool again from your platform."
        ) from error
    launch_url = request.build_absolute_uri(reverse("lti:launch"))
    token = deep_link.get_response_jwt(resources_for(chosen, launch_url))
    return_url = message_launch.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]["deep_link_return_url"]
    del request.session[SESSION_KEY]
    response = render(request, "lti/deep_link_return.html", {
        "return_url": return_url, "token": token, "chosen": chosen,
    })
    # The one form on the site that is sent elsewhere: to the platform that asked.
    parts = urlsplit(return_url)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response
