from django.urls import path

from scoring import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("u/<str:network>/<str:handle>", views.profile, name="profile"),
    path("u/<str:network>/id/<int:account_id>", views.profile_by_id, name="profile_by_id"),
    path("search/", views.search, name="search"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("leaderboard/<str:network>/", views.leaderboard, name="leaderboard_network"),
    path("badge/<str:network>/<str:handle>.svg", views.badge, name="badge"),
    path("about/", views.about, name="about"),
]
