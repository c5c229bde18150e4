from django.urls import path

from accounts.providers.mastodon import views

urlpatterns = [
    path("mastodon/login/", views.login, name="mastodon_login"),
    path("mastodon/login/callback/", views.callback, name="mastodon_callback"),
]
