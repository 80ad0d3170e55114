"""The loaded course, taken once per test session and copied into each test's database.

Loading the course parses every content file and saves each row through the ORM, over a second
of CPU each time; the tests that only need the course present get a copy of the rows a real
load made, inserted in bulk. The tests of the loaders themselves still run ``load_course``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction

from courseware.versioning import bump_content_version


@dataclass
class CourseCopy:
    """The rows ``load_course`` added to an empty database, table by table."""

    rows: dict[type[models.Model], list[dict[str, Any]]]

    def fits(self) -> bool:
        """A copy stands for a load only into tables the course has not reached yet: a load
        over existing content would update or keep rows, which a copy cannot."""
        return not any(model._base_manager.exists() for model in self.rows)

    def insert(self) -> None:
        with transaction.atomic():
            for model, rows in self.rows.items():
                model._base_manager.bulk_create([model(**row) for row in rows])
            # Explicit keys leave PostgreSQL's sequences where they were: set them past the
            # copied rows, as loaddata does.
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), list(self.rows)):
                    cursor.execute(sql)
        bump_content_version()


def tables() -> list[type[models.Model]]:
    return [
        model for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


def all_rows(model: type[models.Model]) -> dict[Any, dict[str, Any]]:
    fields = [field.attname for field in model._meta.concrete_fields]
    pk = model._meta.pk
    assert pk is not None
    return {row[pk.attname]: row for row in model._base_manager.order_by("pk").values(*fields)}


def take() -> CourseCopy | None:
    """Loads the course in a transaction that is rolled back, and keeps the rows it added.

    None where the load changed or removed a row that was there before it (a copy of the
    added rows would not stand for it), or where a table with added rows cannot be filled in
    bulk (multi-table inheritance).
    """
    with transaction.atomic():
        models_ = tables()
        before = {model: all_rows(model) for model in models_}
        call_command("load_course", stdout=io.StringIO())
        added: dict[type[models.Model], list[dict[str, Any]]] = {}
        usable = True
        for model in models_:
            after = all_rows(model)
            if any(after.get(pk) != row for pk, row in before[model].items()):
                usable = False
            new = [row for pk, row in after.items() if pk not in before[model]]
            if new:
                if model._meta.parents:
                    usable = False
                added[model] = new
        transaction.set_rollback(True)
    return CourseCopy(added) if usable else None


def load_course(copy: CourseCopy | None) -> None:
    """What ``call_command("load_course")`` leaves in the database, from the copy where it
    fits, else from a real load."""
    if copy is not None and copy.fits():
        copy.insert()
    else:
        call_command("load_course", stdout=io.StringIO())
