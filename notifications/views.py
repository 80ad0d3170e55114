from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from notifications import services
from notifications.forms import PreferencesForm


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    current = services.preferences_of(request.user)
    form = PreferencesForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.save_preferences(user=request.user, choices=form.cleaned_data)
        messages.success(request, "Your e-mail settings are saved.")
        return redirect("notifications:preferences")
    is_instructor = request.user.groups.filter(name="Instructors").exists()
    if not is_instructor:
        form.fields.pop("regrade_requested")
    return render(request, "notifications/preferences.html", {
        "form": form, "email": getattr(request.user, "email", ""),
    })
