from django.apps import AppConfig


class AchievementsConfig(AppConfig):
    name = "achievements"
    verbose_name = "Achievements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from achievements import receivers

        receivers.connect()
