"""The API routers: the original Klout paths (v2, v1) at the root, the modern API under /api/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from scoring.api import legacy, modern, problems
from scoring.api.modern import cors

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

modern_urlpatterns = [
    path("api/v1/subjects", cors(modern.bulk), name="api_bulk"),
    path("api/v1/subjects/lookup", cors(modern.lookup), name="api_lookup"),
    path("api/v1/subjects/<str:klout_id>", cors(modern.subject), name="api_subject"),
    path("api/v1/subjects/<str:klout_id>/history", cors(modern.history), name="api_history"),
    path("api/v1/subjects/<str:klout_id>/topics", cors(modern.topics), name="api_topics"),
    path("api/v1/subjects/<str:klout_id>/influence", cors(modern.influence), name="api_influence"),
    path("api/v1/enums", cors(modern.enums), name="api_enums"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    re_path(r"^api/", problems.not_found),
]

urlpatterns = [*legacy_urlpatterns, *modern_urlpatterns]
