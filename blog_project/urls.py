"""Root URLs: the faces Quill is reached through, each mounted where it lives.

`mount` records which face owns a prefix, so errors outside any view (unknown paths, bodies
too large, crashes) answer in that face's envelope; everything else belongs to the pages.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import media
from accounts.api import v1 as accounts_v1
from faces.api import realworld, v1
from faces.health import favicon, livez, readyz
from faces.registry import mount

handler400 = "faces.errors.bad_request"
handler403 = "faces.errors.permission_denied"
handler404 = "faces.errors.page_not_found"
handler500 = "faces.errors.server_error"

api_docs = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: CSP forbids inline scripts.
    # GET only: its HTML-only renderer has no template for OPTIONS and would answer 500.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
]
api_v1 = [
    path("", v1.RootView.as_view(), name="api-v1-root"),
    path("user/", include("accounts.api.v1")),
    path("media", include(accounts_v1.media_urlpatterns)),
    path("", include("notifications.api.v1")),
    path("", include("posts.api.v1")),
]

realworld_api = [path("", include("accounts.api.realworld")), path("", include("posts.api.realworld"))]

urlpatterns = [
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("healthz", readyz, name="healthz"),  # the first release's name for readiness
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    mount("api/v1/", v1.FACE, api_v1),
    # The RealWorld ("Conduit") API owns the rest of /api/, beside the docs of both APIs.
    mount("api/", realworld.FACE, [*api_docs, *realworld_api]),
    *media.urlpatterns(),  # uploaded images: /media/<name>
    path("", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("", include("posts.urls")),
]
