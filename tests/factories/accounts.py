"""Factories for people."""

from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import ProviderCredential, User


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Users made by the factory have a verified primary e-mail unless verified=False."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class ProviderCredentialFactory(factory.django.DjangoModelFactory[ProviderCredential]):
    """A working credential whose access token expires in five minutes."""

    class Meta:
        model = ProviderCredential

    user = factory.SubFactory(UserFactory)
    provider = "github"
    uid = factory.Sequence(lambda n: f"uid{n}")
    access_token_enc = factory.LazyFunction(lambda: encrypt_token("old-access"))
    refresh_token_enc = factory.LazyFunction(lambda: encrypt_token("old-refresh"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(minutes=5))


class SocialAccountFactory(factory.django.DjangoModelFactory[SocialAccount]):
    class Meta:
        model = SocialAccount

    user = factory.SubFactory(UserFactory)
    provider = "devnet"
    uid = factory.Sequence(lambda n: f"devnet_handle{n}")
    extra_data = factory.LazyAttribute(lambda o: {"handle": o.uid})
