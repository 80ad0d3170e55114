from django.urls import path

from simulator import outage_views, path_views, views

app_name = "simulator"

urlpatterns = [
    path("", views.calculator, name="calculator"),
    path("api/chain", views.api_chain, name="api_chain"),
    path("api/fanout", views.api_fanout, name="api_fanout"),
    path("path/", path_views.path, name="path"),
    path("outage/", outage_views.lab, name="outage"),
    path("api/outage", outage_views.api_outage, name="api_outage"),
    path("api/slowdown", outage_views.api_slowdown, name="api_slowdown"),
]
