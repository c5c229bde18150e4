from django.urls import path

from scoring import topic_views

urlpatterns = [
    path("p/<str:ref>/", topic_views.person, name="person"),
    path("topics/", topic_views.topics, name="topics"),
    path("topics/<path:slug>/", topic_views.topic_detail, name="topic_detail"),
    path("plusk/give/", topic_views.give, name="give_plus_k"),
    path("plusk/<int:plus_k_id>/take-back/", topic_views.take_back, name="take_back_plus_k"),
    path("plusk/", topic_views.plus_k_history, name="plus_k_history"),
    path("me/topics/", topic_views.choose_topic, name="choose_topic"),
    path("me/profile-address/", topic_views.profile_address, name="profile_address"),
]
