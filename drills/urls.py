from django.urls import path

from drills import views

app_name = "drills"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    # Before the drill pages, so that no drill slug can shadow it.
    path("own/", views.own_workflow, name="own_workflow"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/submit/", views.submit, name="submit"),
    path("<slug:slug>/attempts/", views.history, name="history"),
    path("<slug:slug>/attempts/<int:pk>/", views.attempt, name="attempt"),
]
