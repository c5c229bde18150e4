from django.apps import AppConfig


class BlueskyProviderConfig(AppConfig):
    name = "accounts.providers.bluesky"
    label = "bluesky"
    verbose_name = "Bluesky provider"

    def ready(self) -> None:
        from accounts.providers.bluesky import client  # noqa: F401  (registers the refresher)
