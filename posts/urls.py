from django.urls import path, re_path

from faces.readcache import by_slug, cached_for_readers
from posts import sitemaps, views
from posts.feeds import AuthorFeed, LatestPostsFeed, TagFeed

# Anonymous readers' answers come from the shared cache while what they show is unchanged.
readers, readers_of = cached_for_readers(), cached_for_readers

app_name = "posts"
urlpatterns = [
    path("", readers(views.home), name="home"),
    path("p/<slug:slug>/", readers_of(by_slug)(views.detail), name="detail"),
    path("p/<slug:slug>/edit/", views.edit, name="edit"),
    path("p/<slug:slug>/delete/", views.delete, name="delete"),
    path("p/<slug:slug>/history/", views.history, name="history"),
    path("p/<slug:slug>/history/<int:version>/", views.history_version, name="history_version"),
    path("p/<slug:slug>/history/<int:version>/restore/", views.restore, name="restore"),
    path("p/<slug:slug>/clap/", views.clap_post, name="clap"),
    path("p/<slug:slug>/save/", views.save_post, name="save"),
    path("p/<slug:slug>/responses/", views.comment_on_post, name="comment"),
    path(
        "p/<slug:slug>/responses/<int:comment_id>/delete/", views.delete_comment_page, name="delete_comment"
    ),
    # Only what a username can be (letters, digits, underscores) reaches the database.
    re_path(r"^@(?P<username>[A-Za-z0-9_]+)/$", readers(views.author), name="author"),
    re_path(r"^@(?P<username>[A-Za-z0-9_]+)/follow/$", views.follow_author, name="follow"),
    path("following/", views.following, name="following"),
    path("tag/<str:tag>/", readers(views.tag), name="tag"),
    path("search/", readers(views.search), name="search"),
    path("write/", views.write, name="write"),
    path("write/preview/", views.preview, name="preview"),
    path("me/stories/", views.my_posts, name="my_posts"),
    path("me/list/", views.saved_posts, name="reading_list"),
    path("settings/export/", views.export_posts, name="export"),
    path("feed.xml", LatestPostsFeed(), name="feed"),
    re_path(r"^@(?P<username>[A-Za-z0-9_]+)/feed\.xml$", AuthorFeed(), name="author_feed"),
    path("tag/<str:tag>/feed.xml", TagFeed(), name="tag_feed"),
    path("robots.txt", views.robots, name="robots"),
    # Crawlers fetch them often and they grow with every story: cached while unchanged.
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<section>.xml", sitemaps.section, name="sitemap_section"),
]
