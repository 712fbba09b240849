"""Story rules in posts.services and posts.selectors, which every face (pages, API, admin) calls."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kernel.exceptions import NotAllowed, NotFound
from posts import selectors, services
from posts.models import Post
from posts.search import filter_by_search
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def test_slug_is_readable_unique_and_stable_across_title_edits(user):
    first = services.create_post(author=user, title="Hello, World!", content="x")
    second = services.create_post(author=user, title="Hello world", content="y")
    assert first.slug == "hello-world"
    assert second.slug.startswith("hello-world-") and second.slug != first.slug

    services.update_post(post=first, editor=user, title="A completely new title")
    first.refresh_from_db()
    assert first.title == "A completely new title"
    assert first.slug == "hello-world"


def test_title_without_latin_letters_still_gets_a_slug(user):
    post = services.create_post(author=user, title="日本語のタイトル", content="")
    assert post.slug == "story"


def test_excerpt_and_reading_time_are_derived_from_the_markdown(user):
    words = " ".join(["word"] * 450)
    post = services.create_post(author=user, title="Long", content=f"# Heading\n\n**Bold** {words}")
    assert post.excerpt.startswith("Bold word word")
    assert "#" not in post.excerpt and "*" not in post.excerpt
    assert len(post.excerpt) <= 241 and post.excerpt.endswith("…")
    assert post.reading_time == 3  # 452 words at 200 a minute

    services.update_post(post=post, editor=user, content="Short.")
    assert (post.excerpt, post.reading_time) == ("Short.", 1)


def test_the_excerpt_is_the_opening_prose_without_headings_or_code(user):
    content = "## Intro\n\nFirst *words* &amp; more.\n\n```python\nprint('x')\n```\n\n> Quoted line."
    post = services.create_post(author=user, title="Prose", content=content)
    assert post.excerpt == "First words & more. Quoted line."

    code_only = services.create_post(author=user, title="Code", content="```\nmake test\n```")
    assert code_only.excerpt == "make test"  # no prose at all: fall back to every word


def test_publishing_sets_the_date_and_unpublishing_clears_it(user):
    post = services.create_post(author=user, title="Draft", content="...")
    assert (post.status, post.published_at) == (Post.Status.DRAFT, None)

    services.update_post(post=post, editor=user, publish=True)
    assert post.is_published and post.published_at is not None

    services.update_post(post=post, editor=user, publish=False)
    post.refresh_from_db()
    assert (post.status, post.published_at) == (Post.Status.DRAFT, None)


def test_tags_are_normalised_deduplicated_and_limited(user):
    post = services.create_post(author=user, title="T", tags=["Web Development", "web-development", "Python"])
    assert sorted(post.tags.values_list("name", flat=True)) == ["python", "web-development"]

    with pytest.raises(ValidationError) as too_many:
        services.update_post(post=post, editor=user, tags=["a", "b", "c", "d", "e", "f"])
    assert "at most 5 tags" in str(too_many.value)
    with pytest.raises(ValidationError):  # counted as sent, as the API schema's maxItems says
        services.update_post(post=post, editor=user, tags=["a", "a", "a", "a", "a", "a"])
    with pytest.raises(ValidationError):
        services.update_post(post=post, editor=user, tags=["x" * 33])
    with pytest.raises(ValidationError):  # too long as typed, even if its slug would be shorter
        services.update_post(post=post, editor=user, tags=["x" * 30 + "***"])
    with pytest.raises(ValidationError):
        services.update_post(post=post, editor=user, tags=["!!!"])
    assert sorted(post.tags.values_list("name", flat=True)) == ["python", "web-development"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Give your story a title."),
        ("title", "   ", "Give your story a title."),
        ("title", "x" * 201, "200 characters or fewer"),
        ("title", "nul\x00byte", "NUL"),
        ("content", "x" * 100_001, "100,000 characters or fewer"),
        ("content", "lone \ud800 surrogate", "not valid Unicode"),
    ],
)
def test_bad_text_is_refused_with_a_clear_message_and_nothing_saved(user, field, value, message):
    fields = {"title": "Fine", "content": "Fine"} | {field: value}
    with pytest.raises(ValidationError) as error:
        services.create_post(author=user, **fields)
    assert message in " ".join(error.value.message_dict[field])
    assert not Post.objects.exists()


def test_only_the_author_can_change_or_delete_a_story(user, other_user):
    post = PostFactory(author=user, title="Mine")
    with pytest.raises(NotAllowed):
        services.update_post(post=post, editor=other_user, title="Stolen")
    with pytest.raises(NotAllowed):
        services.delete_post(post=post, editor=other_user)
    post.refresh_from_db()
    assert post.title == "Mine"

    services.delete_post(post=post, editor=user)
    assert not Post.objects.filter(pk=post.pk).exists()


def test_unpublish_posts_turns_published_stories_into_drafts(user):
    published = PostFactory.create_batch(2, author=user)
    draft = PostFactory(author=user, publish=False)
    assert services.unpublish_posts(posts=Post.objects.all()) == 2
    assert not Post.objects.published().exists()
    assert {p.pk for p in Post.objects.filter(status=Post.Status.DRAFT)} == {
        draft.pk,
        *(p.pk for p in published),
    }


def test_published_posts_are_newest_first_and_filter_by_author_and_tag(user, other_user):
    older = PostFactory(author=user, tags=["python"])
    newer = PostFactory(author=other_user, tags=["python", "django"])
    PostFactory(author=user, publish=False, tags=["python"])

    assert list(selectors.published_posts()) == [newer, older]
    assert list(selectors.published_posts(author=user.username.upper())) == [older]
    assert list(selectors.published_posts(tag="Django")) == [newer]


@pytest.mark.usefixtures("full_text_search")
def test_search_ranks_title_matches_first_and_ignores_drafts(user):
    in_body = PostFactory(author=user, title="Notes", content="Some words about pooling connections.")
    in_title = PostFactory(author=user, title="Connection pooling explained", content="Read on.")
    PostFactory(author=user, title="Pooling draft", content="pooling", publish=False)

    assert list(selectors.published_posts(query="pooling")) == [in_title, in_body]
    assert list(selectors.published_posts(query="nothing-matches-this")) == []
    assert list(selectors.published_posts(query="pool\x00ing")) == []  # NUL never reaches Postgres


def test_drafts_are_visible_to_their_author_only(user, other_user):
    draft = PostFactory(author=user, publish=False)
    assert selectors.get_post_by_id(post_id=draft.pk, user=user) == draft
    assert selectors.get_post_by_slug(slug=draft.slug, user=user) == draft
    for reader in (other_user, None):
        with pytest.raises(NotFound):
            selectors.get_post_by_id(post_id=draft.pk, user=reader)
        with pytest.raises(NotFound):
            selectors.get_post_by_slug(slug=draft.slug, user=reader)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "123", "\x00"])
def test_a_malformed_id_is_not_found(bad_id):
    with pytest.raises(NotFound):
        selectors.get_post_by_id(post_id=bad_id, user=None)


def test_search_expression_matches_the_gin_index(user):
    # The index only helps if the query's tsvector expression is the indexed one, character
    # for character; with sequential scans off the planner must then pick the index.
    if connection.vendor != "postgresql":
        pytest.skip("Postgres only")
    PostFactory.create_batch(3, author=user)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = filter_by_search(Post.objects.all(), "story").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "post_search_idx" in plan, plan
