"""Moderation of stories and responses: find them fast, unpublish or delete them in bulk.

Stories are written in the editor, not here: the admin only reads them, so derived fields
(excerpt, reading time, publication date) can never be put out of step with the text.
Responses likewise: moderators delete them, they never rewrite what a member said.
"""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import ngettext

from posts.models import Comment, Post, Tag
from posts.selectors import with_social
from posts.services import unpublish_posts

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from posts.selectors import SocialPost

admin.site.site_header = "Quill moderation"
admin.site.site_title = "Quill moderation"
admin.site.index_title = "Stories and accounts"


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "status", "published_at", "updated_at", "claps", "comments")
    list_select_related = ("author",)
    list_filter = ("status", "published_at", ("tags", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title", "content", "author__username", "author__email")
    search_help_text = "Search titles, story text, and authors' usernames and emails."
    date_hierarchy = "published_at"
    actions = ["unpublish_selected"]
    fields = (
        "title",
        "author",
        "status",
        "published_at",
        "slug",
        "tags",
        "excerpt",
        "reading_time",
        "content",
        "created_at",
        "updated_at",
    )

    # Read-only: the change page shows the story; moderation happens through the actions.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        return False

    def has_unpublish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("posts.change_post")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        # The clap and response counts come in the list's own query (subqueries), not one per row.
        return with_social(super().get_queryset(request), viewer=None)

    @admin.display(description="Claps", ordering="clap_count")
    def claps(self, post: "SocialPost") -> int:
        return post.clap_count

    @admin.display(description="Responses", ordering="comment_count")
    def comments(self, post: "SocialPost") -> int:
        return post.comment_count

    @admin.action(description="Unpublish selected stories", permissions=["unpublish"])
    def unpublish_selected(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        count = unpublish_posts(posts=queryset)
        unpublished = ngettext("%(count)d story", "%(count)d stories", count) % {"count": count}
        self.message_user(request, f"Unpublished {unpublished}; their authors still have them as drafts.")


class PostCount(TypedDict):
    """What TagAdmin's list annotates each tag with."""

    post_count: int


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Moderators can find and delete tags; names are only ever created by posts.services."""

    list_display = ("name", "post_count")
    search_fields = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(post_count=Count("posts"))

    @admin.display(description="Stories", ordering="post_count")
    def post_count(self, tag: "WithAnnotations[Tag, PostCount]") -> int:
        return tag.post_count


# Responses shown in the list are cut to this many characters.
SHORT_BODY_LENGTH = 80


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Responses, newest first: found by their text, their author or their story's title, and
    removed (one by one or in bulk, with Django's delete action). Read-only otherwise."""

    list_display = ("short_body", "post_title", "author", "created_at")
    list_display_links = ("short_body",)
    list_select_related = ("post", "author")
    search_fields = ("body", "author__username", "author__email", "post__title")
    search_help_text = "Search the responses' text, their authors' usernames and emails, and story titles."
    list_filter = ("created_at",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = ("post", "author", "body", "created_at")
    readonly_fields = ("created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False

    @admin.display(description="Response")
    def short_body(self, comment: Comment) -> str:
        return Truncator(" ".join(comment.body.split())).chars(SHORT_BODY_LENGTH)

    @admin.display(description="Story", ordering="post__title")
    def post_title(self, comment: Comment) -> str:
        return comment.post.title
