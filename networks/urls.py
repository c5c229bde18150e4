"""Personal imports and sync state."""

from django.urls import path

from networks import views

urlpatterns = [
    path("settings/import/", views.import_archive, name="import_archive"),
    path("settings/import/<int:run_id>/", views.import_run, name="import_run"),
    path("settings/sync/<int:account_id>/", views.sync_state, name="sync_state"),
]
