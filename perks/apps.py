from django.apps import AppConfig


class PerksConfig(AppConfig):
    name = "perks"
    verbose_name = "Perk campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perks import signals

        signals.connect()
