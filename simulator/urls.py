from django.urls import path

from simulator import views

app_name = "simulator"

urlpatterns = [
    path("", views.calculator, name="calculator"),
    path("api/chain", views.api_chain, name="api_chain"),
    path("api/fanout", views.api_fanout, name="api_fanout"),
]
