from django.contrib.sitemaps.views import sitemap
from django.urls import path, re_path
from django.views.decorators.cache import cache_page

from posts import views
from posts.feeds import LatestStoriesFeed
from posts.sitemaps import SITEMAPS

SITEMAP_CACHE_SECONDS = 600

app_name = "posts"
urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.detail, name="detail"),
    path("p/<slug:slug>/edit/", views.edit, name="edit"),
    path("p/<slug:slug>/delete/", views.delete, name="delete"),
    # Only what a username can be (letters, digits, underscores) reaches the database.
    re_path(r"^@(?P<username>[A-Za-z0-9_]+)/$", views.author, name="author"),
    path("tag/<str:tag>/", views.tag, name="tag"),
    path("search/", views.search, name="search"),
    path("write/", views.write, name="write"),
    path("write/preview/", views.preview, name="preview"),
    path("me/stories/", views.my_stories, name="my_stories"),
    path("feed.xml", LatestStoriesFeed(), name="feed"),
    # Crawlers fetch it often and it grows with every story: one rendering per 10 minutes.
    path("sitemap.xml", cache_page(SITEMAP_CACHE_SECONDS)(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
]
