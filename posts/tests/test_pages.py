"""The reader pages, the editor and the author's story list, as a visitor meets them."""

import re
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return response.content.decode()


def post_titles(response) -> list[str]:
    return re.findall(r'class="story-card-title"><a href="[^"]+">([^<]+)</a>', text_of(response))


# --- Home ---------------------------------------------------------------------------------


def test_home_lists_the_newest_published_stories_with_their_details(client, user):
    user.name = "Ada Lovelace"
    user.save()
    PostFactory(author=user, title="Older story", tags=["History"])
    PostFactory(author=user, title="Newer story", content="An opening line worth reading.", tags=["Math"])
    PostFactory(author=user, title="Secret draft", publish=False)

    response = client.get("/")

    assert response.status_code == 200
    assert post_titles(response) == ["Newer story", "Older story"]
    html = text_of(response)
    assert "An opening line worth reading." in html
    assert "Ada Lovelace" in html and f'href="/@{user.username}/"' in html
    assert "1 min read" in html
    assert 'href="/tag/math/"' in html and 'href="/tag/history/"' in html
    assert re.search(r"<time datetime=\"[^\"]+\">\w{3} \d{1,2}, \d{4}</time>", html)
    assert "Secret draft" not in html


def test_home_shows_ten_stories_a_page_with_real_links_to_the_others(client, user):
    for number in range(12):
        PostFactory(author=user, title=f"Story {number:02d}")

    first = client.get("/")
    assert post_titles(first) == [f"Story {n:02d}" for n in range(11, 1, -1)]
    assert 'href="?page=2"' in text_of(first)
    assert "Page 1 of 2" in text_of(first)

    second = client.get("/?page=2")
    assert post_titles(second) == ["Story 01", "Story 00"]
    assert 'href="?page=1"' in text_of(second)
    assert "Newest stories, page 2" in text_of(second)

    nonsense = client.get("/?page=nonsense")
    assert post_titles(nonsense) == post_titles(first)
    assert "There is no page “nonsense”: this is page 1 of 2." in text_of(nonsense)
    too_far = client.get("/?page=99")
    assert post_titles(too_far) == post_titles(second)
    assert "There is no page “99”: this is page 2 of 2." in text_of(too_far)
    assert "There is no page" not in text_of(second)


def test_home_has_a_friendly_empty_state(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No stories yet." in text_of(response)


@pytest.mark.parametrize(
    "path", ["/", "/search/", "/signin/", "/signup/", "/tag/anything/", "/no-such-page/"]
)
def test_every_page_has_a_title_and_opengraph_meta(client, path):
    html = text_of(client.get(path))
    assert re.search(r"<title>[^<]*\w[^<]*</title>", html)
    for meta in ("og:title", "og:description", "og:type", "og:url", "og:site_name"):
        assert f'<meta property="{meta}"' in html


# --- One story ----------------------------------------------------------------------------


MARKDOWN = """## A heading

A paragraph with a [link](https://example.com/) and `code`.

```python
print("hello")
```

> A quote worth keeping.

![A cat](https://example.com/cat.png)

<script>alert("no")</script>
"""


def test_story_page_shows_the_rendered_story_and_its_details(client, user):
    post = PostFactory(author=user, title="A rendered story", content=MARKDOWN, tags=["Web Development"])

    response = client.get(f"/p/{post.slug}/")

    assert response.status_code == 200
    html = text_of(response)
    assert "<title>A rendered story · Quill</title>" in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:description" content="A paragraph' in html
    assert "<h2>A heading</h2>" in html
    assert '<a href="https://example.com/" rel="nofollow noopener noreferrer ugc">link</a>' in html
    assert '<code class="language-python">' in html
    assert "<blockquote>" in html
    assert '<img src="https://example.com/cat.png" alt="A cat" loading="lazy">' in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert user.display_name in html and f'href="/@{user.username}/"' in html
    assert f"{post.reading_time} min read" in html
    assert 'href="/tag/web-development/"' in html


def test_only_the_author_is_offered_edit_and_delete(client, user, other_user):
    post = PostFactory(author=user)
    edit_link, delete_link = f'href="/p/{post.slug}/edit/"', f'href="/p/{post.slug}/delete/"'

    anonymous = text_of(client.get(post.get_absolute_url()))
    assert edit_link not in anonymous and delete_link not in anonymous

    client.force_login(other_user)
    stranger = text_of(client.get(post.get_absolute_url()))
    assert edit_link not in stranger and delete_link not in stranger

    client.force_login(user)
    author = text_of(client.get(post.get_absolute_url()))
    assert edit_link in author and delete_link in author


def test_a_draft_is_not_found_for_anyone_but_its_author(client, user, other_user):
    draft = PostFactory(author=user, title="Work in progress", publish=False)

    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(other_user)
    assert client.get(draft.get_absolute_url()).status_code == 404

    client.force_login(user)
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 200
    assert "This is a draft: only you can see it." in text_of(response)
    assert '<meta name="robots" content="noindex">' in text_of(response)


def test_an_unknown_story_gets_the_friendly_not_found_page(client):
    response = client.get("/p/no-such-story/")
    assert response.status_code == 404
    html = text_of(response)
    assert "Page not found" in html
    assert "Back to the stories" in html


# --- Author, tag and search pages ---------------------------------------------------------


def test_author_page_lists_their_published_stories_with_name_and_bio(client, user, other_user):
    user.name, user.bio = "Grace Hopper", "Wrote the first compiler."
    user.save()
    PostFactory(author=user, title="Her published story")
    PostFactory(author=user, title="Her draft", publish=False)
    PostFactory(author=other_user, title="Someone else's story")

    response = client.get(f"/@{user.username}/")

    assert response.status_code == 200
    html = text_of(response)
    assert "Grace Hopper" in html and f"@{user.username}" in html
    assert "Wrote the first compiler." in html
    assert post_titles(response) == ["Her published story"]


def test_author_page_has_one_address(client, user):
    response = client.get(f"/@{user.username.upper()}/")
    assert response.status_code == 301
    assert response["Location"] == f"/@{user.username}/"


def test_author_page_of_an_unknown_or_suspended_author_is_not_found(client, user):
    assert client.get("/@nobody_here/").status_code == 404
    user.is_active = False
    user.save()
    assert client.get(f"/@{user.username}/").status_code == 404


def test_tag_page_lists_the_published_stories_with_that_tag(client, user):
    PostFactory(author=user, title="Tagged", tags=["Web Development"])
    PostFactory(author=user, title="Tagged draft", tags=["web-development"], publish=False)
    PostFactory(author=user, title="Untagged")

    response = client.get("/tag/web-development/")

    assert response.status_code == 200
    assert post_titles(response) == ["Tagged"]
    assert "1 story" in text_of(response)


def test_tag_page_has_one_address_and_a_friendly_empty_state(client):
    response = client.get("/tag/Web Development/")
    assert response.status_code == 301
    assert response["Location"] == "/tag/web-development/"

    unknown = client.get("/tag/nothing-here/")
    assert unknown.status_code == 404  # no story ever had this tag

    PostFactory(tags=["drafted"], publish=False)  # a tag only drafts have does not exist for readers
    assert client.get("/tag/drafted/").status_code == 404


def test_search_finds_published_stories_by_title_and_text(client, user):
    # Holds for the full-text search on Postgres and for the substring fallback elsewhere.
    PostFactory(author=user, title="Connection pools explained", content="Why PgBouncer matters.")
    PostFactory(author=user, title="Gardening", content="Tomatoes need a pool of sunshine.")
    PostFactory(author=user, title="Pool party draft", content="pool", publish=False)

    response = client.get("/search/", {"q": "pool"})

    assert response.status_code == 200
    assert sorted(post_titles(response)) == ["Connection pools explained", "Gardening"]
    assert "2 stories match “pool”" in text_of(response)
    assert 'value="pool"' in text_of(response)


def test_search_ranks_title_matches_above_newer_text_matches(client, user, full_text_search):
    PostFactory(author=user, title="Connection pools explained", content="Why PgBouncer matters.")
    PostFactory(author=user, title="Gardening", content="Tomatoes need a pool of sunshine.")

    assert post_titles(client.get("/search/", {"q": "pool"})) == ["Connection pools explained", "Gardening"]


def test_search_matches_word_forms_not_fragments(client, user, full_text_search):
    PostFactory(author=user, title="Pooling connections", content="Fewer servers.")
    PostFactory(author=user, title="Whirlpools", content="Water going round.")

    assert post_titles(client.get("/search/", {"q": "pooled"})) == ["Pooling connections"]


def test_search_without_full_text_matches_every_word_as_a_substring_newest_first(client, user):
    if connection.vendor == "postgresql":
        pytest.skip("Postgres uses full-text search; this is the fallback for other databases")
    PostFactory(author=user, title="Whirlpools", content="Water going round.")
    PostFactory(author=user, title="Pooling connections", content="Fewer servers going to waste.")
    PostFactory(author=user, title="Pool rules", content="No running.")

    assert post_titles(client.get("/search/", {"q": "pool going"})) == ["Pooling connections", "Whirlpools"]


def test_search_has_friendly_empty_states(client, user):
    PostFactory(author=user, title="Something")

    blank = client.get("/search/")
    assert blank.status_code == 200
    assert "Type a few words to find stories" in text_of(blank)

    nothing = client.get("/search/", {"q": "xylophone"})
    assert nothing.status_code == 200
    assert "No stories match “xylophone”." in text_of(nothing)


def test_search_pagination_keeps_the_query(client, user):
    for number in range(11):
        PostFactory(author=user, title=f"Pool story {number}")
    html = text_of(client.get("/search/", {"q": "pool"}))
    assert 'href="?q=pool&amp;page=2"' in html


# --- The editor ---------------------------------------------------------------------------


def test_writing_needs_a_signed_in_author(client):
    response = client.get("/write/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/write/"


def test_the_editor_has_title_body_tags_preview_and_the_save_buttons(author_client):
    html = text_of(author_client.get("/write/"))
    assert 'name="title"' in html and 'name="content"' in html and 'name="tags"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'value="draft"' in html and 'value="publish"' in html
    assert "data-preview" in html and 'data-preview-url="/write/preview/"' in html
    assert "New story · Quill" in html


def test_an_author_saves_a_draft_publishes_it_and_unpublishes_it(author_client, user):
    response = author_client.post(
        "/write/",
        {
            "title": "My first story",
            "content": "Hello **world**.",
            "tags": "Django, Web Development",
            "action": "draft",
        },
    )
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/{post.slug}/edit/"
    assert (post.author, post.status, post.content) == (user, Post.Status.DRAFT, "Hello **world**.")
    assert sorted(post.tags.values_list("name", flat=True)) == ["django", "web-development"]
    assert "Draft saved." in text_of(author_client.get(response["Location"]))

    edit_url = f"/p/{post.slug}/edit/"
    form = {"title": "My first story", "content": "Hello **world**.", "tags": "django"}
    response = author_client.post(edit_url, form | {"action": "publish"})
    post.refresh_from_db()
    assert response["Location"] == f"/p/{post.slug}/"
    assert post.is_published and post.published_at is not None
    assert "Your story is published." in text_of(author_client.get(response["Location"]))
    assert "My first story" in text_of(author_client.get("/"))

    response = author_client.post(edit_url, form | {"title": "My first story, revised", "action": "publish"})
    assert "Changes published." in text_of(author_client.get(response["Location"]))
    assert "My first story, revised" in text_of(author_client.get("/"))

    # Unpublish asks first (without JavaScript, as a step of the editor that keeps the text).
    question = author_client.post(edit_url, form | {"action": "unpublish"})
    assert question.status_code == 200 and "Unpublish this story?" in text_of(question)
    assert Post.objects.get(pk=post.pk).is_published
    response = author_client.post(edit_url, form | {"action": "unpublish", "confirmed": "1"})
    post.refresh_from_db()
    assert response["Location"] == edit_url
    assert not post.is_published
    assert "My first story" not in text_of(author_client.get("/"))


def test_the_editor_shows_the_story_as_it_is_stored(author_client, user):
    post = PostFactory(author=user, title="Stored", content="Stored *body*", tags=["One", "Two"])
    html = text_of(author_client.get(f"/p/{post.slug}/edit/"))
    assert 'value="Stored"' in html
    assert "Stored *body*</textarea>" in html
    assert 'value="one, two"' in html
    assert "<p>Stored <em>body</em></p>" in html  # the preview, rendered on the server
    assert 'value="unpublish"' in html  # a published story offers Unpublish


def test_a_failed_save_keeps_everything_that_was_typed(author_client):
    typed = {
        "title": "   ",
        "content": "A long text I do not want to lose.",
        "tags": "one, two",
        "action": "draft",
    }
    response = author_client.post("/write/", typed)

    assert response.status_code == 200
    html = text_of(response)
    assert "Give your story a title." in html
    assert "A long text I do not want to lose.</textarea>" in html
    assert 'value="one, two"' in html
    assert not Post.objects.exists()


def test_text_the_database_cannot_store_is_refused_with_a_message(author_client):
    response = author_client.post("/write/", {"title": "Nul\x00title", "content": "x\x00", "action": "draft"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in text_of(response)
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/@a%00b/", 404),
        ("/tag/a%00b/", 301),
        ("/tag/%00/", 404),
        ("/p/a%00b/", 404),
        ("/search/?q=a%00b", 200),
    ],
)
def test_odd_addresses_get_a_page_never_a_server_error(client, path, status):
    assert client.get(path).status_code == status


def test_bad_tags_are_reported_on_the_tags_field(author_client):
    response = author_client.post(
        "/write/", {"title": "Tags", "content": "x", "tags": "a, b, c, d, e, f", "action": "publish"}
    )
    assert response.status_code == 200
    assert "Use at most 5 tags." in text_of(response)
    assert not Post.objects.exists()


def test_the_preview_button_works_without_javascript_and_saves_nothing(author_client):
    response = author_client.post("/write/", {"title": "T", "content": "# Big idea", "action": "preview"})
    assert response.status_code == 200
    assert "<h1>Big idea</h1>" in text_of(response)
    assert not Post.objects.exists()


def test_the_preview_endpoint_returns_the_sanitised_story_html(author_client):
    response = author_client.post(
        "/write/preview/", {"content": "**bold** <img src=x onerror=alert(1)> [x](javascript:alert(1))"}
    )
    assert response.status_code == 200
    html = text_of(response)
    assert "<strong>bold</strong>" in html
    assert "<img" not in html and "href=" not in html


def test_the_preview_endpoint_is_for_signed_in_authors_and_posts_only(author_client):
    assert Client().post("/write/preview/", {"content": "x"}).status_code == 403
    assert author_client.get("/write/preview/").status_code == 405


def test_someone_elses_story_cannot_be_edited_or_deleted(client, user, other_user):
    published = PostFactory(author=user, title="Mine")
    draft = PostFactory(author=user, title="My draft", publish=False)
    change = {"title": "Hijacked", "content": "x", "action": "publish"}

    client.force_login(other_user)
    for method, suffix in (("get", "edit/"), ("post", "edit/"), ("get", "delete/"), ("post", "delete/")):
        response = getattr(client, method)(f"/p/{published.slug}/{suffix}", change)
        assert response.status_code == 403
        assert "You do not have permission to do that." in text_of(response)
        assert getattr(client, method)(f"/p/{draft.slug}/{suffix}", change).status_code == 404

    client.logout()
    response = client.get(f"/p/{published.slug}/edit/")
    assert response.status_code == 403
    assert f'href="/signin/?next=/p/{published.slug}/edit/"' in text_of(response)
    assert client.post(f"/p/{published.slug}/delete/").status_code == 403
    assert client.get(f"/p/{draft.slug}/edit/").status_code == 404

    assert sorted(Post.objects.values_list("title", flat=True)) == ["Mine", "My draft"]


def test_deleting_asks_for_confirmation_first(author_client, user):
    post = PostFactory(author=user, title="Short-lived")

    confirm = author_client.get(f"/p/{post.slug}/delete/")
    assert confirm.status_code == 200
    assert "Delete this story?" in text_of(confirm)
    assert f'action="/p/{post.slug}/delete/"' in text_of(confirm)
    assert Post.objects.filter(pk=post.pk).exists()

    response = author_client.post(f"/p/{post.slug}/delete/")
    assert response.status_code == 302 and response["Location"] == "/me/stories/"
    assert not Post.objects.filter(pk=post.pk).exists()
    assert "“Short-lived” is deleted." in text_of(author_client.get("/me/stories/"))


# --- My stories ---------------------------------------------------------------------------


def test_my_stories_lists_the_authors_drafts_and_published_stories(author_client, user, other_user):
    PostFactory(author=user, title="A draft of mine", publish=False)
    PostFactory(author=user, title="A published one")
    PostFactory(author=other_user, title="Not mine", publish=False)

    response = author_client.get("/me/stories/")

    assert response.status_code == 200
    html = text_of(response)
    drafts, published = html.split('id="published-title"')
    assert "A draft of mine" in drafts and "A published one" not in drafts
    assert "A published one" in published
    assert "Not mine" not in html


def test_my_stories_needs_a_signed_in_author(client):
    response = client.get("/me/stories/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/me/stories/"


# --- Feed and sitemap ---------------------------------------------------------------------


def test_the_rss_feed_lists_the_newest_published_stories(client, user):
    PostFactory(author=user, title="First", tags=["Feeds"])
    PostFactory(author=user, title="Second")
    PostFactory(author=user, title="Unfinished", publish=False)

    response = client.get("/feed.xml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ElementTree.fromstring(response.content).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Second", "First"]
    second = Post.objects.get(title="Second")
    assert items[0].findtext("link") == f"http://testserver/p/{second.slug}/"
    assert items[0].findtext("description") == f"<p>{second.excerpt}</p>"  # HTML, escaped once
    assert items[1].findtext("category") == "feeds"


def test_the_sitemap_indexes_published_stories_authors_and_tags(client, user, other_user):
    published = PostFactory(author=user, title="Findable", tags=["birds"])
    draft = PostFactory(author=other_user, title="Hidden", publish=False, tags=["secret"])

    index = text_of(client.get("/sitemap.xml"))
    for section in ("stories", "authors", "tags"):
        assert f"http://testserver/sitemap-{section}.xml" in index
    sitemap_xml = text_of(client.get("/sitemap-stories.xml"))
    assert f"/p/{published.slug}/</loc>" in sitemap_xml and f"/p/{draft.slug}/" not in sitemap_xml
    assert "<lastmod>" in sitemap_xml
    authors = text_of(client.get("/sitemap-authors.xml"))
    assert f"/@{user.username}/</loc>" in authors and f"/@{other_user.username}/" not in authors
    tags = text_of(client.get("/sitemap-tags.xml"))
    assert "/tag/birds/</loc>" in tags and "secret" not in tags


def test_the_sitemap_is_a_fixed_cost_cached_while_nothing_changes(client, user, django_assert_num_queries):
    for number in range(30):
        PostFactory(author=user, title=f"Story {number}", tags=["a", "b"])
    # The state, the count and one page: no authors or tags loaded per story.
    with django_assert_num_queries(3):
        first = client.get("/sitemap-stories.xml")
    assert text_of(first).count("<url>") == 30
    with django_assert_num_queries(1):  # only the state: the rest comes from the cache
        again = client.get("/sitemap-stories.xml")
    assert again.content == first.content
    newer = PostFactory(author=user, title="Newer")
    assert f"/p/{newer.slug}/" in text_of(client.get("/sitemap-stories.xml"))  # shown at once


# --- Query counts, headers, CSRF ----------------------------------------------------------


@pytest.fixture
def fifteen_posts(user):
    authors = [user, *UserFactory.create_batch(4)]
    for number in range(15):
        PostFactory(author=authors[number % 5], title=f"Pool story {number}", tags=["pools", f"tag-{number}"])
    PostFactory(author=user, title="Pool draft", publish=False)


@pytest.mark.parametrize("path", ["/", "/?page=2", "/tag/pools/", "/search/?q=pool", "/me/stories/"])
def test_list_pages_use_a_fixed_number_of_queries(
    author_client, user, fifteen_posts, path, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = author_client.get(path)
    assert response.status_code == 200
    assert "Pool story" in text_of(response)


def test_the_author_page_uses_a_fixed_number_of_queries(
    client, user, fifteen_posts, django_assert_max_num_queries
):
    with django_assert_max_num_queries(5):
        response = client.get(f"/@{user.username}/")
    assert len(post_titles(response)) == 3


@pytest.mark.parametrize(
    "path", ["/", "/search/?q=x", "/write/", "/me/stories/", "/signin/", "/feed.xml", "/sitemap.xml"]
)
def test_pages_carry_the_security_headers(author_client, path):
    response = author_client.get(path)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "style-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/", "/me/stories/", "/write/", "/api/v1/user/me", "/api/v1/blog/bulk"])
def test_what_is_made_for_a_signed_in_member_is_never_stored_by_a_cache(author_client, path):
    signed_in = author_client.get(path)
    assert signed_in.status_code == 200
    assert {"private", "no-store"} <= {part.strip() for part in signed_in["Cache-Control"].split(",")}
    assert "no-store" not in Client().get("/").get("Cache-Control", "")  # readers' pages may be cached


def test_an_api_client_signed_in_with_a_token_gets_no_store_too(api_client_for, user):
    response = api_client_for(user).get("/api/v1/user/me")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_pages_have_no_inline_scripts_or_styles(author_client, user):
    post = PostFactory(author=user, content=MARKDOWN)
    for path in ("/", post.get_absolute_url(), f"/p/{post.slug}/edit/", "/me/stories/"):
        html = text_of(author_client.get(path))
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path


def test_story_forms_refuse_a_post_without_the_csrf_token(user):
    post = PostFactory(author=user, title="Guarded")
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    change = {"title": "Changed", "content": "x", "action": "publish"}

    for path in ("/write/", f"/p/{post.slug}/edit/", f"/p/{post.slug}/delete/", "/write/preview/"):
        response = csrf_client.post(path, change)
        assert response.status_code == 403, path
        assert "This form has expired or came from another site." in text_of(response)

    assert list(Post.objects.values_list("title", flat=True)) == ["Guarded"]


def test_story_forms_work_with_the_csrf_token_they_carry(user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text_of(csrf_client.get("/write/")))
    assert match is not None
    token = match[1]

    response = csrf_client.post(
        "/write/", {"csrfmiddlewaretoken": token, "title": "Sent", "content": "x", "action": "draft"}
    )
    assert response.status_code == 302
    assert Post.objects.get().title == "Sent"


def test_the_server_error_page_is_friendly(rf):
    from faces.errors import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    html = text_of(response)
    assert "Something went wrong" in html and "Back to the stories" in html
    assert reverse("posts:home") in html
