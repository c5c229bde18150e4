from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from scoring import signals
        from scoring.api import receivers as api_receivers

        signals.connect()
        api_receivers.connect()
        from accounts.notice_kinds import register_notice_kind

        register_notice_kind("plus_k", "Someone gave me +K")
