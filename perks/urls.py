from django.urls import path

from perks import brand_views, views

urlpatterns = [
    path("perks/", views.perk_list, name="perks"),
    path("perks/mine/", views.my_perks, name="my_perks"),
    path("perks/<int:campaign_id>/", views.perk_detail, name="perk_detail"),
    path("perks/<int:campaign_id>/claim/", views.claim, name="perk_claim"),
    path("perks/<int:campaign_id>/image", views.perk_image, name="perk_image"),
    path("brands/", brand_views.brand_list, name="brand_list"),
    path(
        "brands/invitations/<str:token>/",
        brand_views.accept_invitation,
        name="brand_invitation",
    ),
    path("brands/<slug:slug>/", brand_views.brand_dashboard, name="brand_dashboard"),
    path("brands/<slug:slug>/members/", brand_views.brand_members, name="brand_members"),
    path("brands/<slug:slug>/audit/", brand_views.brand_audit, name="brand_audit"),
    path("brands/<slug:slug>/campaigns/new/", brand_views.campaign_edit, name="campaign_new"),
    path(
        "brands/<slug:slug>/campaigns/preview/",
        brand_views.campaign_preview,
        name="campaign_preview",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/",
        brand_views.campaign_page,
        name="brand_campaign",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/edit/",
        brand_views.campaign_edit,
        name="campaign_edit",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/status/",
        brand_views.campaign_status,
        name="campaign_status",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/codes/",
        brand_views.campaign_codes,
        name="campaign_codes",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/redeem/",
        brand_views.campaign_redeem,
        name="campaign_redeem",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/draw/",
        brand_views.campaign_draw,
        name="campaign_draw",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/pick/",
        brand_views.campaign_pick,
        name="campaign_pick",
    ),
    path(
        "brands/<slug:slug>/campaigns/<int:campaign_id>/export.csv",
        brand_views.campaign_export,
        name="campaign_export",
    ),
]
