from django.urls import path

from scoring import staff_views

urlpatterns = [
    path("staff/runs/", staff_views.staff_runs, name="staff_runs"),
    path(
        "staff/runs/<int:run_id>/<str:action>/",
        staff_views.staff_run_decide,
        name="staff_run_decide",
    ),
]
