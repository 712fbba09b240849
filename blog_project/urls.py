from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from blog_project.health import healthz

handler400 = "blog_project.errors.bad_request"
handler403 = "blog_project.errors.permission_denied"
handler404 = "blog_project.errors.page_not_found"
handler500 = "blog_project.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/user/", include("accounts.api_urls")),
    path("api/v1/", include("posts.api_urls")),
    path("", include("accounts.urls")),
    path("", include("posts.urls")),
]
