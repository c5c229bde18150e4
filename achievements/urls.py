from django.urls import path

from achievements import views

urlpatterns = [
    path("achievements/", views.index, name="achievements"),
    path("achievements/mine/", views.mine, name="my_achievements"),
    path("achievements/people/<int:user_id>/", views.person, name="person_achievements"),
    path("achievements/art/<slug:key>/<int:level>.svg", views.art, name="achievement_art"),
    path("dashboard/improve/", views.improve, name="improve"),
]
