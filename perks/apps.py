from django.apps import AppConfig


class PerksConfig(AppConfig):
    name = "perks"
    verbose_name = "Perk campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.notice_kinds import register_notice_kind
        from perks import signals

        signals.connect()
        register_notice_kind("perk_opened", "A new perk I qualify for")
