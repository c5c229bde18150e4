"""Staff tools for brands: approve new brands; read campaigns and the audit log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from perks import services
from perks.models import AuditEntry, Brand, Campaign, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "website", "approved_at", "created_at")
    list_filter = (("approved_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "slug")
    readonly_fields = ("approved_at", "created_at")
    inlines = (MembershipInline,)
    actions = ("approve_brands",)

    @admin.action(description="Approve the selected brands")
    def approve_brands(self, request: HttpRequest, queryset: QuerySet[Brand]) -> None:
        for brand in queryset.filter(approved_at__isnull=True):
            services.approve_brand(brand_id=brand.pk, staff_id=request.user.pk)  # type: ignore[arg-type]
            self.message_user(request, f"Approved {brand.name}.", messages.SUCCESS)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("title", "brand", "kind", "status", "stock_left", "stock_total")
    list_filter = ("status", "kind")
    search_fields = ("title", "brand__name")
    exclude = ("image",)
    readonly_fields = ("stock_left", "draw_seed", "activated_at", "ended_at")

    @admin.display(description="stock left")
    def stock_left(self, campaign: Campaign) -> int:
        return campaign.stock_left


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "brand", "actor", "action")
    list_filter = ("action",)
    readonly_fields = tuple(f.name for f in AuditEntry._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
