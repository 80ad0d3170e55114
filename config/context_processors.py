from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def is_instructor(user) -> bool:
    """Whether the user may grade (settings.INSTRUCTOR_PERMISSION): what has_perm would say,
    asked in one query rather than by loading every permission the user has, since the
    navigation asks it on every page."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    app_label, codename = settings.INSTRUCTOR_PERMISSION.split(".", 1)
    return (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )


def roles(request: HttpRequest) -> dict:
    # Lazy: fragments that never show the navigation do not pay for the query.
    return {"is_instructor": SimpleLazyObject(lambda: is_instructor(request.user))}
