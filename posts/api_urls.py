from django.urls import path

from posts import api

# Mounted at /api/v1/; no trailing slashes, as in the original app's routes. "bulk" comes
# before <id> so it is not taken for a story id.
urlpatterns = [
    path("blog", api.PostCollectionView.as_view(), name="api-posts"),
    path("blog/bulk", api.PostBulkView.as_view(), name="api-posts-bulk"),
    path("blog/<str:id>", api.PostDetailView.as_view(), name="api-post"),
]
