from django.urls import path

from accounts import views

urlpatterns = [
    path("settings/accounts/", views.linked_accounts, name="linked_accounts"),
]
