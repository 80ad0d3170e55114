from django.contrib import admin
from django.urls import include, path

from config import views
from config.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("favicon.ico", views.favicon),
    path("", include("courseware.urls")),
    path("accounts/", include("accounts.urls")),
    path("drills/", include("drills.urls")),
    path("simulator/", include("simulator.urls")),
    path("grading/", include("grading.urls")),
    path("lti/", include("lti.urls")),
    path("notifications/", include("notifications.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "config.faults.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.faults.server_error"
