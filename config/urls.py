from django.contrib import admin
from django.urls import include, path

from config.health import healthz, readyz
from courseware import views as courseware_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("favicon.ico", courseware_views.favicon),
    path("", include("courseware.urls")),
    path("accounts/", include("accounts.urls")),
    path("drills/", include("drills.urls")),
    path("simulator/", include("simulator.urls")),
    path("grading/", include("grading.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "courseware.views.permission_denied"
handler404 = "courseware.views.page_not_found"
handler400 = "config.faults.bad_request"
handler500 = "config.faults.server_error"
