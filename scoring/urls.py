from django.urls import path

from scoring import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("search/", views.search, name="search"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("about/", views.about, name="about"),
]
