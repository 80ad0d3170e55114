from django.urls import path

from courseware import checkpoint_views, review_views, views

app_name = "courseware"

urlpatterns = [
    path("", views.home, name="home"),
    path("lessons/<slug:slug>/", views.lesson, name="lesson"),
    path("lessons/<slug:slug>/figures/<slug:name>/", views.figure, name="figure"),
    path("lessons/<slug:slug>/complete/", views.complete_lesson, name="complete_lesson"),
    path("questions/<slug:slug>/answer/", views.answer_question, name="answer_question"),
    path("quick-checks/<slug:slug>/", views.check_quick_check, name="check_quick_check"),
    path("problems/<slug:slug>/answer/", views.answer_problem, name="answer_problem"),
    path("problems/<slug:slug>/new-numbers/", views.new_problem_numbers,
         name="new_problem_numbers"),
    path("checkpoint/", checkpoint_views.checkpoint_home, name="checkpoint"),
    path("checkpoint/start/", checkpoint_views.start_checkpoint, name="start_checkpoint"),
    path("checkpoint/<int:pk>/", checkpoint_views.checkpoint_item, name="checkpoint_item"),
    path("checkpoint/<int:pk>/items/<int:position>/", checkpoint_views.answer_checkpoint,
         name="answer_checkpoint"),
    path("review/", review_views.review_home, name="review"),
    path("review/<int:pk>/", review_views.review_card, name="review_card"),
    path("review/<int:pk>/answer/", review_views.answer_card, name="answer_card"),
]
