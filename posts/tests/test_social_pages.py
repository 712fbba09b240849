"""Claps, follows, responses and the Following feed, as members and readers meet them on the
site's pages (the rules themselves are tested in test_social_services.py)."""

import json
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from accounts import services as account_services
from accounts.models import Follow, User
from accounts.tests.factories import UserFactory
from posts import services
from posts.models import Clap, Comment, Post
from posts.templatetags.comments import comment_html
from posts.tests.factories import PostFactory
from posts.tests.queries import tag_queries

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}  # what quill.js sends
# What a browser sends with a form: JSON is acceptable (*/*) but not preferred.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(autouse=True)
def _generous_comment_rate(settings):
    # Tests write many responses; the rate limit has a test of its own.
    settings.QUILL_COMMENT_RATE = "1000/minute"


@pytest.fixture
def post(other_user) -> Post:
    return PostFactory(author=other_user, title="A story worth clapping for", content="Some text.")


@pytest.fixture
def member_client(client, user):
    client.force_login(user)
    return client


def text_of(response) -> str:
    return response.content.decode()


def flashes(response) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+"[^>]*>([^<]*)</p>', text_of(response))


def clap_button(html: str) -> str:
    match = re.search(r'<button class="clap-button"[^>]*>', html)
    assert match is not None, "no clap button"
    return match[0]


def follow_buttons(html: str) -> list[str]:
    return re.findall(r'<button class="button button-small follow-button"[^>]*>.*?</button>', html, re.S)


def comment_on(post: Post, author: User, body: str) -> Comment:
    return services.add_comment(post=post, author=author, body=body)


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(context.captured_queries)


# --- Claps --------------------------------------------------------------------------------


def test_a_member_sees_the_clap_count_and_an_unpressed_clap_button(member_client, post):
    for fan in UserFactory.create_batch(2):
        services.clap(post=post, member=fan)

    html = text_of(member_client.get(post.get_absolute_url()))

    assert f'action="/p/{post.slug}/clap/"' in html
    button = clap_button(html)
    assert 'aria-pressed="false"' in button and 'value="clap"' in button
    assert "2 claps" in html


def test_clapping_redirects_back_to_the_claps_with_a_message_and_presses_the_button(
    member_client, user, post
):
    response = member_client.post(f"/p/{post.slug}/clap/", {"action": "clap"})
    assert response.status_code == 302 and response["Location"] == post.get_absolute_url()
    assert Clap.objects.filter(post=post, member=user).exists()

    page = member_client.get(post.get_absolute_url())
    assert flashes(page) == ["You clapped for “A story worth clapping for”."]
    button = clap_button(text_of(page))
    assert 'aria-pressed="true"' in button and 'value="unclap"' in button
    assert "1 clap<" in text_of(page)

    member_client.post(f"/p/{post.slug}/clap/", {"action": "unclap"})
    page = member_client.get(post.get_absolute_url())
    assert flashes(page) == ["You took back your clap for “A story worth clapping for”."]
    assert not Clap.objects.exists()
    assert 'aria-pressed="false"' in clap_button(text_of(page))


def test_the_clap_form_comes_back_to_the_claps_and_a_double_submit_stays_one_clap(member_client, user, post):
    html = text_of(member_client.get(post.get_absolute_url()))
    assert f'name="next" value="/p/{post.slug}/#claps"' in html

    for _ in range(2):  # a double click sends the same "clap" twice
        response = member_client.post(
            f"/p/{post.slug}/clap/", {"action": "clap", "next": f"/p/{post.slug}/#claps"}
        )
        assert response["Location"] == f"/p/{post.slug}/#claps"
    assert Clap.objects.filter(post=post).count() == 1


def test_without_an_action_the_clap_button_toggles(member_client, post):
    member_client.post(f"/p/{post.slug}/clap/")
    assert Clap.objects.count() == 1
    member_client.post(f"/p/{post.slug}/clap/")
    assert Clap.objects.count() == 0


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/tag/birds/", "/tag/birds/"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_actions_go_back_to_next_only_when_it_is_on_this_site(member_client, post, next_url, expected):
    response = member_client.post(f"/p/{post.slug}/clap/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == (expected or f"/p/{post.slug}/")


def test_clapping_answers_json_when_asked_and_leaves_no_message(member_client, post):
    response = member_client.post(f"/p/{post.slug}/clap/", {"action": "clap"}, headers=JSON)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "Accept" in response["Vary"]
    assert response.json() == {"clapped": True, "clap_count": 1, "count_text": "1 clap"}
    services.clap(post=post, member=UserFactory())
    response = member_client.post(f"/p/{post.slug}/clap/", {"action": "unclap"}, headers=JSON)
    assert response.json() == {"clapped": False, "clap_count": 1, "count_text": "1 clap"}
    assert flashes(member_client.get(post.get_absolute_url())) == []


def test_a_browser_form_post_gets_the_redirect_not_json(member_client, post):
    response = member_client.post(f"/p/{post.slug}/clap/", {"action": "clap"}, headers=BROWSER)
    assert response.status_code == 302


def test_anonymous_readers_see_the_claps_and_are_sent_to_sign_in_to_clap(client, post):
    services.clap(post=post, member=UserFactory())

    html = text_of(client.get(post.get_absolute_url()))
    assert "1 clap" in html
    assert f'href="/signin/?next=/p/{post.slug}/%23claps"' in html and "Sign in to clap" in html
    assert f'action="/p/{post.slug}/clap/"' not in html

    response = client.post(f"/p/{post.slug}/clap/", {"action": "clap", "next": f"/p/{post.slug}/#claps"})
    assert response.status_code == 302
    assert response["Location"] == f"/signin/?next=/p/{post.slug}/%23claps"
    assert "Sign in to clap for stories." in text_of(client.get(response["Location"]))
    assert Clap.objects.count() == 1

    refused = client.post(f"/p/{post.slug}/clap/", headers=JSON)
    assert refused.status_code == 401
    assert refused.json()["signin_url"] == f"/signin/?next=/p/{post.slug}/"


def test_drafts_and_unknown_stories_cannot_be_clapped(member_client, user, other_user):
    someone_elses_draft = PostFactory(author=other_user, publish=False)
    own_draft = PostFactory(author=user, publish=False)

    assert member_client.post(f"/p/{someone_elses_draft.slug}/clap/").status_code == 404
    assert member_client.post(f"/p/{own_draft.slug}/clap/").status_code == 404
    assert member_client.post("/p/no-such-story/clap/").status_code == 404
    assert not Clap.objects.exists()
    # A draft's page offers neither claps, nor follows, nor responses.
    html = text_of(member_client.get(own_draft.get_absolute_url()))
    assert "/clap/" not in html and "Responses" not in html and "follow-button" not in html


def test_clapping_is_post_only(member_client, post):
    assert member_client.get(f"/p/{post.slug}/clap/").status_code == 405


# --- Follows ------------------------------------------------------------------------------


def test_the_story_page_offers_to_follow_its_author(member_client, user, other_user, post):
    html = text_of(member_client.get(post.get_absolute_url()))

    buttons = follow_buttons(html)
    assert len(buttons) == 2  # in the byline and in the author box
    assert f'action="/@{other_user.username}/follow/"' in html
    assert all('aria-pressed="false"' in button and ">Follow<" in button for button in buttons)
    assert f'<span class="visually-hidden"> {escape(other_user.display_name)}</span>' in buttons[0]

    account_services.follow(follower=user, followed=other_user)
    buttons = follow_buttons(text_of(member_client.get(post.get_absolute_url())))
    assert all('aria-pressed="true"' in button and ">Following<" in button for button in buttons)
    assert all('value="unfollow"' in button for button in buttons)


def test_authors_are_not_offered_to_follow_themselves_and_readers_are_asked_to_sign_in(
    client, other_user, post
):
    client.force_login(other_user)
    assert follow_buttons(text_of(client.get(post.get_absolute_url()))) == []

    client.logout()
    html = text_of(client.get(post.get_absolute_url()))
    assert follow_buttons(html) == []
    assert f'href="/signin/?next=/p/{post.slug}/">Sign in to follow</a>' in html


def test_following_and_unfollowing_redirect_back_with_a_message(member_client, user, other_user, post):
    response = member_client.post(
        f"/@{other_user.username}/follow/", {"action": "follow", "next": post.get_absolute_url()}
    )
    assert response.status_code == 302 and response["Location"] == post.get_absolute_url()
    assert Follow.objects.filter(follower=user, followed=other_user).exists()
    page = member_client.get(response["Location"])
    assert flashes(page) == [
        escape(f"You follow {other_user.display_name}: their new stories appear in Following.")
    ]

    response = member_client.post(f"/@{other_user.username}/follow/", {"action": "unfollow"})
    assert response["Location"] == f"/@{other_user.username}/"  # no next: the author's page
    assert flashes(member_client.get(response["Location"])) == [
        escape(f"You no longer follow {other_user.display_name}.")
    ]
    assert not Follow.objects.exists()


def test_following_twice_is_one_follow_and_a_bare_post_toggles(member_client, other_user):
    for _ in range(2):
        member_client.post(f"/@{other_user.username}/follow/", {"action": "follow"})
    assert Follow.objects.count() == 1
    member_client.post(f"/@{other_user.username}/follow/")
    assert Follow.objects.count() == 0


def test_following_answers_json_when_asked(member_client, other_user):
    account_services.follow(follower=UserFactory(), followed=other_user)

    response = member_client.post(
        f"/@{other_user.username.upper()}/follow/", {"action": "follow"}, headers=JSON
    )

    assert response.status_code == 200
    assert response.json() == {
        "username": other_user.username,
        "following": True,
        "follower_count": 2,
        "count_text": "2 followers",
    }
    response = member_client.post(f"/@{other_user.username}/follow/", {"action": "unfollow"}, headers=JSON)
    assert response.json()["following"] is False and response.json()["count_text"] == "1 follower"


def test_nobody_follows_themselves(member_client, user):
    response = member_client.post(f"/@{user.username}/follow/", {"action": "follow"}, follow=True)
    assert flashes(response) == ["You cannot follow yourself."]
    refused = member_client.post(f"/@{user.username}/follow/", {"action": "follow"}, headers=JSON)
    assert refused.status_code == 400 and refused.json() == {"error": "You cannot follow yourself."}
    assert not Follow.objects.exists()


def test_anonymous_readers_are_sent_to_sign_in_to_follow(client, other_user, post):
    response = client.post(f"/@{other_user.username}/follow/", {"next": post.get_absolute_url()})
    assert response.status_code == 302
    assert response["Location"] == f"/signin/?next=/p/{post.slug}/"
    assert client.post(f"/@{other_user.username}/follow/")["Location"] == (
        f"/signin/?next=/%40{other_user.username}/"
    )
    assert not Follow.objects.exists()


def test_unknown_and_suspended_authors_cannot_be_followed(member_client, other_user):
    assert member_client.post("/@nobody_here/follow/").status_code == 404
    other_user.is_active = False
    other_user.save(update_fields=["is_active"])
    assert member_client.post(f"/@{other_user.username}/follow/").status_code == 404
    assert member_client.get(f"/@{other_user.username}/follow/").status_code == 405
    assert not Follow.objects.exists()


# --- The author page ------------------------------------------------------------------------


def test_the_author_page_shows_followers_and_a_follow_button(member_client, user, other_user):
    for fan in UserFactory.create_batch(2):
        account_services.follow(follower=fan, followed=other_user)

    html = text_of(member_client.get(f"/@{other_user.username}/"))

    assert "2 followers" in html
    assert f'data-follower-count="{other_user.username}"' in html
    [button] = follow_buttons(html)
    assert 'aria-pressed="false"' in button
    assert f'name="next" value="/@{other_user.username}/"' in html

    account_services.follow(follower=user, followed=other_user)
    html = text_of(member_client.get(f"/@{other_user.username}/"))
    assert "3 followers" in html and 'aria-pressed="true"' in follow_buttons(html)[0]


def test_your_own_page_has_no_follow_button_and_readers_sign_in_to_follow(client, user):
    account_services.follow(follower=UserFactory(), followed=user)
    client.force_login(user)
    html = text_of(client.get(f"/@{user.username}/"))
    assert "1 follower<" in html
    assert follow_buttons(html) == [] and "Edit your profile" in html

    client.logout()
    html = text_of(client.get(f"/@{user.username}/"))
    assert follow_buttons(html) == []
    assert f'href="/signin/?next=/%40{user.username}/">Sign in to follow</a>' in html


# --- Responses ----------------------------------------------------------------------------


def test_responses_are_listed_oldest_first_with_their_author_and_date(client, user, other_user, post):
    user.name = "Ada Lovelace"
    user.save(update_fields=["name"])
    comment_on(post, user, "The first response.")
    comment_on(post, other_user, "The author answers.")
    comment_on(post, user, "A third one, newest last.")

    html = text_of(client.get(post.get_absolute_url()))

    bodies = re.findall(r'<div class="response-body"><p>([^<]+)</p></div>', html)
    assert bodies == ["The first response.", "The author answers.", "A third one, newest last."]
    assert "Responses <span" in html and ">3</span>" in html and "3 responses" in html
    assert "Ada Lovelace" in html and f'href="/@{user.username}/"' in html
    assert re.search(r'<time datetime="[^"]+">\w{3} \d{1,2}, \d{4}</time>', html)
    assert html.count('<span class="badge">Author</span>') == 1  # the story's author's response
    first = Comment.objects.order_by("created_at", "id").first()
    assert first is not None and f'id="response-{first.pk}"' in html


def test_a_response_is_plain_text_with_paragraphs_and_links(client, user, post):
    comment_on(
        post,
        user,
        'Hello <b>there</b> & "friends".\nA new line.\n\nSee https://example.com/page?a=1&b=2.'
        "\n\n<script>alert('x')</script> javascript:alert(1)",
    )

    html = text_of(client.get(post.get_absolute_url()))
    body = re.search(r'<div class="response-body">(.*?)</div>', html, re.S)
    assert body is not None

    assert body[1] == (
        "<p>Hello &lt;b&gt;there&lt;/b&gt; &amp; &quot;friends&quot;.<br>A new line.</p>\n\n"
        '<p>See <a href="https://example.com/page?a=1&amp;b=2" rel="nofollow noopener ugc">'
        "https://example.com/page?a=1&amp;b=2</a>.</p>\n\n"
        "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; javascript:alert(1)</p>"
    )


def test_response_html_shortens_long_link_text_but_keeps_the_link_whole():
    url = "https://example.com/" + "a" * 100
    html = comment_html(f"Look: {url}")
    assert f'href="{url}"' in html and "…</a>" in html
    assert comment_html('x" rel="nofollow"') == "<p>x&quot; rel=&quot;nofollow&quot;</p>"


def test_members_get_a_labelled_form_and_readers_a_link_to_sign_in(client, user, post):
    html = text_of(client.get(post.get_absolute_url()))
    assert "<textarea" not in html
    assert f'href="/signin/?next=/p/{post.slug}/%23respond"' in html and "Sign in to respond" in html
    assert "No responses yet." in html

    client.force_login(user)
    html = text_of(client.get(post.get_absolute_url()))
    assert f'action="/p/{post.slug}/responses/#respond"' in html
    assert '<label for="id_body">Your response</label>' in html
    assert re.search(r'<textarea name="body"[^>]*maxlength="5000"', html)
    assert ">Respond</button>" in html


def test_a_member_responds_and_comes_back_to_their_response(member_client, user, post):
    response = member_client.post(f"/p/{post.slug}/responses/", {"body": "Line one\r\nline two"})

    comment = Comment.objects.get()
    assert (comment.author, comment.post, comment.body) == (user, post, "Line one\nline two")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{post.slug}/#response-{comment.pk}"
    page = member_client.get(response["Location"])
    assert flashes(page) == ["Your response is published."]
    assert "<p>Line one<br>line two</p>" in text_of(page)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   \n  ", "Write something first."),
        ("x" * 5001, "Keep a response to 5,000 characters or fewer (it has 5,001)."),
        ("Nul\x00here", "Null characters are not allowed."),  # the form field's own check, as in the editor
    ],
)
def test_a_refused_response_shows_why_beside_the_text_which_is_kept(member_client, post, body, message):
    response = member_client.post(f"/p/{post.slug}/responses/", {"body": body})

    assert response.status_code == 200
    html = text_of(response)
    assert message in html
    assert re.search(r'<div class="field field-invalid">', html)
    if body.strip() and "\x00" not in body:
        assert f">\n{body}</textarea>" in html
    assert post.title in html  # it is the story page, with its responses
    assert not Comment.objects.exists()


def test_posting_too_often_is_refused_with_429_and_the_text_kept(member_client, post, settings):
    settings.QUILL_COMMENT_RATE = "2/minute"
    for number in range(2):
        assert (
            member_client.post(f"/p/{post.slug}/responses/", {"body": f"Quick {number}"}).status_code == 302
        )

    response = member_client.post(f"/p/{post.slug}/responses/", {"body": "One too many"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = text_of(response)
    assert "You are responding too often. Please wait" in html
    assert ">\nOne too many</textarea>" in html
    assert Comment.objects.count() == 2


def test_responding_answers_json_when_asked(member_client, post):
    created = member_client.post(f"/p/{post.slug}/responses/", {"body": "Hi"}, headers=JSON)
    comment = Comment.objects.get()
    assert created.status_code == 201
    assert created.json() == {"id": comment.pk, "url": f"/p/{post.slug}/#response-{comment.pk}"}

    refused = member_client.post(f"/p/{post.slug}/responses/", {"body": " "}, headers=JSON)
    assert refused.status_code == 400
    assert refused.json()["details"] == {"body": ["Write something first."]}


def test_anonymous_readers_and_drafts_get_no_responses(client, user, other_user, post):
    response = client.post(f"/p/{post.slug}/responses/", {"body": "Hello"})
    assert response.status_code == 302
    assert response["Location"] == f"/signin/?next=/p/{post.slug}/%23respond"
    assert "Sign in to respond." in text_of(client.get(response["Location"]))

    client.force_login(user)
    draft = PostFactory(author=other_user, publish=False)
    assert client.post(f"/p/{draft.slug}/responses/", {"body": "Hello"}).status_code == 404
    own_draft = PostFactory(author=user, publish=False)
    assert client.post(f"/p/{own_draft.slug}/responses/", {"body": "Hello"}).status_code == 404
    assert not Comment.objects.exists()
    # Going back to a refused form's address lands on the story's responses.
    assert client.get(f"/p/{post.slug}/responses/")["Location"] == f"/p/{post.slug}/#responses"


# --- Deleting responses -------------------------------------------------------------------


def delete_links(html: str) -> list[str]:
    return re.findall(r'href="(/p/[^/]+/responses/\d+/delete/)"', html)


def test_delete_is_offered_to_the_responses_author_the_storys_author_and_moderators(
    client, user, other_user, moderator, post
):
    mine = comment_on(post, user, "Mine")
    theirs = comment_on(post, UserFactory(), "Someone else's")
    both = [f"/p/{post.slug}/responses/{comment.pk}/delete/" for comment in (mine, theirs)]

    assert delete_links(text_of(client.get(post.get_absolute_url()))) == []
    client.force_login(user)
    assert delete_links(text_of(client.get(post.get_absolute_url()))) == both[:1]
    client.force_login(other_user)  # the story's author
    assert delete_links(text_of(client.get(post.get_absolute_url()))) == both
    client.force_login(moderator)
    assert delete_links(text_of(client.get(post.get_absolute_url()))) == both
    client.force_login(UserFactory())
    assert delete_links(text_of(client.get(post.get_absolute_url()))) == []


def test_deleting_a_response_asks_first_then_deletes_it(member_client, user, post):
    comment = comment_on(post, user, "Regrettable words.")
    address = f"/p/{post.slug}/responses/{comment.pk}/delete/"

    confirm = member_client.get(address)
    assert confirm.status_code == 200
    html = text_of(confirm)
    assert "Delete this response?" in html and "Regrettable words." in html
    assert f'action="{address}"' in html
    assert Comment.objects.exists()

    response = member_client.post(address, {"next": f"/p/{post.slug}/#responses"})
    assert response.status_code == 302 and response["Location"] == f"/p/{post.slug}/#responses"
    assert not Comment.objects.exists()
    page = member_client.get(response["Location"])
    assert flashes(page) == ["The response is deleted."]
    assert "Regrettable words." not in text_of(page)


@pytest.mark.parametrize("deleter", ["story_author", "moderator"])
def test_the_storys_author_and_moderators_can_delete_a_response(client, user, other_user, moderator, deleter):
    post = PostFactory(author=other_user)
    comment = comment_on(post, user, "Off topic.")
    client.force_login(other_user if deleter == "story_author" else moderator)

    response = client.post(f"/p/{post.slug}/responses/{comment.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == f"/p/{post.slug}/#responses"
    assert not Comment.objects.exists()


def test_others_cannot_delete_someones_response(client, user, post):
    comment = comment_on(post, user, "Still here.")
    address = f"/p/{post.slug}/responses/{comment.pk}/delete/"

    client.force_login(UserFactory())
    for method in ("get", "post"):
        response = getattr(client, method)(address)
        assert response.status_code == 403
        assert "You do not have permission to do that." in text_of(response)
    client.logout()
    assert client.post(address).status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_a_response_is_only_found_under_its_own_story(member_client, user, post):
    comment = comment_on(post, user, "Here.")
    elsewhere = PostFactory()
    assert member_client.get(f"/p/{elsewhere.slug}/responses/{comment.pk}/delete/").status_code == 404
    assert member_client.post(f"/p/{post.slug}/responses/999999/delete/").status_code == 404
    assert Comment.objects.exists()


# --- Story cards -----------------------------------------------------------------------------


def test_story_cards_show_clap_and_response_counts(client, user, other_user):
    popular = PostFactory(author=other_user, title="Popular", tags=["birds"])
    PostFactory(author=other_user, title="Quiet", tags=["birds"])
    for fan in UserFactory.create_batch(12):
        services.clap(post=popular, member=fan)
    for number in range(3):
        comment_on(popular, user, f"Response {number}")

    for path in ("/", "/tag/birds/", "/search/?q=popular", f"/@{other_user.username}/"):
        html = text_of(client.get(path))
        assert '<span class="visually-hidden">12 claps</span>' in html, path
        assert '<span class="visually-hidden">3 responses</span>' in html, path
        assert f'href="/p/{popular.slug}/#responses"' in html, path
        if path != "/search/?q=popular":
            assert '<span class="visually-hidden">0 claps</span>' in html, path


@pytest.mark.parametrize("signed_in", [False, True])
def test_counts_on_story_cards_cost_no_query_per_story(client, user, signed_in):
    if signed_in:
        client.force_login(user)
    authors = UserFactory.create_batch(3)
    PostFactory(author=authors[0], title="Pool story", tags=["pools"])
    paths = ["/", "/?page=2", "/tag/pools/", f"/@{authors[0].username}/", "/search/?q=pool"]
    before = {path: queries_for(client, path) for path in paths}

    fans = UserFactory.create_batch(3)
    for number in range(14):
        post = PostFactory(author=authors[number % 3], title=f"Pool story {number}", tags=["pools"])
        for fan in fans:
            services.clap(post=post, member=fan)
            comment_on(post, fan, "Nice.")

    assert {path: queries_for(client, path) for path in paths} == before
    assert '<span class="visually-hidden">3 claps</span>' in text_of(client.get("/"))


# --- The story page's queries ------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_story_page_costs_the_same_queries_whatever_its_claps_and_responses(
    client, user, other_user, signed_in
):
    if signed_in:
        client.force_login(user)
    quiet = PostFactory(author=other_user, tags=["a", "b"])
    comment_on(quiet, user, "Only one.")
    busy = PostFactory(author=other_user, tags=["a", "b"])
    for number in range(20):
        fan = UserFactory()
        services.clap(post=busy, member=fan)
        comment_on(busy, fan, f"Response {number} https://example.com/{number}")
    comment_on(busy, user, "Mine, deletable.")

    assert queries_for(client, quiet.get_absolute_url()) == queries_for(client, busy.get_absolute_url())
    with CaptureQueriesContext(connection) as context:
        client.get(busy.get_absolute_url())
    # The story with its counts, flags (and tags on Postgres), its responses (+ session, user
    # and the bell's unread count).
    assert len(context.captured_queries) == (5 if signed_in else 2) + tag_queries()


# --- Following ----------------------------------------------------------------------------


def test_following_needs_a_signed_in_member(client):
    response = client.get("/following/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/following/"


def test_the_header_links_to_following_for_members_only(client, user):
    assert 'href="/following/"' not in text_of(client.get("/"))
    client.force_login(user)
    assert '<a class="nav-following" href="/following/">Following</a>' in text_of(client.get("/"))


def test_following_lists_the_followed_authors_stories_newest_first(member_client, user, other_user):
    third = UserFactory()
    account_services.follow(follower=user, followed=other_user)
    account_services.follow(follower=user, followed=third)
    PostFactory(author=other_user, title="Older followed")
    PostFactory(author=UserFactory(), title="Not followed")
    PostFactory(author=third, title="Newer followed")
    PostFactory(author=other_user, title="A followed draft", publish=False)
    PostFactory(author=user, title="My own")

    response = member_client.get("/following/")

    assert response.status_code == 200
    html = text_of(response)
    titles = re.findall(r'class="story-card-title"><a href="[^"]+">([^<]+)</a>', html)
    assert titles == ["Newer followed", "Older followed"]
    assert "<title>Following · Quill</title>" in html
    assert "0 claps" in html
    assert "Authors to follow" not in html


def test_following_shows_ten_stories_a_page(member_client, user, other_user):
    account_services.follow(follower=user, followed=other_user)
    for number in range(12):
        PostFactory(author=other_user, title=f"Story {number:02d}")

    first = text_of(member_client.get("/following/"))
    assert first.count('class="story-card"') == 10 and "Page 1 of 2" in first
    second = text_of(member_client.get("/following/?page=2"))
    assert second.count('class="story-card"') == 2 and "Following, page 2 · Quill" in second


def test_an_empty_feed_suggests_recent_authors_to_follow(member_client, user, other_user):
    followed, recent, older, silent = UserFactory.create_batch(4)
    account_services.follow(follower=user, followed=followed)
    PostFactory(author=older, title="An older story")
    PostFactory(author=recent, title="The newest story")
    PostFactory(author=user, title="My own story")
    PostFactory(author=silent, title="Only a draft", publish=False)
    suspended = UserFactory(is_active=False)
    PostFactory(author=suspended, title="By a suspended member")

    html = text_of(member_client.get("/following/"))

    assert "No stories here yet." in html
    assert "Authors to follow" in html
    suggested = re.findall(r'<a class="author-name" href="/@(\w+)/">', html)
    assert suggested == [recent.username, older.username]
    assert "Latest: <a" in html and "The newest story" in html
    assert len(follow_buttons(html)) == 2
    assert 'name="next" value="/following/"' in html

    response = member_client.post(f"/@{recent.username}/follow/", {"action": "follow", "next": "/following/"})
    assert response["Location"] == "/following/"
    assert "The newest story" in text_of(member_client.get("/following/"))


def test_an_empty_feed_with_nobody_to_suggest_points_to_the_newest_stories(member_client):
    html = text_of(member_client.get("/following/"))
    assert "No stories here yet." in html and "Authors to follow" not in html
    assert 'href="/">Browse the newest stories</a>' in html


def test_following_costs_a_fixed_number_of_queries(member_client, user, django_assert_max_num_queries):
    authors = UserFactory.create_batch(5)
    for author in authors:
        PostFactory(author=author)
    with CaptureQueriesContext(connection) as empty:  # suggestions
        member_client.get("/following/")
    assert len(empty.captured_queries) <= 5  # session, user, count, suggestions, the bell

    for author in authors:
        account_services.follow(follower=user, followed=author)
        for number in range(3):
            post = PostFactory(author=author, tags=[f"t{number}", "x"])
            services.clap(post=post, member=UserFactory())
    with django_assert_max_num_queries(6):  # session, user, count, page, tags, the bell
        response = member_client.get("/following/")
    assert text_of(response).count('class="story-card"') == 10


def test_what_following_shows_is_never_cached(member_client):
    response = member_client.get("/following/")
    assert "no-store" in response["Cache-Control"]


# --- CSRF and CSP ---------------------------------------------------------------------------


def test_social_forms_refuse_a_post_without_the_csrf_token(user, other_user, post):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    comment = comment_on(post, user, "Kept.")

    for path, data in (
        (f"/p/{post.slug}/clap/", {"action": "clap"}),
        (f"/@{other_user.username}/follow/", {"action": "follow"}),
        (f"/p/{post.slug}/responses/", {"body": "Forged"}),
        (f"/p/{post.slug}/responses/{comment.pk}/delete/", {}),
    ):
        response = csrf_client.post(path, data)
        assert response.status_code == 403, path
        assert "This form has expired or came from another site." in text_of(response)
        assert csrf_client.post(path, data, headers=JSON).status_code == 403, path

    assert not Clap.objects.exists() and not Follow.objects.exists()
    assert list(Comment.objects.values_list("body", flat=True)) == ["Kept."]


def test_social_forms_work_with_the_csrf_token_they_carry(user, other_user, post):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    html = text_of(csrf_client.get(post.get_absolute_url()))
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match is not None
    token = match[1]

    assert (
        csrf_client.post(f"/p/{post.slug}/clap/", {"csrfmiddlewaretoken": token}, headers=JSON).status_code
        == 200
    )
    follow = csrf_client.post(
        f"/@{other_user.username}/follow/", {"csrfmiddlewaretoken": token}, headers=JSON
    )
    assert json.loads(follow.content)["following"] is True
    posted = csrf_client.post(f"/p/{post.slug}/responses/", {"csrfmiddlewaretoken": token, "body": "Hi"})
    assert posted.status_code == 302
    assert Clap.objects.count() == Follow.objects.count() == Comment.objects.count() == 1


def test_the_new_pages_have_no_inline_scripts_or_styles(client, user, other_user, post):
    comment = comment_on(post, user, "A response with https://example.com/ in it.")
    account_services.follow(follower=UserFactory(), followed=other_user)
    pages = [
        (user, post.get_absolute_url()),
        (user, f"/p/{post.slug}/responses/{comment.pk}/delete/"),
        (user, "/following/"),
        (user, f"/@{other_user.username}/"),
        (None, post.get_absolute_url()),
        (None, f"/@{other_user.username}/"),
    ]
    client.force_login(user)
    refused = client.post(f"/p/{post.slug}/responses/", {"body": " "})
    bodies = [("refused response", text_of(refused))]
    for who, path in pages:
        if who is None:
            client.logout()
        else:
            client.force_login(who)
        response = client.get(path)
        assert response.status_code == 200, path
        bodies.append((path, text_of(response)))
    for path, html in bodies:
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path


# --- Moderation -----------------------------------------------------------------------------

COMMENTS = "/admin/posts/comment/"


def listed_comments(response) -> list[str]:
    return re.findall(r'<th class="field-short_body"><a href="[^"]+">([^<]*)</a>', text_of(response))


def test_responses_are_listed_for_moderators_with_story_author_and_date(moderator_client, user, post):
    comment_on(post, user, "A short one.")
    comment_on(post, user, "Long " + "words " * 40)

    response = moderator_client.get(COMMENTS)

    assert response.status_code == 200
    html = text_of(response)
    listed = listed_comments(response)
    assert listed[1] == "A short one."
    assert listed[0].startswith("Long words words") and listed[0].endswith("…") and len(listed[0]) == 80
    assert "A story worth clapping for" in html and f"@{user.username}" in html
    for column in ("column-post_title", "column-author", "column-created_at"):
        assert column in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [("pelicans", ["I like pelicans."]), ("heron_fan", ["Herons!"]), ("Birds of", ["Herons!"])],
)
def test_responses_can_be_searched_by_text_author_and_story_title(moderator_client, user, query, expected):
    heron_fan = UserFactory(username="heron_fan")
    comment_on(PostFactory(title="Notes"), user, "I like pelicans.")
    comment_on(PostFactory(title="Birds of the coast"), heron_fan, "Herons!")

    assert listed_comments(moderator_client.get(COMMENTS, {"q": query})) == expected


def test_responses_can_be_deleted_in_bulk(moderator_client, user, post):
    doomed = [comment_on(post, user, "Spam one"), comment_on(post, user, "Spam two")]
    kept = comment_on(post, user, "Fine")
    selected = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [comment.pk for comment in doomed]}

    confirm = moderator_client.post(COMMENTS, selected)
    assert "Are you sure you want to delete the selected comments?" in text_of(confirm)
    moderator_client.post(COMMENTS, selected | {"post": "yes"})

    assert list(Comment.objects.all()) == [kept]


def test_a_response_is_read_only_in_the_admin(moderator_client, user, post):
    comment = comment_on(post, user, "As written.")
    change_url = f"{COMMENTS}{comment.pk}/change/"

    page = moderator_client.get(change_url)
    assert page.status_code == 200 and "As written." in text_of(page)
    response = moderator_client.post(
        change_url, {"post": post.pk, "author": user.pk, "body": "Edited", "_save": "Save"}
    )
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.body == "As written."
    assert moderator_client.get(f"{COMMENTS}add/").status_code == 403


def test_the_response_list_uses_a_fixed_number_of_queries(moderator_client, django_assert_max_num_queries):
    authors = UserFactory.create_batch(5)
    for number in range(15):
        comment_on(PostFactory(author=authors[number % 5]), authors[(number + 1) % 5], f"Response {number}")

    with django_assert_max_num_queries(10):
        response = moderator_client.get(COMMENTS)
    assert len(listed_comments(response)) == 15


def test_the_story_list_shows_claps_and_responses(moderator_client, user, django_assert_max_num_queries):
    post = PostFactory(author=user, title="Applauded")
    for fan in UserFactory.create_batch(3):
        services.clap(post=post, member=fan)
        comment_on(post, fan, "Bravo")
    for _ in range(10):
        PostFactory(author=user)

    with django_assert_max_num_queries(12):
        response = moderator_client.get("/admin/posts/post/")
    html = text_of(response)
    assert "column-claps" in html and "column-comments" in html
    row = re.search(r"Applauded</a></th>(.*?)</tr>", html, re.S)
    assert row is not None
    assert '<td class="field-claps">3</td>' in row[1] and '<td class="field-comments">3</td>' in row[1]
    # Sorting by the counts works too.
    assert moderator_client.get("/admin/posts/post/", {"o": "-6"}).status_code == 200
