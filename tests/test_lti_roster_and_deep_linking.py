"""Deep linking (an instructor places activities) and the names-and-roles roster sync."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import jwt
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from jwt.algorithms import RSAAlgorithm
from lti_tool.models import LtiUser

from accounts.roles import INSTRUCTORS
from courseware.models import Section, SectionMembership
from lti.models import CourseLink
from tests.lti_helpers import launch
from tests.lti_platform import INSTRUCTOR, LEARNER, TEACHING_ASSISTANT

# The worker closes its database connection between tasks, as a long-lived process must; so
# what it reads is committed first, as it is in production.
pytestmark = pytest.mark.django_db(transaction=True)

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0",
                 stdout=io.StringIO(), stderr=io.StringIO())


def member(sub: str, name: str, roles: list[str], status: str = "Active") -> dict:
    given, family = name.split()
    return {"user_id": sub, "name": name, "given_name": given, "family_name": family,
            "email": f"{given.lower()}@example.org", "roles": roles, "status": status}


# Deep linking ------------------------------------------------------------------------------


def test_an_instructor_places_activities_and_the_platform_gets_signed_links(
        client, course, tool_urls, platform):
    response = launch(client, tool_urls, platform, sub="teacher-1", roles=[INSTRUCTOR],
                      message_type="LtiDeepLinkingRequest")
    assert response["Location"] == reverse("lti:deep_link")
    page = client.get(response["Location"])
    assert page.status_code == 200
    names = [t.name for t in page.context["catalogue"]]
    assert "lesson:two-styles" in names and "drill:book-hotel" in names
    question = next(t for t in page.context["catalogue"] if t.kind == "question")

    back = client.post(reverse("lti:deep_link"),
                       {"target": ["lesson:two-styles", question.name, "drill:book-hotel"]})
    assert back.status_code == 200
    assert back.context["return_url"] == platform.deep_link_return_url
    assert platform.base_url in back["Content-Security-Policy"].split("form-action")[1]
    tool_key = RSAAlgorithm.from_jwk(
        __import__("json").dumps(platform.tool_jwks["keys"][0]))
    message = jwt.decode(back.context["token"], tool_key, algorithms=["RS256"],
                         audience=platform.issuer)
    assert message["iss"] == platform.client_id
    assert message[
        "https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    items = message[DL + "content_items"]
    assert [i["custom"]["target"] for i in items] == [
        "lesson:two-styles", question.name, "drill:book-hotel"]
    assert all(urlsplit(i["url"]).path == reverse("lti:launch") for i in items)
    # Graded work becomes a graded assignment; a lesson does not.
    assert "lineItem" not in items[0]
    assert items[1]["lineItem"]["scoreMaximum"] == int(question.max_score)
    assert items[1]["lineItem"]["resourceId"] == question.assessment_key
    assert items[2]["lineItem"]["resourceId"] == "d-book-hotel"
    # The placement is done once.
    assert client.post(reverse("lti:deep_link"), {"target": ["home"]}).status_code == 403


def test_placing_nothing_is_a_form_error(client, course, tool_urls, platform):
    launch(client, tool_urls, platform, sub="teacher-1", roles=[INSTRUCTOR],
           message_type="LtiDeepLinkingRequest")
    response = client.post(reverse("lti:deep_link"), {"target": ["no:such"]})
    assert response.status_code == 400 and response.context["error"]


def test_a_learner_cannot_place_activities(client, course, tool_urls, platform):
    response = launch(client, tool_urls, platform, message_type="LtiDeepLinkingRequest")
    assert response.status_code == 403
    assert "instructor" in response.context["problem"]
    assert client.get(reverse("lti:deep_link")).status_code == 403


def test_the_picker_is_closed_without_a_platform_launch(instructor_client, course):
    assert instructor_client.get(reverse("lti:deep_link")).status_code == 403


# Roster ------------------------------------------------------------------------------------


def test_a_launch_puts_the_person_in_the_course_section(client, course, tool_urls, platform):
    launch(client, tool_urls, platform)
    section = Section.objects.get()
    assert section.title == "Distributed Systems 101"
    user = LtiUser.objects.get(sub="learner-1").auth_user
    assert section.learner_ids() == [user.pk]


def test_an_instructor_launch_syncs_the_roster_into_the_section(client, course, tool_urls,
                                                                platform):
    platform.members = [
        member("teacher-1", "Grace Hopper", [INSTRUCTOR]),
        member("learner-1", "Ada Lovelace", [LEARNER]),
        member("learner-2", "Alan Turing", [LEARNER]),
        member("ta-1", "Katherine Johnson", [TEACHING_ASSISTANT]),
        member("gone-1", "Old Member", [LEARNER], status="Inactive"),
    ]
    launch(client, tool_urls, platform, sub="teacher-1", roles=[INSTRUCTOR])
    # The launch only queued the sync: the roster is not read inside the request.
    assert Section.objects.get().memberships.count() == 1
    run_worker()
    section = Section.objects.get()
    roles = {m.user.lti_users.get().sub: m.role for m in section.memberships.all()}
    assert roles == {"teacher-1": SectionMembership.Role.INSTRUCTOR,
                     "learner-1": SectionMembership.Role.LEARNER,
                     "learner-2": SectionMembership.Role.LEARNER,
                     "ta-1": SectionMembership.Role.ASSISTANT}
    turing = LtiUser.objects.get(sub="learner-2").auth_user
    assert (turing.first_name, turing.email) == ("Alan", "alan@example.org")
    assert not turing.has_usable_password()
    assert CourseLink.objects.get().synced_at is not None

    # Someone who left the course leaves the section at the next sync; a launch later finds
    # the account the roster made.
    platform.members = platform.members[:2]
    launch(client, tool_urls, platform, sub="teacher-1", roles=[INSTRUCTOR])
    run_worker()
    assert {m.user.lti_users.get().sub for m in section.memberships.all()} == {
        "teacher-1", "learner-1"}
    client.logout()
    launch(client, tool_urls, platform, sub="learner-2")
    assert LtiUser.objects.get(sub="learner-2").auth_user == turing
    assert not turing.groups.filter(name=INSTRUCTORS).exists()


def test_a_roster_the_platform_will_not_give_leaves_the_section_as_it_was(
        client, course, tool_urls, platform):
    platform.members = [member("learner-2", "Alan Turing", [LEARNER])]
    platform.fail(500, 10)
    launch(client, tool_urls, platform, sub="teacher-1", roles=[INSTRUCTOR])
    run_worker()
    assert Section.objects.get().memberships.count() == 1
    assert "500" in CourseLink.objects.get().last_error


def test_a_failing_roster_is_tried_again_then_synced_from_the_page(
        client, course, tool_urls, platform, settings):
    settings.LTI_PASSBACK_BACKOFF_SECONDS = 0
    settings.LTI_PASSBACK_ATTEMPTS = 2
    platform.members = [member("teacher-1", "Grace Hopper", [INSTRUCTOR]),
                        member("learner-2", "Alan Turing", [LEARNER])]
    platform.fail(500, 10)
    launch(client, tool_urls, platform, sub="teacher-1", roles=[INSTRUCTOR])
    run_worker()  # the second try is due at once here, so one batch runs both
    tries = DBTaskResult.objects.filter(task_path="lti.tasks.sync_roster")
    assert [(r.args_kwargs["args"], r.return_value) for r in tries.order_by("enqueued_at")] == [
        ([link_context()], -1), ([link_context(), 2], -1)]
    link = CourseLink.objects.get()
    assert link.last_error.startswith("Try 2:") and "trying again" not in link.last_error
    assert link.synced_at is None

    page = client.get(reverse("lti:passbacks")).content.decode()
    assert "Course rosters" in page and "Try 2:" in page
    platform.fail(0, 0)
    response = client.post(reverse("lti:sync_roster", args=[link.pk]), follow=True)
    assert "Reading the roster of Distributed Systems 101 again" in response.content.decode()
    run_worker()
    link.refresh_from_db()
    assert link.synced_at is not None and link.last_error == ""
    assert Section.objects.get().memberships.count() == 2


def link_context() -> int:
    return CourseLink.objects.get().context_id


def test_syncing_a_roster_by_role(client, learner, course, tool_urls, platform):
    launch(client, tool_urls, platform, sub="teacher-1", roles=[INSTRUCTOR])
    link = CourseLink.objects.get()
    url = reverse("lti:sync_roster", args=[link.pk])
    assert Client().post(url).status_code == 302  # to the login page
    learner_client = Client()
    learner_client.force_login(learner)
    assert learner_client.post(url).status_code == 403
    assert client.post(url).status_code == 302
    assert client.post(reverse("lti:sync_roster", args=[999])).status_code == 404
    assert client.get(url).status_code == 405
