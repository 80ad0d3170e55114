from django.urls import path

from simulator import views

app_name = "simulator"

urlpatterns = [
    path("", views.calculator, name="calculator"),
]
