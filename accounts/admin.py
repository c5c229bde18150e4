"""Staff tools for accounts: API keys (raise one key's quotas, revoke)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts import services
from accounts.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff raise a key's quotas here; the change applies from the key's next call."""

    list_display = ("name", "prefix", "user", "per_second", "per_day", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__email")
    fields = ("name", "user", "prefix", "per_second", "per_day", "created_at", "revoked_at")
    readonly_fields = ("name", "user", "prefix", "created_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are made by their owners (or create_api_key): shown once, hashed

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        services.set_api_key_quota(key_id=obj.pk, per_second=obj.per_second, per_day=obj.per_day)
