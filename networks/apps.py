from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "networks"
    verbose_name = "Network ingestion"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from networks import receivers

        receivers.connect()
