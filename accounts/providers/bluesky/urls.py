from django.urls import path

from accounts.providers.bluesky import views

urlpatterns = [
    path("bluesky/login/", views.login, name="bluesky_login"),
    path("bluesky/authenticate/", views.authenticate, name="bluesky_authenticate"),
]
