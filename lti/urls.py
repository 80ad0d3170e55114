from django.urls import path

from lti import deep_linking, views

app_name = "lti"

urlpatterns = [
    path("jwks.json", views.jwks, name="jwks"),
    path("login/<uuid:registration_uuid>/", views.login_initiation, name="login"),
    path("launch/", views.launch, name="launch"),
    path("deep-link/", deep_linking.pick, name="deep_link"),
    path("passbacks/", views.passbacks, name="passbacks"),
    path("passbacks/<int:pk>/retry/", views.retry_passback, name="retry_passback"),
    path("rosters/<int:pk>/sync/", views.sync_roster, name="sync_roster"),
]
