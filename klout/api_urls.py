"""The API routers: the original Klout paths (v2, v1) at the root, the modern API under /api/v1/."""

from django.urls import path, re_path

from scoring.api import legacy

KID = r"(?P<klout_id>[^/]{1,64})"

legacy_urlpatterns = [
    path("v2/identity.json/twitter", legacy.v2_identity_by_screen_name, name="v2_identity_twitter"),
    re_path(rf"^v2/identity\.json/klout/{KID}/(?P<network>[a-z]+)$", legacy.v2_reverse_identity),
    re_path(r"^v2/identity\.json/(?P<network>[a-z]+)/(?P<value>[^/]{1,64})$", legacy.v2_identity),
    re_path(rf"^v2/user\.json/{KID}$", legacy.v2_user, name="v2_user"),
    re_path(rf"^v2/user\.json/{KID}/score$", legacy.v2_score),
    re_path(rf"^v2/user\.json/{KID}/topics$", legacy.v2_topics),
    re_path(rf"^v2/user\.json/{KID}/influence$", legacy.v2_influence),
    path("1/klout.json", legacy.v1_klout),
    path("1/users/show.json", legacy.v1_show),
    path("1/users/topics.json", legacy.v1_topics),
    path("1/soi/influenced_by.json", legacy.v1_influenced_by),
    path("1/soi/influencer_of.json", legacy.v1_influencer_of),
]

urlpatterns = [*legacy_urlpatterns]
