"""Conflict-safe edits (version, ETag, If-Match), scheduled stories and revisions."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kernel.exceptions import StaleWrite
from posts import services
from posts.markdown import EXCERPT_LENGTH, excerpt_of
from posts.models import Post, Revision
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db
BLOG = "/api/v1/blog"


@pytest.fixture
def writer(api_client_for, user):
    return api_client_for(user)


def detail(post) -> str:
    return f"{BLOG}/{post.pk}"


def test_reads_and_writes_carry_the_version_as_etag(writer, user):
    created = writer.post(BLOG, {"title": "Versioned", "content": "One."}, format="json")
    assert created.status_code == 201 and created["ETag"] == '"1"'
    assert created.json()["post"]["version"] == 1
    post = Post.objects.get()
    assert writer.get(detail(post))["ETag"] == '"1"'
    changed = writer.patch(detail(post), {"content": "Two."}, format="json")
    assert changed["ETag"] == '"2"' and changed.json()["post"]["version"] == 2


@pytest.mark.parametrize("route", ["by-path", "by-body"])
def test_a_save_over_a_newer_version_is_refused_with_the_current_story(writer, user, route):
    post = PostFactory(author=user, content="Original.")

    def save(content: str, if_match: str | None):
        headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
        if route == "by-path":
            return writer.patch(detail(post), {"content": content}, format="json", **headers)
        return writer.put(BLOG, {"id": str(post.pk), "content": content}, format="json", **headers)

    fresh = save("First tab.", '"1"')
    assert fresh.status_code == 200 and fresh["ETag"] == '"2"'
    stale = save("Second tab.", '"1"')
    assert stale.status_code == 412
    body = stale.json()
    assert body["details"]["post"]["content"] == "First tab."
    assert body["details"]["post"]["version"] == 2 and stale["ETag"] == '"2"'
    post.refresh_from_db()
    assert post.content == "First tab."  # nothing overwritten
    assert save("Weak tag is fine.", 'W/"2"').status_code == 200
    assert save("No If-Match behaves as before.", None).status_code == 200


@pytest.mark.parametrize("header", ["3", '"three"', "*", '"1", "2"'])
def test_a_malformed_if_match_is_a_400_and_changes_nothing(writer, user, header):
    post = PostFactory(author=user, content="Kept.")
    response = writer.patch(detail(post), {"content": "No."}, format="json", HTTP_IF_MATCH=header)
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["If-Match"]
    post.refresh_from_db()
    assert post.content == "Kept."


def test_the_service_refuses_a_stale_version_on_every_path(user):
    post = PostFactory(author=user)
    services.update_post(post=post, editor=user, title="Newer", expected_version=1)
    with pytest.raises(StaleWrite) as refusal:
        services.update_post(post=post, editor=user, title="Older", expected_version=1)
    assert refusal.value.current.title == "Newer"


def test_moderation_unpublishing_makes_a_new_version(user):
    post = PostFactory(author=user)
    services.unpublish_posts(posts=Post.objects.filter(pk=post.pk))
    with pytest.raises(StaleWrite):
        services.update_post(post=post, editor=user, title="Stale", expected_version=1)


# --- Scheduling ----------------------------------------------------------------------------


@pytest.fixture
def scheduled(user):
    return services.create_post(
        author=user,
        title="Coming soon",
        content="Not yet.",
        tags=["later"],
        published_at=timezone.now() + timedelta(hours=1),
    )


SCHEDULE_HIDDEN_FROM = [
    "/",
    "/tag/later/",
    "/search/?q=coming",
    "/feed.xml",
    "/sitemap-stories.xml",
    "/api/v1/blog/bulk",
    "/api/articles",
    "/api/tags",
]


def test_a_scheduled_story_is_seen_by_no_one_but_its_author_until_its_time(
    scheduled, user, writer, api_client_for, other_user
):
    assert scheduled.is_scheduled and not scheduled.is_published
    reader = Client()
    for path in [*SCHEDULE_HIDDEN_FROM, f"/@{user.username}/"]:
        assert "Coming soon" not in reader.get(path).content.decode(), path
        assert "coming-soon" not in reader.get(path).content.decode(), path
    assert reader.get(scheduled.get_absolute_url()).status_code == 404
    assert api_client_for(other_user).get(detail(scheduled)).status_code == 404
    assert reader.get(f"/api/articles/{scheduled.slug}").status_code == 404
    own = writer.get(detail(scheduled)).json()["post"]
    assert own["published"] is True and own["published_at"] > timezone.now().isoformat()[:10]

    # Its time comes: nothing runs, the next query sees it.
    Post.objects.filter(pk=scheduled.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    for path in SCHEDULE_HIDDEN_FROM[:-1]:
        assert "coming-soon" in reader.get(path).content.decode(), path
    assert reader.get(scheduled.get_absolute_url()).status_code == 200


def test_the_api_schedules_with_a_future_published_at(writer):
    when = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = writer.post(
        BLOG, {"title": "Tomorrow", "content": "x", "published_at": when.isoformat()}, format="json"
    )
    assert response.status_code == 201
    assert Post.objects.get().is_scheduled
    assert Client().get("/api/v1/blog/bulk").json()["count"] == 0


def test_publishing_a_scheduled_story_without_a_time_puts_it_up_now_on_every_face(
    user, writer, api_client_for
):
    """One rule in posts.services: `publish` with no time means now, for a scheduled story
    too (the editor's "Publish now", API v1's `published: true`); a live story keeps its date."""

    def scheduled_post() -> Post:
        return services.create_post(
            author=user, title="Soon", content="x", published_at=timezone.now() + timedelta(days=2)
        )

    by_service = services.update_post(post=scheduled_post(), editor=user, publish=True)
    by_api = scheduled_post()
    answer = writer.patch(detail(by_api), {"published": True}, format="json")
    assert answer.status_code == 200
    by_editor = scheduled_post()
    page = Client()
    page.force_login(user)
    form = {"title": "Soon", "content": "x", "tags": "", "version": by_editor.version, "action": "publish"}
    assert page.post(f"/p/{by_editor.slug}/edit/", form).status_code == 302
    for post in (by_service, by_api, by_editor):
        post.refresh_from_db()
        assert post.is_published and post.published_at is not None
        assert timezone.now() - post.published_at < timedelta(minutes=1), post.title

    went_up = by_service.published_at
    services.update_post(post=by_service, editor=user, publish=True, title="Again")
    by_service.refresh_from_db()
    assert by_service.published_at == went_up


@pytest.mark.parametrize("ahead", [timedelta(seconds=-1), timedelta(days=-400)])
def test_a_schedule_must_be_still_to_come_whichever_face_asks(user, ahead):
    when = timezone.now() + ahead
    with pytest.raises(ValidationError) as refused:
        services.create_post(author=user, title="Late", content="x", schedule_at=when)
    assert refused.value.message_dict == {"published_at": [services.SCHEDULE_IN_PAST]}
    draft = services.create_post(author=user, title="Draft", content="x", publish=False)
    with pytest.raises(ValidationError):
        services.update_post(post=draft, editor=user, schedule_at=when)
    draft.refresh_from_db()
    assert not draft.is_published_or_scheduled and Post.objects.count() == 1
    later = timezone.now() + timedelta(hours=3)
    scheduled = services.update_post(post=draft, editor=user, schedule_at=later)
    assert scheduled.is_scheduled and scheduled.published_at == later


# --- Revisions -----------------------------------------------------------------------------


def test_each_save_that_changes_title_or_text_keeps_the_previous_one(user):
    post = PostFactory(author=user, title="First title", content="First text.")
    services.update_post(post=post, editor=user, tags=["no-revision-for-tags"])
    assert not Revision.objects.exists()
    services.update_post(post=post, editor=user, title="Second title")
    services.update_post(post=post, editor=user, content="Second text.")
    assert [(r.title, r.content, r.version) for r in post.revisions.all()] == [
        ("Second title", "First text.", 3),
        ("First title", "First text.", 2),
    ]
    assert all(revision.saved_by == user for revision in post.revisions.all())


def test_only_the_newest_fifty_revisions_are_kept(user):
    post = PostFactory(author=user)
    for number in range(55):
        services.update_post(post=post, editor=user, content=f"Text {number}.")
    assert post.revisions.count() == 50
    oldest = post.revisions.last()
    assert oldest is not None and oldest.content == "Text 4."  # the story's first text and Text 0-3 are gone


def test_restoring_a_revision_is_a_new_version_that_keeps_the_replaced_text(user):
    post = PostFactory(author=user, title="Old", content="Old text.")
    services.update_post(post=post, editor=user, title="New", content="New text.")
    old = post.revisions.get()
    restored = services.restore_revision(revision=old, editor=user)
    assert (restored.title, restored.content) == ("Old", "Old text.")
    assert restored.version == post.version
    newest = post.revisions.first()
    assert newest is not None and newest.content == "New text."


# --- Rendering at save, and again on demand -------------------------------------------------


def test_the_html_is_stored_at_save_and_rerender_stories_renders_it_again(user):
    post = PostFactory(author=user, content="Some **bold** words.")
    assert post.body_html == "<p>Some <strong>bold</strong> words.</p>\n"
    Post.objects.filter(pk=post.pk).update(body_html="<p>from an older renderer</p>", excerpt="old")
    call_command("rerender_stories", verbosity=0)
    post.refresh_from_db()
    assert post.body_html == "<p>Some <strong>bold</strong> words.</p>\n"
    assert post.excerpt == "Some bold words."
    assert post.version == 1  # the text did not change: no new version


def test_excerpts_end_on_a_whole_sentence_when_one_fits():
    first = "The first sentence is fairly long and says something quite useful to a reader. "
    second = "The second one goes on for a while as well, with more words than fit in the room left. "
    text = first + second * 3
    excerpt = excerpt_of(text)
    assert excerpt.endswith(".") and len(excerpt) <= EXCERPT_LENGTH + 1
    assert text.startswith(excerpt)
    run_on = "word " * 100
    assert excerpt_of(run_on).endswith("…")


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-12:00", "2200-01-01T00:00:00Z"])
def test_a_schedule_years_ahead_is_refused_and_stores_nothing(writer, when):
    response = writer.post(BLOG, {"title": "Far", "content": "x", "published_at": when}, format="json")
    assert response.status_code == 400
    assert not Post.objects.exists()


def test_the_editor_refuses_a_schedule_beyond_what_can_be_stored(client, user):
    client.force_login(user)
    response = client.post(
        "/write/",
        {"title": "Far", "content": "x", "action": "schedule", "publish_at_iso": "9999-12-31T23:59:59-12:00"},
    )
    assert response.status_code in (200, 400)
    assert f"no later than the end of {services.latest_schedule_year()}" in response.content.decode()
    assert not Post.objects.exists()


def test_a_save_applies_to_the_story_as_it_is_now_not_to_an_older_copy(user):
    post = PostFactory(author=user, title="Up", content="First.")
    stale = Post.objects.get(pk=post.pk)
    services.unpublish_posts(posts=Post.objects.filter(pk=post.pk))  # a moderator, meanwhile
    services.update_post(post=stale, editor=user, title="Renamed")
    post.refresh_from_db()
    assert (post.title, post.is_published_or_scheduled) == ("Renamed", False)  # not republished


MEANT_AS_DRAFT = {"title": "Meant as draft", "content": "PRIVATE", "published": False}


@pytest.mark.parametrize("when", ["2020-01-01T00:00:00Z", "2030-06-01T09:00:00Z"])
@pytest.mark.parametrize("route", ["create", "create-once", "put-by-body", "patch"])
def test_published_false_keeps_a_draft_whatever_published_at_says(writer, user, when, route):
    body = MEANT_AS_DRAFT | {"published_at": when}
    if route == "create":
        response = writer.post(BLOG, body, format="json")
    elif route == "create-once":
        response = writer.post(BLOG, body, format="json", headers={"Idempotency-Key": "draft-1"})
    else:
        post = PostFactory(author=user, publish=False, title="Meant as draft")
        if route == "put-by-body":
            response = writer.put(BLOG, body | {"id": str(post.pk)}, format="json")
        else:
            response = writer.patch(detail(post), body, format="json")
    assert response.status_code in (200, 201), response.content
    assert response.json()["post"]["published"] is False
    assert response.json()["post"]["published_at"] is None
    slug = Post.objects.get().slug
    assert Client().get(f"/p/{slug}/").status_code == 404
    assert Client().get(f"/api/articles/{slug}").status_code == 404


def test_a_past_published_at_publishes_now_with_that_date_shown(writer):
    body = {"title": "Backdated", "content": "x", "published_at": "2020-01-01T00:00:00Z"}
    response = writer.post(BLOG, body, format="json")
    assert response.status_code == 201
    assert response.json()["post"]["published"] is True
    assert response.json()["post"]["published_at"].startswith("2020-01-01")
    page = Client().get(f"/p/{Post.objects.get().slug}/")
    assert page.status_code == 200 and "2020" in page.content.decode()


def test_the_editor_keeps_a_new_draft_a_draft_even_with_a_time_filled_in(client, user):
    client.force_login(user)
    response = client.post(
        "/write/",
        {
            "title": "Meant as draft",
            "content": "PRIVATE",
            "action": "draft",
            "publish_at_iso": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get()
    assert (post.status, post.published_at) == (Post.Status.DRAFT, None)
    assert Client().get(f"/p/{post.slug}/").status_code == 404


def test_the_schema_states_the_latest_year_a_story_may_go_up_in(writer):
    schema = Client().get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    pattern = schema["components"]["schemas"]["PostCreateRequest"]["properties"]["published_at"]["pattern"]
    latest = services.latest_schedule_year()
    within, beyond = f"{latest}-12-31T09:00:00Z", f"{latest + 1}-01-01T09:00:00Z"
    assert re.search(pattern, within) and not re.search(pattern, beyond)
    accepted = writer.post(BLOG, {"title": "Far", "content": "x", "published_at": within}, format="json")
    assert accepted.status_code == 201
    refused = writer.post(BLOG, {"title": "Too far", "content": "x", "published_at": beyond}, format="json")
    assert refused.status_code == 400
    assert refused.json()["details"]["published_at"] == [f"Choose a time no later than the end of {latest}."]
