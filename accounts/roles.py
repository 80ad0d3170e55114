"""The Instructors group and what it may do, kept in step with every migration.

Each app says which of its own permissions instructors get, as ``instructor_permissions`` on
its AppConfig (codenames of that app's models), so this module names no other app.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

INSTRUCTORS = "Instructors"


def instructor_permissions() -> Q:
    wanted = Q(pk__in=[])
    for config in apps.get_app_configs():
        codenames = getattr(config, "instructor_permissions", ())
        if codenames:
            wanted |= Q(content_type__app_label=config.label, codename__in=codenames)
    return wanted


def ensure_instructor_group(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    group.permissions.add(*Permission.objects.filter(instructor_permissions()))
    return group
