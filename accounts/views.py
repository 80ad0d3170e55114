from django.contrib.auth import login
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.forms import SignupForm
from config.faults import throttle


def safe_next(request: HttpRequest, fallback: str = "courseware:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def redirect_to_next(request: HttpRequest) -> HttpResponseRedirect:
    # Not redirect(): it would look a bare word such as ?next=sync up as a view name and fail.
    return HttpResponseRedirect(safe_next(request, "") or reverse("courseware:home"))


@require_http_methods(["GET", "HEAD", "POST"])
@throttle("signup", rate_setting="SIGNUP_RATE", message="Too many sign-ups from your address.")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect_to_next(request)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:
            # Someone took the name between the form's check and the insert.
            form.add_error("username", "A user with that username already exists.")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect_to_next(request)
    return render(
        request, "registration/signup.html", {"form": form, "next": safe_next(request, "")}
    )
