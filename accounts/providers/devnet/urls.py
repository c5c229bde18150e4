from django.urls import path

from accounts.providers.devnet import views

urlpatterns = [
    path("devnet/login/", views.login, name="devnet_login"),
    path("devnet/authenticate/", views.authenticate, name="devnet_authenticate"),
]
