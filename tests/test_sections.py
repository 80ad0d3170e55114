"""Sections: cohorts of learners in a course, kept to one section per learner and course."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from courseware.models import Course, Section, SectionMembership
from courseware.services import enroll, unenroll


@pytest.fixture
def a_course(db):
    return Course.objects.create(slug="sections-course", title="Course")


@pytest.fixture
def two_sections(a_course):
    return (
        Section.objects.create(course=a_course, slug="spring-a", title="Spring A"),
        Section.objects.create(course=a_course, slug="spring-b", title="Spring B"),
    )


def test_a_learner_is_in_one_section_per_course_in_the_database(two_sections, learner):
    first, second = two_sections
    SectionMembership.objects.create(section=first, user=learner)
    with pytest.raises(IntegrityError), transaction.atomic():
        SectionMembership.objects.create(section=second, user=learner)


def test_the_one_section_rule_is_a_validation_error_for_forms(two_sections, learner):
    first, second = two_sections
    SectionMembership.objects.create(section=first, user=learner)
    membership = SectionMembership(section=second, user=learner)
    with pytest.raises(ValidationError, match="at most one section"):
        membership.full_clean(exclude=["course"])


def test_instructors_may_be_listed_in_many_sections(two_sections, instructor):
    for section in two_sections:
        enroll(section=section, user=instructor, role=SectionMembership.Role.INSTRUCTOR)
    assert SectionMembership.objects.filter(user=instructor).count() == 2


def test_enrolling_moves_a_learner_and_repeating_it_changes_nothing(two_sections, learner):
    first, second = two_sections
    enroll(section=first, user=learner)
    enroll(section=second, user=learner)
    enroll(section=second, user=learner)
    assert list(Section.objects.with_learner(learner)) == [second]
    assert second.learner_ids() == [learner.pk]
    assert first.learner_ids() == []


def test_sections_of_another_course_are_separate(two_sections, learner):
    other = Course.objects.create(slug="other-course", title="Other")
    elsewhere = Section.objects.create(course=other, slug="spring-a", title="Other A")
    enroll(section=two_sections[0], user=learner)
    enroll(section=elsewhere, user=learner)
    assert set(Section.objects.with_learner(learner)) == {two_sections[0], elsewhere}


def test_unenroll(two_sections, learner):
    enroll(section=two_sections[0], user=learner)
    assert unenroll(section=two_sections[0], user=learner) is True
    assert unenroll(section=two_sections[0], user=learner) is False


def test_slugs_are_unique_within_a_course(two_sections, a_course):
    with pytest.raises(IntegrityError), transaction.atomic():
        Section.objects.create(course=a_course, slug="spring-a", title="Again")


def test_admin_section_pages_by_role(client, two_sections, learner, instructor):
    url = "/admin/courseware/section/"
    assert client.get(url).status_code == 302
    client.force_login(learner)
    assert client.get(url).status_code == 302
    instructor.is_staff = True
    instructor.save()
    client.force_login(instructor)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Spring A" in response.content
    change = client.get(f"/admin/courseware/section/{two_sections[0].pk}/change/")
    assert change.status_code == 200
