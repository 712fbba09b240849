"""The editor as an author meets it without JavaScript: saves that cannot overwrite a newer
version, covers and images, scheduling, the history of a story, and a save after the session
ended. (quill.js's part, Ctrl+S, uploads at the cursor and the questions it asks, is in
test_browser.py.)"""

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.tests.factories import PASSWORD
from posts import services
from posts.models import Post, Revision
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return response.content.decode()


def edit_url(post: Post) -> str:
    return f"/p/{post.slug}/edit/"


def form_of(post: Post, **changes: object) -> dict[str, object]:
    """What the editor sends for `post` as it was loaded, with `changes`."""
    return {
        "title": post.title,
        "content": post.content,
        "tags": ", ".join(post.tags.values_list("name", flat=True)),
        "version": post.version,
        "cover_image": post.cover_image,
        "action": "save",
    } | changes


def png(name: str = "picture.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (40, 20), (200, 80, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def textarea(html: str, name_or_id: str) -> str:
    """The text of the textarea with that name (or id)."""
    match = re.search(rf'<textarea[^>]*(?:name|id)="{name_or_id}"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert match, name_or_id
    return match[1]


# --- Conflict-safe editing ----------------------------------------------------------------


def test_the_editor_carries_the_version_it_loaded(author_client, user):
    post = PostFactory(author=user)
    services.update_post(post=post, editor=user, content="A second version.")
    html = text_of(author_client.get(edit_url(post)))
    assert '<input type="hidden" name="version" value="2"' in html


def test_a_save_over_a_newer_version_is_refused_and_shows_both_texts(author_client, user):
    post = PostFactory(author=user, title="Two tabs", content="The start.", tags=["one"])
    first_tab = form_of(post)
    second_tab = form_of(post)

    saved = author_client.post(edit_url(post), first_tab | {"content": "The start, from the first tab."})
    assert saved.status_code == 302

    refused = author_client.post(
        edit_url(post), second_tab | {"content": "The start, from the second tab.", "tags": "one, two"}
    )

    assert refused.status_code == 409
    html = text_of(refused)
    assert "This story changed since you opened it" in html
    assert "Nothing was overwritten" in html
    # The author's text, still editable, beside the saved one (read only, not sent).
    assert textarea(html, "content") == "The start, from the second tab."
    assert textarea(html, "saved-content") == "The start, from the first tab."
    assert 'name="tags" value="one, two"' in html
    assert "<dd>one</dd>" in html  # the saved tags
    # The three choices, and the form now carries the saved version.
    assert '<input type="hidden" name="version" value="2"' in html
    assert ">Keep mine</button>" in html and 'value="take_theirs">Take theirs</button>' in html
    assert "Save merged version</button>" in html
    assert '<span class="diff-removed">-The start, from the first tab.</span>' in html
    assert '<span class="diff-added">+The start, from the second tab.</span>' in html
    # The focus goes to the explanation (quill.js), which is a heading screen readers announce.
    assert re.search(r'data-focus-on-load>\s*<h2 id="conflict-title" tabindex="-1">', html)
    post.refresh_from_db()
    assert (post.content, post.version) == ("The start, from the first tab.", 2)


def test_keep_mine_saves_over_the_newer_version_knowingly(author_client, user):
    post = PostFactory(author=user, content="Original.")
    stale = form_of(post)
    services.update_post(post=post, editor=user, content="Saved elsewhere.")

    refused = author_client.post(edit_url(post), stale | {"content": "Mine."})
    assert refused.status_code == 409
    # Keep mine sends the same form again, now with the version it was shown.
    kept = author_client.post(edit_url(post), stale | {"content": "Mine.", "version": 2})

    assert kept.status_code == 302 and kept["Location"] == edit_url(post)
    post.refresh_from_db()
    assert (post.content, post.version) == ("Mine.", 3)
    # Nothing is lost: the text saved elsewhere is a revision.
    assert list(post.revisions.values_list("content", flat=True)[:2]) == ["Saved elsewhere.", "Original."]


def test_merging_by_hand_saves_the_merged_text(author_client, user):
    post = PostFactory(author=user, content="Line one.")
    stale = form_of(post)
    services.update_post(post=post, editor=user, content="Line one.\n\nLine two, from elsewhere.")
    author_client.post(edit_url(post), stale | {"content": "Line one, improved."})

    merged = "Line one, improved.\n\nLine two, from elsewhere."
    response = author_client.post(edit_url(post), stale | {"content": merged, "version": 2})

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.content == merged


def test_take_theirs_drops_the_typed_text_for_the_saved_version(author_client, user):
    post = PostFactory(author=user, content="Original.")
    stale = form_of(post)
    services.update_post(post=post, editor=user, content="Saved elsewhere.")
    author_client.post(edit_url(post), stale | {"content": "Mine."})

    response = author_client.post(
        edit_url(post), stale | {"content": "Mine.", "version": 2, "action": "take_theirs"}
    )

    assert response.status_code == 302 and response["Location"] == edit_url(post)
    html = text_of(author_client.get(edit_url(post)))
    assert textarea(html, "content") == "Saved elsewhere."
    assert '<input type="hidden" name="version" value="2"' in html
    # The page tells quill.js that the copy of "Mine." kept in the browser can go.
    assert "data-story-saved>You are editing the saved version now" in html
    post.refresh_from_db()
    assert (post.content, post.version) == ("Saved elsewhere.", 2)


def test_a_status_change_elsewhere_is_a_newer_version_too(author_client, user, moderator):
    post = PostFactory(author=user, content="Up.")
    stale = form_of(post, action="publish")
    services.unpublish_posts(posts=Post.objects.filter(pk=post.pk))  # a moderator took it down

    refused = author_client.post(edit_url(post), stale | {"content": "Edited."})

    assert refused.status_code == 409
    html = text_of(refused)
    # The buttons follow the story as it is now: a draft.
    assert '<span class="badge">Draft</span>' in html
    assert 'name="action" value="publish">Keep mine</button>' in html
    assert not Post.objects.get(pk=post.pk).is_published


def test_a_form_without_a_version_saves_as_before(author_client, user):
    post = PostFactory(author=user, content="Original.")
    services.update_post(post=post, editor=user, content="Newer.")
    form = form_of(post, content="From an old page.")
    del form["version"]
    assert author_client.post(edit_url(post), form).status_code == 302
    post.refresh_from_db()
    assert post.content == "From an old page."


# --- Saving: Ctrl+S's action, unpublishing, errors ----------------------------------------


def test_save_keeps_the_status_and_comes_back_to_the_editor(author_client, user):
    published = PostFactory(author=user, content="Live.")
    response = author_client.post(edit_url(published), form_of(published, content="Live, edited."))
    assert response.status_code == 302 and response["Location"] == edit_url(published)
    published.refresh_from_db()
    assert published.is_published and published.content == "Live, edited."
    assert "Changes saved." in text_of(author_client.get(edit_url(published)))

    draft = PostFactory(author=user, publish=False)
    author_client.post(edit_url(draft), form_of(draft, content="Still a draft."))
    draft.refresh_from_db()
    assert not draft.is_published_or_scheduled and draft.content == "Still a draft."

    response = author_client.post("/write/", {"title": "New", "content": "x", "action": "save"})
    assert response.status_code == 302
    assert Post.objects.get(title="New").status == Post.Status.DRAFT


def test_unpublish_asks_first_and_keeps_the_typed_text(author_client, user):
    post = PostFactory(author=user, content="Up.")

    question = author_client.post(edit_url(post), form_of(post, content="Edited.", action="unpublish"))

    assert question.status_code == 200
    html = text_of(question)
    assert "Unpublish this story?" in html
    assert textarea(html, "content") == "Edited."
    assert 'name="confirmed" value="1"' in html and ">Yes, unpublish</button>" in html
    assert "data-unsaved" in html  # leaving this page asks first
    post.refresh_from_db()
    assert post.is_published and post.content == "Up."


def test_an_editor_page_with_unsaved_text_says_so_to_the_script(author_client, user):
    post = PostFactory(author=user)
    assert "data-unsaved" not in text_of(author_client.get(edit_url(post)))
    failed = author_client.post(edit_url(post), form_of(post, title=" "))
    assert "data-unsaved" in text_of(failed)


# --- Covers and images --------------------------------------------------------------------


def test_a_cover_address_is_saved_and_shown(author_client, user):
    post = PostFactory(author=user)
    cover = "https://images.example.com/cover.jpg"

    author_client.post(edit_url(post), form_of(post, cover_image=cover))

    post.refresh_from_db()
    assert post.cover_image == cover
    editor = text_of(author_client.get(edit_url(post)))
    assert f'src="{cover}" alt="The cover, as readers will see it"' in editor
    assert f'name="cover_image" value="{cover}"' in editor
    page_html = text_of(Client().get(post.get_absolute_url()))
    assert f'<img class="story-cover" src="{cover}"' in page_html
    assert f'<meta property="og:image" content="{cover}">' in page_html


def test_a_cover_can_be_uploaded_with_the_form_and_removed(author_client, user):
    post = PostFactory(author=user)

    author_client.post(edit_url(post), form_of(post) | {"cover_file": png()})

    post.refresh_from_db()
    assert re.fullmatch(r"/media/uploads/\d{4}/\d{2}/[\w-]+\.png", post.cover_image)
    assert author_client.get(post.cover_image).status_code == 200

    author_client.post(edit_url(post), form_of(post, remove_cover="on"))
    post.refresh_from_db()
    assert post.cover_image == ""


def test_a_bad_cover_is_refused_beside_its_field_and_the_text_stays(author_client, user):
    post = PostFactory(author=user)
    response = author_client.post(
        edit_url(post), form_of(post, content="Kept.", cover_image="http://insecure.example/x.jpg")
    )
    assert response.status_code == 200
    html = text_of(response)
    assert "Use an https:// address for the image, or upload one." in html
    assert textarea(html, "content") == "Kept."
    post.refresh_from_db()
    assert post.cover_image == "" and post.content != "Kept."


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_saved(author_client, user):
    post = PostFactory(author=user)
    not_an_image = SimpleUploadedFile("notes.png", b"just text", content_type="image/png")
    response = author_client.post(
        edit_url(post), form_of(post, content="Kept.") | {"cover_file": not_an_image}
    )
    assert response.status_code == 200
    assert "Upload a JPEG, PNG, WebP or GIF image." in text_of(response)
    assert textarea(text_of(response), "content") == "Kept."


def test_an_image_sent_with_the_form_goes_at_the_end_of_the_story(author_client, user):
    post = PostFactory(author=user, content="The text.")
    response = author_client.post(edit_url(post), form_of(post, action="preview") | {"image_file": png()})
    html = text_of(response)
    content = textarea(html, "content")
    assert re.fullmatch(r"The text\.\n\n!\[\]\(/media/uploads/[\w/-]+\.png\)\n", content)
    assert '<img src="/media/uploads/' in html  # in the server-side preview
    post.refresh_from_db()
    assert post.content == "The text."  # a preview saves nothing (the upload is kept)


def test_the_editor_offers_the_upload_endpoint_to_the_script(author_client):
    html = text_of(author_client.get("/write/"))
    assert 'data-upload-url="/media/upload/"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'aria-live="polite"' in html and "data-upload-status" in html


# --- Scheduling ---------------------------------------------------------------------------


def later(**delta: float) -> datetime:
    return (timezone.now() + timedelta(**delta)).replace(microsecond=0)


def test_scheduling_from_the_editor_hides_the_story_until_its_time(author_client, user, other_user):
    post = PostFactory(author=user, title="Coming soon", publish=False)
    when = later(days=2)

    response = author_client.post(
        edit_url(post), form_of(post, action="schedule", publish_at=when.strftime("%Y-%m-%dT%H:%M"))
    )

    assert response.status_code == 302 and response["Location"] == edit_url(post)
    post.refresh_from_db()
    assert post.is_scheduled and post.published_at == when.replace(second=0)  # read in UTC
    editor = text_of(author_client.get(edit_url(post)))
    assert f"Scheduled for {when:%b} {when.day}, {when.year}, {when:%H:%M} UTC." in editor  # the message
    assert '<span class="badge badge-scheduled">Scheduled</span>' in editor
    assert "Time zone: UTC." in editor  # said when the time is read without JavaScript
    assert f'name="publish_at" value="{when:%Y-%m-%dT%H:%M}:00"' in editor
    assert (
        'value="publish">Publish now</button>' in editor
        and 'value="unschedule">Unschedule</button>' in editor
    )

    mine = text_of(author_client.get("/me/stories/"))
    drafts, rest = mine.split('id="scheduled-title"')
    scheduled, published = rest.split('id="published-title"')
    assert "Coming soon" in scheduled and "Coming soon" not in drafts + published
    assert "Scheduled for <time" in scheduled

    reader = Client()
    assert "Coming soon" not in text_of(reader.get("/"))
    assert reader.get(post.get_absolute_url()).status_code == 404
    other = Client()
    other.force_login(other_user)
    assert other.get(post.get_absolute_url()).status_code == 404
    assert other.get(edit_url(post)).status_code == 404


def test_the_browser_sends_its_local_time_with_its_offset(author_client, user):
    post = PostFactory(author=user, publish=False)
    local = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_fixed_timezone(120))
    iso = local.replace(microsecond=0).isoformat()  # e.g. 2026-12-02T14:30:00+02:00

    author_client.post(
        edit_url(post),
        form_of(post, action="schedule", publish_at=f"{local:%Y-%m-%dT%H:%M:%S}", publish_at_iso=iso),
    )

    post.refresh_from_db()
    assert post.published_at == datetime.fromisoformat(iso).astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Choose the date and time to publish at."),
        ("next tuesday", "Give the time as a date and an hour"),
        ("2020-01-01T09:00", "Choose a time in the future (to publish now, press Publish)."),
    ],
)
def test_a_schedule_without_a_usable_time_is_refused_with_the_text_kept(author_client, user, typed, message):
    post = PostFactory(author=user, publish=False, content="Original.")
    response = author_client.post(
        edit_url(post), form_of(post, content="Typed.", action="schedule", publish_at=typed)
    )
    assert response.status_code == 200
    html = text_of(response)
    assert message in html
    assert '<details class="editor-schedule" open' in html  # the field with its error is shown
    assert textarea(html, "content") == "Typed."
    post.refresh_from_db()
    assert not post.is_published_or_scheduled and post.content == "Original."


def test_a_new_story_can_be_scheduled_at_once(author_client, user):
    when = later(hours=5)
    author_client.post(
        "/write/",
        {"title": "Planned", "content": "x", "action": "schedule", "publish_at_iso": when.isoformat()},
    )
    post = Post.objects.get()
    assert post.is_scheduled and post.published_at == when


def test_publish_now_unschedule_and_save_on_a_scheduled_story(author_client, user):
    when = later(days=1)
    post = services.create_post(author=user, title="Planned", content="x", published_at=when)

    author_client.post(edit_url(post), form_of(post, content="Edited."))
    post.refresh_from_db()
    assert post.is_scheduled and post.published_at == when and post.content == "Edited."

    author_client.post(edit_url(post), form_of(post, action="unschedule"))
    post.refresh_from_db()
    assert not post.is_published_or_scheduled
    assert "Unscheduled: the story is a draft again" in text_of(author_client.get(edit_url(post)))

    post = services.create_post(author=user, title="Planned too", content="x", published_at=when)
    response = author_client.post(edit_url(post), form_of(post, action="publish"))
    post.refresh_from_db()
    assert response["Location"] == post.get_absolute_url()
    assert post.is_published and post.published_at is not None and post.published_at <= timezone.now()
    assert "Planned too" in text_of(Client().get("/"))


def test_a_scheduled_story_appears_by_itself_when_its_time_comes(author_client, user):
    post = services.create_post(author=user, title="Soon", content="x", published_at=later(hours=1))
    reader = Client()
    assert "Soon" not in text_of(reader.get("/"))
    Post.objects.filter(pk=post.pk).update(published_at=timezone.now() - timedelta(seconds=1))  # time passes
    assert "Soon" in text_of(reader.get("/"))
    mine = text_of(author_client.get("/me/stories/"))
    assert "Soon" in mine.split('id="published-title"')[1]


# --- History ------------------------------------------------------------------------------


@pytest.fixture
def post_with_history(user) -> Post:
    post = PostFactory(author=user, title="First title", content="One two three.")
    services.update_post(post=post, editor=user, content="One two three four.")  # v2
    services.update_post(post=post, editor=user, tags=["tagged"])  # v3: no new revision
    services.update_post(post=post, editor=user, title="Second title", content="One three four!")  # v4
    return post


def test_the_history_lists_the_versions_with_the_size_of_each_change(author_client, post_with_history):
    post = post_with_history
    response = author_client.get(f"/p/{post.slug}/history/")

    assert response.status_code == 200
    html = text_of(response)
    # A revision keeps the text a save replaced, under the version it had: v2's text (kept by
    # the tags-only v3) as version 3, the first text as version 1. Each change is counted from
    # the version below it, the first version's from nothing.
    assert re.findall(r'class="history-title">\s*(?:<a [^>]*>)?Version (\d+)', html) == ["4", "3", "1"]
    entries = re.findall(r'<li class="history-entry[^"]*">(.*?)</li>', html, re.S)
    assert len(entries) == 3
    current, second, first = entries
    assert "Current" in current and "“Second title”" in current
    assert '<span class="change-added">+1</span> <span class="change-removed">−5</span>' in current
    assert "title changed" in current
    assert '<span class="change-added">+5</span> <span class="change-removed">−0</span>' in second
    assert '<span class="change-added">+14</span> <span class="change-removed">−0</span>' in first
    assert f'href="/p/{post.slug}/history/1/"' in html and f'href="/p/{post.slug}/history/1/restore/"' in html
    assert f'href="/p/{post.slug}/history/"' in text_of(
        author_client.get(edit_url(post))
    )  # linked from the editor


def test_a_version_shows_its_title_and_rendered_text(author_client, user):
    post = PostFactory(author=user, title="Old title", content="Some **bold** words.")
    services.update_post(post=post, editor=user, title="New title", content="Plain.")

    html = text_of(author_client.get(f"/p/{post.slug}/history/1/"))

    assert '<h1 class="story-title">Old title</h1>' in html
    assert "<strong>bold</strong>" in html
    assert "You are reading version 1" in html and "The story is at version 2 now." in html
    assert (
        author_client.get(f"/p/{post.slug}/history/2/").status_code == 404
    )  # the current one is no revision
    assert author_client.get(f"/p/{post.slug}/history/99999999999999999999/").status_code == 404


def test_restoring_asks_first_and_makes_a_new_version(author_client, user):
    post = PostFactory(author=user, title="Old title", content="Old text.")
    services.update_post(post=post, editor=user, title="New title", content="New text.")

    question = author_client.get(f"/p/{post.slug}/history/1/restore/")
    assert question.status_code == 200
    assert "Restore version 1?" in text_of(question)
    assert '<input type="hidden" name="version" value="2">' in text_of(question)
    assert Post.objects.get(pk=post.pk).title == "New title"

    response = author_client.post(f"/p/{post.slug}/history/1/restore/", {"version": "2"})

    assert response.status_code == 302 and response["Location"] == edit_url(post)
    post.refresh_from_db()
    assert (post.title, post.content, post.version) == ("Old title", "Old text.", 3)
    assert list(post.revisions.values_list("version", "title")) == [(2, "New title"), (1, "Old title")]
    assert "Version 1 is restored: it is now version 3." in text_of(author_client.get(edit_url(post)))


def test_restoring_over_a_newer_version_asks_again(author_client, user):
    post = PostFactory(author=user, title="Old title", content="Old text.")
    services.update_post(post=post, editor=user, content="Newer.")
    services.update_post(post=post, editor=user, content="Newest, from another tab.")

    response = author_client.post(f"/p/{post.slug}/history/1/restore/", {"version": "2"})

    assert response.status_code == 409
    assert "The story changed while you were deciding" in text_of(response)
    assert '<input type="hidden" name="version" value="3">' in text_of(response)
    post.refresh_from_db()
    assert post.content == "Newest, from another tab."


@pytest.mark.parametrize("path", ["history/", "history/1/", "history/1/restore/"])
def test_only_the_author_sees_a_storys_history(client, user, other_user, path):
    published = PostFactory(author=user, content="One.")
    draft = PostFactory(author=user, content="One.", publish=False)
    for post in (published, draft):
        services.update_post(post=post, editor=user, content="Two.")

    for visitor in (None, other_user):
        if visitor is not None:
            client.force_login(visitor)
        assert client.get(f"/p/{published.slug}/{path}").status_code == 403
        assert client.get(f"/p/{draft.slug}/{path}").status_code == 404
        assert client.post(f"/p/{published.slug}/history/1/restore/").status_code == 403
    assert Post.objects.get(pk=published.pk).content == "Two."
    assert Revision.objects.count() == 2


def test_the_history_costs_the_same_whatever_its_length(author_client, user, django_assert_max_num_queries):
    post = PostFactory(author=user, content="Start.")
    for number in range(12):
        services.update_post(post=post, editor=user, content=f"Version {number}.")
    with django_assert_max_num_queries(6):
        response = author_client.get(f"/p/{post.slug}/history/")
    assert response.content.decode().count('class="history-entry') == 13


def test_history_pages_have_no_inline_scripts_or_styles(author_client, post_with_history):
    post = post_with_history
    stale = form_of(post, version=1)
    conflict = author_client.post(edit_url(post), stale)
    assert conflict.status_code == 409
    for html in (
        text_of(author_client.get(f"/p/{post.slug}/history/")),
        text_of(author_client.get(f"/p/{post.slug}/history/1/")),
        text_of(author_client.get(f"/p/{post.slug}/history/1/restore/")),
        text_of(conflict),
    ):
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert "<style" not in html and " style=" not in html


# --- A save after the session ended -------------------------------------------------------


def test_a_save_after_signing_out_goes_to_sign_in_and_says_the_text_is_kept(client, user):
    post = PostFactory(author=user, content="Saved.")
    typed = form_of(post, content="Typed while the session ended.")

    for path in ("/write/", edit_url(post)):
        response = client.post(path, typed)
        assert response.status_code == 302
        assert response["Location"] == f"/signin/?next={path}"
        signin = text_of(client.get(response["Location"]))
        assert "Your text is kept in this browser; sign in to save it." in signin
        assert f'name="next" value="{path}"' in signin

    post.refresh_from_db()
    assert post.content == "Saved." and Post.objects.count() == 1
    # Signing in leads back to the editor (quill.js offers the kept copy there).
    response = client.post("/signin/", {"email": user.email, "password": PASSWORD, "next": edit_url(post)})
    assert response.status_code == 302 and response["Location"] == edit_url(post)


def test_the_sign_in_page_does_not_say_it_otherwise(client):
    assert "Your text is kept" not in text_of(client.get("/signin/?next=/me/stories/"))
    assert "Your text is kept" not in text_of(client.get(client.get("/write/")["Location"]))


# --- The header on phones -----------------------------------------------------------------


def test_the_signed_in_header_has_a_menu_for_phones(author_client, user):
    html = text_of(author_client.get("/"))
    menu = html.split('<details class="nav-menu" data-nav-menu>')[1].split("</details>")[0]
    assert '<span class="visually-hidden">Menu</span>' in menu
    for link in ('href="/search/">Search', 'href="/me/stories/">Your stories', 'href="/settings/">Settings'):
        assert link in menu
    assert f'href="/@{user.username}/">Your profile' in menu
    assert ">Sign out</button>" in menu
