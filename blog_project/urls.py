from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from blog_project.health import favicon, healthz

handler400 = "blog_project.errors.bad_request"
handler403 = "blog_project.errors.permission_denied"
handler404 = "blog_project.errors.page_not_found"
handler500 = "blog_project.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: CSP forbids inline scripts.
    # GET only: its HTML-only renderer has no template for OPTIONS and would answer 500.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
    path("api/v1/user/", include("accounts.api_urls")),
    path("api/v1/", include("posts.api_urls")),
    path("", include("accounts.urls")),
    path("", include("posts.urls")),
]
