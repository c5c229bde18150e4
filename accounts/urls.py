from django.urls import path

from accounts import developer_views, views

urlpatterns = [
    path("settings/accounts/", views.linked_accounts, name="linked_accounts"),
    path("settings/accounts/<int:account_id>/unlink/", views.unlink_account, name="unlink_account"),
    path("settings/privacy/", views.privacy, name="privacy"),
    path("settings/privacy/opt-out/", views.opt_out, name="opt_out"),
    path("settings/privacy/export/", views.start_export, name="start_export"),
    path("settings/privacy/export/<int:job_id>/", views.export_status, name="export_status"),
    path(
        "settings/privacy/export/<int:job_id>/download/",
        views.export_download,
        name="export_download",
    ),
    path("settings/privacy/delete/", views.delete_account, name="delete_account"),
    path("opt-out/", views.opt_out_public, name="opt_out_public"),
    path("opt-out/confirm/", views.opt_out_proven, name="opt_out_proven"),
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
    path("settings/location/", views.location_settings, name="location_settings"),
    path("settings/time-zone/", views.time_zone_settings, name="time_zone_settings"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # --- API keys (issue 15) ---
    path("developers/", developer_views.developers, name="developers"),
    path("developers/keys/<int:key_id>/rotate/", developer_views.rotate_key, name="rotate_key"),
    path("developers/keys/<int:key_id>/revoke/", developer_views.revoke_key, name="revoke_key"),
    path("developers/keys/<int:key_id>/rename/", developer_views.rename_key, name="rename_key"),
]
