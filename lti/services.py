"""Writes of the LTI tool: the person behind a launch, what their link opens, registrations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import Resolver404, resolve
from lti_tool.models import Key, LtiDeployment, LtiLineItem, LtiRegistration, LtiUser
from lti_tool.utils import sync_data_from_launch

from accounts.roles import ensure_instructor_group
from lti import roster, targets
from lti.launch import (
    AGS_ENDPOINT,
    CONTEXT,
    RESOURCE_LAUNCH,
    TARGET_LINK_URI,
    CheckedLaunch,
    is_instructor_role,
)
from lti.models import CourseLink, Placement


@dataclass(frozen=True)
class SignedIn:
    user: Any
    lti_user: LtiUser
    target: targets.Target
    instructor: bool
    created: bool


@transaction.atomic
def sign_in_from_launch(*, checked: CheckedLaunch) -> SignedIn:
    """The account behind a checked launch, created on its first launch, with its roles.

    An account is found by the platform's issuer and ``sub`` only. The e-mail address a
    platform sends is stored, never used to find an existing account: anyone who can set an
    address on some platform could otherwise take over the account that owns it.
    """
    launch = checked.launch
    sync_data_from_launch(launch)
    lti_user = LtiUser.objects.select_for_update().get(
        registration=checked.registration, sub=checked.claims["sub"]
    )
    created = lti_user.auth_user is None
    user = account_for(lti_user)
    instructor = is_instructor_role(checked.roles)
    group = ensure_instructor_group()
    if instructor:
        user.groups.add(group)
    elif not user.has_usable_password():
        # An account made by launches has the roles its latest launch gave it; an account
        # made on the site keeps what an administrator gave it.
        user.groups.remove(group)
    if checked.claims.get(CONTEXT):
        context = launch.context
        roster.enroll_launcher(context=context, user=user, roles=checked.roles)
        if instructor and context.memberships_url:
            queue_roster_sync(context=context)
    target = targets.home()
    if checked.message_type == RESOURCE_LAUNCH:
        target = _placement_target(checked)
    return SignedIn(user=user, lti_user=lti_user, target=target, instructor=instructor,
                    created=created)


def queue_roster_sync(*, context: Any) -> None:
    from lti.tasks import sync_roster

    CourseLink.objects.filter(context=context).update(last_error="")
    sync_roster.enqueue(context.pk)


def account_for(lti_user: LtiUser) -> Any:
    """The account linked to a platform identity, made if there is none yet."""
    if lti_user.auth_user is None:
        lti_user.auth_user = _new_account(lti_user)
        lti_user.save(update_fields=["auth_user", "datetime_modified"])
    user = lti_user.auth_user
    _update_profile(user, lti_user)
    return user


def _new_account(lti_user: LtiUser) -> Any:
    users = get_user_model().objects
    base = "".join(c for c in (lti_user.given_name or lti_user.name or "learner").lower()
                   if c.isalnum())[:20] or "learner"
    while True:
        username = f"{base}-{secrets.token_hex(3)}"
        if not users.filter(username=username).exists():
            break
    user = users.create_user(username=username, email=lti_user.email or "")
    # Such an account signs in through its platform only; no password reset reaches it.
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def _update_profile(user: AbstractBaseUser, lti_user: LtiUser) -> None:
    fields = {
        "first_name": (lti_user.given_name or "")[:150],
        "last_name": (lti_user.family_name or "")[:150],
    }
    if not user.has_usable_password():
        fields["email"] = lti_user.email or ""
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)


def _placement_target(checked: CheckedLaunch) -> targets.Target:
    launch = checked.launch
    resource_link = launch.resource_link
    named = targets.resolve(str(checked.custom.get("target", "")))
    if named is None:
        named = _target_from_uri(str(checked.claims.get(TARGET_LINK_URI, "")))
    if named is not None:
        Placement.objects.update_or_create(resource_link=resource_link,
                                           defaults={"target": named.name})
    else:
        placement = Placement.objects.filter(resource_link=resource_link).first()
        named = targets.resolve(placement.target) if placement else None
    target = named or targets.home()
    ags = checked.claims.get(AGS_ENDPOINT) or {}
    if target.graded and ags.get("lineitem"):
        LtiLineItem.objects.update_or_create(
            url=ags["lineitem"],
            defaults={
                "context": launch.context,
                "resource_link": resource_link,
                "resource_id": target.assessment_key,
                "label": target.title[:255],
                "maximum_score": float(target.max_score or 0),
            },
        )
    return target


def _target_from_uri(uri: str) -> targets.Target | None:
    """A link whose target is a page of this site opens that page (the launch address
    itself opens nothing in particular)."""
    if not uri:
        return None
    try:
        match = resolve(urlsplit(uri).path)
    except Resolver404:
        return None
    by_view = {
        "courseware:lesson": "lesson:{slug}",
        "drills:detail": "drill:{slug}",
        "courseware:home": targets.HOME,
    }
    name = by_view.get(match.view_name)
    if name is None:
        for page, url_name in targets.SIMULATOR_PAGES.items():
            if match.view_name == url_name:
                return targets.resolve(f"simulator:{page}")
        return None
    return targets.resolve(name.format(**match.kwargs))


# Registration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    registration: LtiRegistration
    deployment: LtiDeployment
    created: bool


@transaction.atomic
def register_platform(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    auth_url: str,
    token_url: str,
    keyset_url: str,
    name: str = "",
) -> Registered:
    """Register a platform and one deployment of it; registering it again updates its URLs."""
    registration, created = LtiRegistration.objects.update_or_create(
        issuer=issuer,
        client_id=client_id,
        defaults={
            "name": name or urlsplit(issuer).netloc or issuer,
            "auth_url": auth_url,
            "token_url": token_url,
            "keyset_url": keyset_url,
            "is_active": True,
        },
    )
    deployment, _ = LtiDeployment.objects.update_or_create(
        registration=registration, deployment_id=deployment_id,
        defaults={"is_active": True},
    )
    ensure_tool_key()
    return Registered(registration=registration, deployment=deployment, created=created)


def ensure_tool_key() -> Key:
    """The key the tool signs with; made on first need."""
    key = Key.objects.active().order_by("-datetime_created").first()
    return key or Key.objects.generate()
