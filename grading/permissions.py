"""Who may do what in grading, checked by permission rather than by staff status."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from config.http import HtmxHttpRequest

GRADE = ("grading.grade_submission", "grading.view_all_submissions")
RELEASE = (*GRADE, "grading.release_grade")
GRADEBOOK = ("grading.view_all_submissions",)

DENIED = (
    "Grading is open to instructors only. Your own submissions and grades are under "
    "My submissions."
)


def perms_required(perms: tuple[str, ...]) -> Callable:
    """Send visitors to log in, and refuse signed-in users who lack ``perms`` with a 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.htmx:
                    login = resolve_url("login")
                    return HttpResponseClientRedirect(
                        f"{login}?{urlencode({'next': request.get_full_path()})}"
                    )
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perms(perms):
                raise PermissionDenied(DENIED)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
