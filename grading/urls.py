from django.urls import path

from grading import deadline_views, views

app_name = "grading"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("claim/", views.claim_next, name="claim_next"),
    path("submissions/<int:pk>/", views.grade, name="grade"),
    path("submissions/<int:pk>/let-go/", views.let_go, name="let_go"),
    path("submissions/<int:pk>/release/", views.release, name="release"),
    path("submissions/<int:pk>/correct/", views.correct, name="correct"),
    path("submissions/<int:pk>/snippets/", views.add_snippet, name="add_snippet"),
    path(
        "submissions/<int:pk>/snippets/<int:snippet_pk>/delete/",
        views.delete_snippet,
        name="delete_snippet",
    ),
    path("release/", views.release_all, name="release_all"),
    path("rubrics/<slug:slug>/", views.rubric, name="rubric"),
    path("rubrics/<slug:slug>/options/", views.grading_options, name="grading_options"),
    path("release/schedule/", deadline_views.schedule_release_all, name="schedule_release_all"),
    path("submissions/<int:pk>/schedule/", deadline_views.schedule_release,
         name="schedule_release"),
    path("scheduled/", deadline_views.scheduled_releases, name="scheduled_releases"),
    path("scheduled/<int:pk>/cancel/", deadline_views.cancel_release, name="cancel_release"),
    path("deadlines/", deadline_views.deadlines, name="deadlines"),
    path("deadlines/due/<int:pk>/delete/", deadline_views.remove_due_date,
         name="remove_due_date"),
    path("deadlines/extensions/<int:pk>/delete/", deadline_views.revoke_extension,
         name="revoke_extension"),
    path("submissions.csv", views.submissions_csv, name="submissions_csv"),
    path("gradebook/", views.gradebook, name="gradebook"),
    path("gradebook/export.csv", views.gradebook_csv, name="gradebook_csv"),
    path("gradebook/statistics/", views.statistics, name="statistics"),
    path("mine/", views.my_submissions, name="my_submissions"),
    path("mine/<int:pk>/", views.my_submission, name="my_submission"),
    path("mine/<int:pk>/regrade/", views.request_regrade, name="request_regrade"),
]
