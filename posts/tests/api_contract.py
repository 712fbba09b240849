"""API v1's post object as SPEC §5 states it: the keys every client of the original app reads."""

POST_KEYS = {
    "id",
    "title",
    "slug",
    "content",
    "excerpt",
    "published",
    "published_at",
    "created_at",
    "updated_at",
    "reading_time",
    "tags",
    "author",
    "cover_image",
    "version",
}
