"""The course fixture's copy of a load stands for a real ``load_course`` (tests/course_copy.py)."""

import io

import pytest
from django.core.management import call_command
from django.db import models

from courseware.models import ContentSource, Course, Lesson
from courseware.versioning import content_version
from tests import course_copy

# A drill's digest covers the keys of the rows it links to, which differ from load to load on
# PostgreSQL; the load after the copy checks that the copied digests fit the copied rows.
KEYED = {(ContentSource, "digest")}


def content(model: type[models.Model]) -> list[tuple]:
    """A table's rows without their keys, timestamps or references by key, in a stable order."""
    fields = [
        field.attname for field in model._meta.concrete_fields
        if not field.primary_key and not field.is_relation and (model, field.name) not in KEYED
        and not getattr(field, "auto_now", False) and not getattr(field, "auto_now_add", False)
    ]
    return sorted(
        model._base_manager.values_list(*fields) if fields else [()] * model._base_manager.count(),
        key=repr,
    )


def references(model: type[models.Model]) -> list[tuple]:
    """Each row's references, followed to the referenced rows' slugs or names, so two loads
    with different keys compare equal when they link the same things."""
    relations = [field for field in model._meta.concrete_fields if field.is_relation]
    shown = []
    for row in model._base_manager.all():
        shown.append(tuple(str(getattr(row, field.name)) for field in relations))
    return sorted(shown)


def snapshot(models_: list[type[models.Model]]) -> dict[str, tuple[list, list]]:
    return {model._meta.label: (content(model), references(model)) for model in models_}


def test_a_copy_is_taken_and_holds_the_whole_course(loaded_course):
    assert loaded_course is not None
    assert Course in loaded_course.rows and Lesson in loaded_course.rows
    assert len(loaded_course.rows[Lesson]) > 5


def test_the_copy_leaves_what_a_real_load_leaves(db, loaded_course):
    assert loaded_course is not None
    tables = list(loaded_course.rows)
    call_command("load_course", stdout=io.StringIO())
    loaded = snapshot(tables)
    for model in reversed(tables):
        model._base_manager.all().delete()

    course_copy.load_course(loaded_course)

    assert snapshot(tables) == loaded
    # Nothing is left to change: a load after the copy finds the course up to date.
    out = io.StringIO()
    call_command("load_course", stdout=out)
    assert "Course is up to date; nothing changed." in out.getvalue()


def test_the_copy_gives_a_new_content_version(db, loaded_course):
    before = content_version()
    course_copy.load_course(loaded_course)
    assert content_version() != before


def test_rows_made_after_the_copy_get_keys_of_their_own(db, loaded_course):
    course_copy.load_course(loaded_course)
    highest = Course.objects.order_by("-pk").values_list("pk", flat=True).first()
    made = Course.objects.create(slug="after-the-copy", title="After")
    assert highest is not None and made.pk > highest


def test_over_existing_content_the_real_load_runs(db, loaded_course):
    Course.objects.create(slug="already-here", title="Already here")
    assert loaded_course is not None and not loaded_course.fits()
    course_copy.load_course(loaded_course)
    assert Lesson.objects.count() == len(loaded_course.rows[Lesson])
    assert Course.objects.filter(slug="already-here").exists()


@pytest.mark.django_db(transaction=True)
def test_the_copy_commits_in_a_transactional_test(loaded_course):
    course_copy.load_course(loaded_course)
    assert Lesson.objects.count() == len(loaded_course.rows[Lesson])
