from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.roles import INSTRUCTORS
from notifications import services
from notifications.forms import PreferencesForm


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=services.preferences_of(request.user))
    if not request.user.groups.filter(name=INSTRUCTORS).exists():
        # Only instructors are told about regrade requests.
        form.fields.pop("regrade_requested")
    if request.method == "POST" and form.is_valid():
        services.save_preferences(user=request.user, choices=form.cleaned_data)
        messages.success(request, "Your e-mail settings are saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {
        "form": form, "email": getattr(request.user, "email", ""),
    })
