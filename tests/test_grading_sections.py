"""The queue, gradebook and exports by section; the deadlines page; who may see and do what."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courseware.models import Course, Section, SectionMembership
from courseware.services import enroll
from grading import services
from grading.assessments import from_question
from grading.models import DueDate, Extension, Submission
from tests.grading_factories import make_question, make_submission

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))


@pytest.fixture
def cohorts(learner, other_learner, make_user, instructor):
    """ada in Spring A, grace in Spring B, lin in no section; the instructor teaches Spring A."""
    course = Course.objects.create(slug="sections-course", title="Course")
    spring_a = Section.objects.create(course=course, slug="spring-a", title="Spring A")
    spring_b = Section.objects.create(course=course, slug="spring-b", title="Spring B")
    lone = make_user("lin")
    enroll(section=spring_a, user=learner)
    enroll(section=spring_b, user=other_learner)
    enroll(section=spring_a, user=instructor, role=SectionMembership.Role.INSTRUCTOR)
    question = make_question()
    for person in (learner, other_learner, lone):
        make_submission(person, question)
    return spring_a, spring_b, question


def usernames(submissions) -> set[str]:
    return {s.learner.username for s in submissions}


def test_the_queue_filters_by_section(cohorts, instructor_client):
    response = instructor_client.get(reverse("grading:queue"), {"section": "spring-a"})
    assert usernames(response.context["page"].object_list) == {"ada"}
    everyone = instructor_client.get(reverse("grading:queue"))
    assert usernames(everyone.context["page"].object_list) == {"ada", "grace", "lin"}


def test_an_unknown_section_in_the_queue_is_reported_not_applied_silently(cohorts,
                                                                          instructor_client):
    response = instructor_client.get(reverse("grading:queue"), {"section": "nowhere"})
    assert response.status_code == 200
    assert "There is no section “nowhere”" in response.content.decode()


def test_the_htmx_queue_keeps_the_section_in_its_links(cohorts, instructor_client):
    response = instructor_client.get(
        reverse("grading:queue"), {"section": "spring-a"}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="queue-results",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue-results"')
    assert "section=spring-a" in html


def test_submissions_csv_by_section_and_a_bad_section_is_a_400(cohorts, instructor_client):
    url = reverse("grading:submissions_csv")
    header, *rows = read_csv(instructor_client.get(url, {"section": "spring-b"}))
    assert [row[header.index("username")] for row in rows] == ["grace"]
    bad = instructor_client.get(url, {"section": "nowhere"})
    assert bad.status_code == 400 and "nowhere" in bad.content.decode()


def test_the_gradebook_by_section_shows_its_learners_and_its_roster(cohorts, instructor_client):
    response = instructor_client.get(reverse("grading:gradebook"), {"section": "spring-a"})
    assert [row.username for row in response.context["page"].object_list] == ["ada"]
    html = response.content.decode()
    assert "Roster of Spring A" in html
    roster = {(m.user.username, m.role) for m in response.context["roster"]}
    assert roster == {("ada", "learner"), ("teach", "instructor")}
    assert "section=spring-a" in html  # sort links and exports keep the section
    everyone = instructor_client.get(reverse("grading:gradebook"))
    assert [row.username for row in everyone.context["page"].object_list] == ["ada", "grace",
                                                                              "lin"]


def test_the_gradebook_htmx_table_keeps_the_section(cohorts, instructor_client):
    response = instructor_client.get(reverse("grading:gradebook"),
                                     {"section": "spring-b", "sort": "-name"},
                                     HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="gradebook-table"')
    assert "grace" in html and "ada" not in html


def test_gradebook_csv_by_section(cohorts, instructor_client):
    response = instructor_client.get(reverse("grading:gradebook_csv"), {"section": "spring-b"})
    assert 'filename="gradebook-spring-b.csv"' in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert [row[0] for row in rows] == ["grace"]


@pytest.mark.parametrize("query", [{"section": "nowhere"}, {"learner": "ada"}])
def test_gradebook_and_its_csv_refuse_bad_filters(cohorts, instructor_client, query):
    assert instructor_client.get(reverse("grading:gradebook_csv"), query).status_code == 400
    if "section" in query:
        page = instructor_client.get(reverse("grading:gradebook"), query)
        assert page.status_code == 400 and "no section" in page.content.decode()


@pytest.mark.parametrize("name", ["grading:gradebook", "grading:gradebook_csv",
                                  "grading:queue", "grading:deadlines",
                                  "grading:scheduled_releases"])
def test_section_pages_by_role(cohorts, client, learner, instructor, name):
    url = reverse(name)
    query = {"section": "spring-a"} if name != "grading:deadlines" else {}
    anonymous = client.get(url, query)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    client.force_login(learner)
    assert client.get(url, query).status_code == 403
    client.force_login(instructor)
    assert client.get(url, query).status_code == 200


# The deadlines page ---------------------------------------------------------------------------


def when(days: int) -> str:
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_instructor_sets_a_due_date_and_an_extension(cohorts, instructor_client, learner):
    _, _, question = cohorts
    url = reverse("grading:deadlines")
    response = instructor_client.post(url, {
        "form": "due", "section": "spring-a", "assessment": f"q-{question.slug}",
        "due_at": when(-2), "penalty_per_day": "10", "penalty_cap": "30",
    }, follow=True)
    assert response.status_code == 200 and "is due for Spring A" in response.content.decode()
    due = DueDate.objects.get()
    assert (due.section.slug, due.question, due.penalty_per_day, due.penalty_cap) == (
        "spring-a", question, 10, 30
    )
    response = instructor_client.post(url, {
        "form": "extension", "learner": "ada", "assessment": f"q-{question.slug}",
        "due_at": when(3), "reason": "Away",
    }, follow=True)
    assert "ada now has until" in response.content.decode()
    assert Extension.objects.get().learner == learner
    page = instructor_client.get(url).content.decode()
    assert "Spring A" in page and "10% a day, at most 30%" in page and "Away" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"penalty_per_day": "150"}, "a percent from 0 to 100"),
    ({"penalty_cap": "-1"}, "a percent from 0 to 100"),
    ({"section": "nowhere"}, "There is no section"),
    ({"assessment": "q-nothing"}, "does not exist"),
    ({"due_at": "soon"}, "YYYY-MM-DD"),
])
def test_bad_due_dates_are_refused_with_the_form_kept(cohorts, instructor_client, data, message):
    _, _, question = cohorts
    post = {"form": "due", "section": "spring-a", "assessment": f"q-{question.slug}",
            "due_at": when(1), "penalty_per_day": "5", "penalty_cap": "50", **data}
    response = instructor_client.post(reverse("grading:deadlines"), post)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not DueDate.objects.exists()


def test_an_extension_for_nobody_is_refused(cohorts, instructor_client):
    _, _, question = cohorts
    response = instructor_client.post(reverse("grading:deadlines"), {
        "form": "extension", "learner": "nobody", "assessment": f"q-{question.slug}",
        "due_at": when(1),
    })
    assert response.status_code == 422 and "No learner is called" in response.content.decode()
    assert not Extension.objects.exists()


def test_removing_due_dates_and_extensions(cohorts, instructor_client, instructor, learner):
    spring_a, _, question = cohorts
    assessment = from_question(question)
    due = services.set_due_date(section=spring_a, assessment=assessment,
                                due_at=timezone.now(), by=instructor)
    extension = services.grant_extension(learner=learner, assessment=assessment,
                                         due_at=timezone.now(), by=instructor)
    instructor_client.post(reverse("grading:remove_due_date", args=[due.pk]))
    instructor_client.post(reverse("grading:revoke_extension", args=[extension.pk]))
    assert not DueDate.objects.exists() and not Extension.objects.exists()
    assert instructor_client.post(
        reverse("grading:remove_due_date", args=[due.pk])
    ).status_code == 404


def test_deadline_writes_by_role(cohorts, client, learner, instructor):
    spring_a, _, question = cohorts
    due = services.set_due_date(section=spring_a, assessment=from_question(question),
                                due_at=timezone.now(), by=instructor)
    post = {"form": "due", "section": "spring-a", "assessment": f"q-{question.slug}",
            "due_at": when(1), "penalty_per_day": "5", "penalty_cap": "50"}
    for url, data in ((reverse("grading:deadlines"), post),
                      (reverse("grading:remove_due_date", args=[due.pk]), {})):
        client.logout()
        assert client.post(url, data).status_code == 302
        client.force_login(learner)
        assert client.post(url, data).status_code == 403
    due.refresh_from_db()
    assert due.penalty_per_day == 0


def test_late_work_is_marked_in_the_queue_and_on_the_grading_page(cohorts, instructor_client,
                                                                  instructor):
    spring_a, _, question = cohorts
    services.set_due_date(section=spring_a, assessment=from_question(question),
                          due_at=timezone.now() - timedelta(days=1, hours=2),
                          penalty_per_day=Decimal(10), by=instructor)
    queue = instructor_client.get(reverse("grading:queue"), {"section": "spring-a"})
    assert "Late −20%" in queue.content.decode()
    late = Submission.objects.get(learner__username="ada")
    page = instructor_client.get(reverse("grading:grade", args=[late.pk])).content.decode()
    assert "Late penalty: 20% off" in page and "1 d 1 h late" in page
    grace = Submission.objects.get(learner__username="grace")  # no due date in Spring B
    assert "Late penalty" not in instructor_client.get(
        reverse("grading:grade", args=[grace.pk])
    ).content.decode()


def test_admin_lists_due_dates_and_keeps_scheduled_releases_read_only(cohorts, client,
                                                                      instructor, learner):
    spring_a, _, question = cohorts
    services.set_due_date(section=spring_a, assessment=from_question(question),
                          due_at=timezone.now(), by=instructor)
    instructor.is_staff = True
    instructor.save()
    client.force_login(instructor)
    page = client.get("/admin/grading/duedate/")
    assert page.status_code == 200 and "Spring A" in page.content.decode()
    assert client.get("/admin/grading/extension/").status_code == 200
    assert client.get("/admin/grading/scheduledrelease/").status_code == 200
    assert client.get("/admin/grading/scheduledrelease/add/").status_code == 403


def test_queue_counts_and_release_all_keep_to_the_chosen_section(cohorts, instructor_client,
                                                                 instructor):
    spring_a, _, question = cohorts
    for submission in Submission.objects.filter(question=question):
        services.save_grade(submission=submission, grader=instructor, score=Decimal(5),
                            criteria=[], feedback="", expected_version=0)
    page = instructor_client.get(reverse("grading:queue"),
                                 {"section": "spring-a", "status": "all"}).content.decode()
    assert "1 draft<" in page and "3 drafts" not in page
    assert "Release 1 draft…" in page and "section=spring-a" in page
    everyone = instructor_client.get(reverse("grading:queue"), {"status": "all"}).content
    assert b"3 drafts" in everyone

    key = from_question(question).key
    confirm = instructor_client.get(reverse("grading:release_all"),
                                    {"assessment": key, "section": "spring-a"}).content.decode()
    assert "Release 1 draft grade of" in confirm and "in Spring A?" in confirm
    grade = Submission.objects.get(question=question, learner__username="ada").grade
    response = instructor_client.post(
        f"{reverse('grading:release_all')}?section=spring-a",
        {"assessment": key, "confirm": "yes", "grade": f"{grade.pk}:{grade.version}"},
        follow=True)
    text = response.content.decode()
    assert "Released 1 grade" in text and "saved after you confirmed" not in text
    released = Submission.objects.filter(question=question, grade__released=True)
    assert usernames(released) == {"ada"}
