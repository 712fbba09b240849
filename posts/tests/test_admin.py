"""Moderation of stories in /admin/: find them fast, unpublish or delete them in bulk."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts.models import Post, Tag
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/posts/post/"


def listed_titles(response) -> list[str]:
    return re.findall(r'<th class="field-title"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def test_stories_are_listed_with_author_status_and_dates(moderator_client, user):
    PostFactory(author=user, title="Published one")
    PostFactory(author=user, title="A draft", publish=False)

    response = moderator_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert sorted(listed_titles(response)) == ["A draft", "Published one"]
    for column in ("column-author", "column-status", "column-published_at", "column-updated_at"):
        assert column in html
    assert f"@{user.username}" in html
    assert "Quill moderation" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Pelican", ["Pelican facts"]),
        ("migration", ["Birds"]),
        ("heron_writer", ["Birds"]),
        ("heron@birds.example", ["Birds"]),
    ],
)
def test_stories_can_be_searched_by_title_content_and_author(moderator_client, user, query, expected):
    heron = UserFactory(username="heron_writer", email="heron@birds.example")
    PostFactory(author=user, title="Pelican facts", content="Large bills.")
    PostFactory(author=heron, title="Birds", content="On migration routes.")

    assert listed_titles(moderator_client.get(CHANGELIST, {"q": query})) == expected


def test_stories_can_be_filtered_by_status_tag_and_date(moderator_client, user):
    PostFactory(author=user, title="Tagged", tags=["birds"])
    PostFactory(author=user, title="Draft", publish=False)
    birds = Tag.objects.get(name="birds")

    assert listed_titles(moderator_client.get(CHANGELIST, {"status__exact": "draft"})) == ["Draft"]
    assert listed_titles(moderator_client.get(CHANGELIST, {"tags__id__exact": birds.pk})) == ["Tagged"]
    published_today = moderator_client.get(CHANGELIST, {"published_at__isnull": "False"})
    assert listed_titles(published_today) == ["Tagged"]
    html = moderator_client.get(CHANGELIST).content.decode()
    assert "By status" in html and "By tags" in html and "By published at" in html


def test_unpublishing_selected_stories_turns_them_into_drafts(moderator_client, user):
    spam = PostFactory(author=user, title="Spam")
    keep = PostFactory(author=user, title="Keep")

    response = moderator_client.post(
        CHANGELIST, {"action": "unpublish_selected", ACTION_CHECKBOX_NAME: [spam.pk]}, follow=True
    )

    assert "Unpublished 1 story;" in response.content.decode()
    spam.refresh_from_db()
    keep.refresh_from_db()
    assert not spam.is_published and spam.published_at is None
    assert keep.is_published
    assert "Spam" not in moderator_client.get("/").content.decode()


def test_selected_stories_can_be_deleted_in_bulk(moderator_client, user):
    doomed = [PostFactory(author=user), PostFactory(author=user)]
    kept = PostFactory(author=user)
    selected = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [post.pk for post in doomed]}

    confirm = moderator_client.post(CHANGELIST, selected)
    assert "Are you sure you want to delete the selected stories?" in confirm.content.decode()
    moderator_client.post(CHANGELIST, selected | {"post": "yes"})

    assert list(Post.objects.all()) == [kept]


def complete_change_form(post: Post, **changes) -> dict:
    """Everything the story's change form would submit if it were editable, with `changes`."""
    published_at = timezone.localtime(post.published_at)
    return {
        "title": post.title,
        "author": post.author_id,
        "status": post.status,
        "published_at_0": published_at.date().isoformat(),
        "published_at_1": published_at.time().isoformat(),
        "slug": post.slug,
        "tags": [tag.pk for tag in post.tags.all()],
        "excerpt": post.excerpt,
        "reading_time": post.reading_time,
        "content": post.content,
        "_save": "Save",
        **changes,
    }


def test_a_story_is_read_only_in_the_admin(moderator_client, user):
    post = PostFactory(author=user, title="As written", content="Original text.", tags=["birds"])
    change_url = f"/admin/posts/post/{post.pk}/change/"

    page = moderator_client.get(change_url)
    assert page.status_code == 200
    assert "Original text." in page.content.decode()
    # A form an editable admin would accept: only the refusal keeps the title as written.
    response = moderator_client.post(change_url, complete_change_form(post, title="Edited by a moderator"))
    post.refresh_from_db()
    assert post.title == "As written"
    assert response.status_code == 403
    assert moderator_client.get("/admin/posts/post/add/").status_code == 403


def test_the_story_list_uses_a_fixed_number_of_queries(moderator_client, django_assert_max_num_queries):
    authors = UserFactory.create_batch(5)
    for number in range(15):
        PostFactory(author=authors[number % 5], tags=[f"tag-{number % 3}"])

    with django_assert_max_num_queries(12):
        response = moderator_client.get(CHANGELIST)
    assert len(listed_titles(response)) == 15


def test_tags_are_listed_with_their_story_counts(moderator_client, user, django_assert_max_num_queries):
    for number in range(15):
        PostFactory(author=user, tags=["common", f"tag-{number}"])
    with django_assert_max_num_queries(10):
        response = moderator_client.get("/admin/posts/tag/", {"q": "common"})
    assert re.search(r"common</a></th><td class=\"field-post_count\">15</td>", response.content.decode())


def test_only_staff_reach_the_moderation_pages(client, user):
    assert client.get(CHANGELIST)["Location"].startswith("/admin/login/")
    client.force_login(user)
    assert client.get(CHANGELIST)["Location"].startswith("/admin/login/")
