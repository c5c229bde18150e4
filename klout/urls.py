"""Top-level URLs: each app brings its own."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from klout import views

# Staff sign in through allauth like everyone else (MFA and rate limits included): the admin's
# own password form would skip both.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("networks.urls")),
    path("", include("scoring.urls")),
    path("", include("scoring.staff_urls")),
    # achievements (issue 17)
    path("", include("achievements.urls")),
    path("", include("perks.urls")),  # perks and the brand dashboard
    # topics, +K and public person profiles (issue 14)
    path("", include("scoring.topic_urls")),
    # --- public API (issue 15): legacy Klout paths at the root, the modern API under /api/ ---
    path("", include("klout.api_urls")),
]
