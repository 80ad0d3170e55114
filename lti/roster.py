"""Names and roles: a platform course's roster, kept in a section of the course.

A launch puts the person launching into their platform course's section at once. An
instructor's launch also queues a roster sync (a task: it calls the platform), which reads the
whole roster through the Names and Role Provisioning Service and makes the section match it:
members with their names, e-mail addresses and roles; members who left, or are inactive, out.
Someone on the roster who never launched gets an account linked to their platform identity, so
the gradebook lists them and their first launch finds it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from lti_tool.models import LtiContext, LtiUser
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from courseware import services as courseware
from courseware.models import Course, Section, SectionMembership
from lti.launch import TimeoutSession, is_instructor_role
from lti.models import CourseLink

ASSISTANT_ROLE = "Instructor#TeachingAssistant"


def section_role(roles: list[str]) -> str:
    if any(ASSISTANT_ROLE in role or role == "TeachingAssistant" for role in roles):
        return SectionMembership.Role.ASSISTANT
    if is_instructor_role(roles):
        return SectionMembership.Role.INSTRUCTOR
    return SectionMembership.Role.LEARNER


def section_for(context: LtiContext) -> Section | None:
    """The section of a platform course, made on first need; None while no course is loaded."""
    link = CourseLink.objects.select_related("section").filter(context=context).first()
    if link:
        return link.section
    course = Course.objects.order_by("pk").first()
    if course is None:
        return None
    title = (context.title or context.label or context.id_on_platform)[:150]
    with transaction.atomic():
        section = Section.objects.create(
            course=course, title=title,
            slug=slugify(f"{context.label or title}-{context.pk}")[:50] or f"lti-{context.pk}",
        )
        CourseLink.objects.create(context=context, section=section)
    return section


def enroll_launcher(*, context: LtiContext, user: object, roles: list[str]) -> None:
    section = section_for(context)
    if section is not None:
        courseware.enroll(section=section, user=user, role=section_role(roles))


def sync(context_id: int, attempt: int = 1) -> int:
    """Make the section match the platform's roster; returns how many members it has, or -1
    when the platform would not give it. The section then stays as it was, the sync is tried
    again with backoff, and after the last try the error waits on the instructors' page,
    where "Sync now" (or the next instructor launch) starts again."""
    from lti.passback import try_again
    from lti.services import account_for
    from lti.tasks import sync_roster

    context = LtiContext.objects.select_related("deployment__registration").get(pk=context_id)
    if not context.memberships_url:
        return 0
    connector = ServiceConnector(context.deployment.registration.to_registration(),
                                 requests_session=TimeoutSession())
    service = NamesRolesProvisioningService(
        connector, {"context_memberships_url": context.memberships_url}
    )
    try:
        members = service.get_members()
    except (LtiException, OSError) as error:
        note = f"Try {attempt}: {error}"[:1900]
        if try_again(sync_roster, attempt, context_id):
            note += " (trying again by itself)"
        CourseLink.objects.filter(context=context).update(last_error=note)
        return -1
    section = section_for(context)
    if section is None:
        return 0
    with transaction.atomic():
        context.update_memberships([dict(m) for m in members])
        kept = set()
        for member in members:
            if member.get("status", "Active") != "Active":
                continue
            lti_user = LtiUser.objects.get(registration=context.deployment.registration,
                                           sub=member["user_id"])
            user = account_for(lti_user)
            courseware.enroll(section=section, user=user,
                              role=section_role([str(r) for r in member.get("roles", [])]))
            kept.add(user.pk)
        registration = context.deployment.registration
        gone = section.memberships.exclude(user_id__in=kept).filter(
            user__lti_users__registration=registration
        ).select_related("user")
        for membership in gone:
            courseware.unenroll(section=section, user=membership.user)
        CourseLink.objects.filter(context=context).update(synced_at=timezone.now(),
                                                          last_error="")
    return len(kept)
