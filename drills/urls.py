from django.urls import path

from drills import views

app_name = "drills"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    # Before the drill pages, so that no drill slug can shadow it.
    path("own/", views.own_workflow, name="own_workflow"),
    path("own/hand-in/", views.own_hand_in, name="own_hand_in"),
    path("own/rows/", views.own_update, name="own_update"),
    path("own/rows/add/", views.own_add_row, name="own_add_row"),
    path("own/preview/", views.own_preview, name="own_preview"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/submit/", views.submit, name="submit"),
    path("<slug:slug>/design/", views.design, name="design"),
    path("<slug:slug>/attempts/", views.history, name="history"),
    path("<slug:slug>/attempts/<int:pk>/", views.attempt, name="attempt"),
]
