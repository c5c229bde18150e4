"""Top-level URLs: each app brings its own."""

from django.contrib import admin
from django.urls import include, path

from klout import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("networks.urls")),
    path("", include("scoring.urls")),
    path("", include("scoring.staff_urls")),
    # achievements (issue 17)
    path("", include("achievements.urls")),
]
