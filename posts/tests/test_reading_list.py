"""The reading list (SPEC §9.3): a member saves stories to read later and finds them at
/me/list/, newest saved first; a story that stops being visible drops out, and comes back."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from kernel.exceptions import NotFound
from posts import selectors, services
from posts.models import Bookmark
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(db):
    return UserFactory()


@pytest.fixture
def reader_client(reader) -> Client:
    client = Client()
    client.force_login(reader)
    return client


def titles(member) -> list[str]:
    return [post.title for post in selectors.reading_list(member=member)]


def test_saving_is_once_and_a_hidden_story_drops_out_and_comes_back(reader, moderator):
    older, newer = PostFactory(title="Older"), PostFactory(title="Newer")
    services.bookmark(post=older, member=reader)
    services.bookmark(post=newer, member=reader)
    services.bookmark(post=older, member=reader)  # again: nothing new, the first save counts
    assert titles(reader) == ["Newer", "Older"]
    assert Bookmark.objects.count() == 2

    services.update_post(post=newer, editor=newer.author, publish=False)
    assert titles(reader) == ["Older"]
    services.update_post(post=newer, editor=newer.author, publish=True)
    assert titles(reader) == ["Newer", "Older"]

    services.unbookmark(post=older, member=reader)
    services.unbookmark(post=older, member=reader)
    assert titles(reader) == ["Newer"]
    services.delete_post(post=newer, editor=newer.author)
    assert titles(reader) == [] and Bookmark.objects.count() == 0


def test_only_a_story_readers_can_see_can_be_saved(reader):
    draft = PostFactory(author=reader, publish=False)
    with pytest.raises(NotFound):
        services.bookmark(post=draft, member=reader)
    assert not Bookmark.objects.exists()


def test_the_save_button_works_without_and_with_javascript(reader, reader_client):
    post = PostFactory(title="Engines")
    page = reader_client.get(post.get_absolute_url()).content.decode()
    assert f'action="/p/{post.slug}/save/"' in page and 'aria-pressed="false"' in page

    saved = reader_client.post(f"/p/{post.slug}/save/", {"action": "save"}, follow=True)
    assert "Saved to your reading list." in saved.content.decode()
    assert titles(reader) == ["Engines"]
    again = reader_client.post(f"/p/{post.slug}/save/", {"action": "save"}, HTTP_ACCEPT="application/json")
    assert again.json() == {"saved": True} and titles(reader) == ["Engines"]  # a double click
    off = reader_client.post(f"/p/{post.slug}/save/", {"action": "unsave"}, HTTP_ACCEPT="application/json")
    assert off.json() == {"saved": False} and titles(reader) == []

    anonymous = Client().post(f"/p/{post.slug}/save/", {"action": "save"})
    assert anonymous.status_code == 302 and "/signin/" in anonymous["Location"]


def test_cards_show_what_the_member_saved(reader, reader_client):
    saved, other = PostFactory(title="Kept"), PostFactory(title="Other")
    services.bookmark(post=saved, member=reader)
    home = reader_client.get("/").content.decode()
    assert home.count('class="save-button"') == 2
    assert home.count('aria-pressed="true"') == 1
    assert 'class="save-button"' not in Client().get("/").content.decode()  # readers: no button
    assert other.title in home


def test_the_list_page_is_newest_saved_first_in_the_same_queries_whatever_its_size(reader, reader_client):
    empty = reader_client.get("/me/list/")
    assert empty.status_code == 200 and "Nothing saved yet" in empty.content.decode()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert reader_client.get("/me/list/").status_code == 200
        return len(captured.captured_queries)

    services.bookmark(post=PostFactory(title="First saved", tags=["a"]), member=reader)
    few = queries()
    for number in range(8):
        services.bookmark(post=PostFactory(title=f"Saved {number}", tags=["a", "b"]), member=reader)
    assert queries() == few
    html = reader_client.get("/me/list/").content.decode()
    assert html.index("Saved 7") < html.index("Saved 0") < html.index("First saved")
    assert Client().get("/me/list/").status_code == 302


def test_api_lists_saves_and_unsaves(reader, api_client_for):
    post, draft = PostFactory(title="Engines"), PostFactory(publish=False)
    api = api_client_for(reader)
    assert api.put(f"/api/v1/blog/{post.pk}/save").status_code == 204
    assert api.put(f"/api/v1/blog/{post.pk}/save").status_code == 204  # again: the same
    body = api.get("/api/v1/user/list").json()
    assert set(body) == {"posts", "count", "next", "previous"}
    assert body["count"] == 1 and body["posts"][0]["title"] == "Engines"
    assert api.put(f"/api/v1/blog/{draft.pk}/save").status_code == 404
    assert api.put("/api/v1/blog/not-a-uuid/save").status_code == 404
    assert api.delete(f"/api/v1/blog/{post.pk}/save").status_code == 204
    assert api.get("/api/v1/user/list").json()["count"] == 0
    assert api.options(f"/api/v1/blog/{post.pk}/save").status_code == 200  # a body-less PUT
    assert Client().put(f"/api/v1/blog/{post.pk}/save").status_code == 401
    assert Client().get("/api/v1/user/list").status_code == 401
