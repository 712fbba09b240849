"""Mentions link to the member's author page, in stories and in responses: by the one rule of
what a mention is (accounts.mentions, which notifications follow too), for active members only."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.mentions import MENTIONS_PER_TEXT
from accounts.tests.factories import UserFactory
from posts import services
from posts.markdown import render_markdown
from posts.templatetags.comments import comment_html
from posts.tests.factories import PostFactory
from posts.tests.test_markdown import assert_safe

pytestmark = pytest.mark.django_db

STORY_LINK = '<a href="/@Ada_L/" rel="nofollow noopener noreferrer ugc">{}</a>'
RESPONSE_LINK = '<a href="/@Ada_L/">{}</a>'


@pytest.fixture(autouse=True)
def _generous_comment_rate(settings):
    settings.QUILL_COMMENT_RATE = "1000/minute"


@pytest.fixture
def ada():
    return UserFactory(username="Ada_L")


def story_links(html: str) -> list[str]:
    return re.findall(r'<a href="/@(\w+)/"', html)


# --- Stories ----------------------------------------------------------------------------------


def test_a_members_mention_links_to_their_author_page(ada):
    html = render_markdown("Thanks @Ada_L, and *@ada_l* again.")
    assert html == (
        f"<p>Thanks {STORY_LINK.format('@Ada_L')}, and <em>{STORY_LINK.format('@ada_l')}</em> again.</p>\n"
    )
    assert_safe(html)


def test_the_name_is_matched_whatever_its_case_and_the_link_uses_the_members_own(ada):
    assert STORY_LINK.format("@ADA_L") in render_markdown("Hello @ADA_L.")


def test_an_unknown_name_or_a_suspended_member_is_not_linked(ada):
    UserFactory(username="gone", is_active=False)
    html = render_markdown("Hello @nobody, @gone and @ada_l.")
    assert story_links(html) == ["Ada_L"]
    assert "@nobody" in html and "@gone" in html


def test_mentions_in_code_are_not_linked(ada):
    html = render_markdown(
        "Inline `@ada_l`.\n\n```\n@ada_l\n```\n\n~~~python\n@ada_l\n~~~\n\n    @ada_l indented\n"
    )
    assert story_links(html) == []
    assert "<code>@ada_l</code>" in html


def test_email_addresses_and_paths_are_not_mentions(ada):
    html = render_markdown("Mail ada_l@example.com or see example.com/@ada_l and x.@ada_l")
    assert story_links(html) == []


def test_a_mention_inside_an_existing_link_stays_that_link(ada):
    html = render_markdown(
        "[hello @ada_l](https://example.com) and <https://example.com/?u=@ada_l> and [x](/@ada_l/ '@ada_l')"
    )
    assert story_links(html) == ["ada_l"]  # the author's own link, untouched
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer ugc">hello @ada_l</a>' in html
    assert "<a <a" not in html and html.count("<a ") == 3


def test_mentions_in_headings_tables_and_footnotes_are_linked_too(ada):
    html = render_markdown("## By @ada_l\n\n| who |\n|--|\n| @ada_l |\n\nSee[^1]\n\n[^1]: Thanks to @ada_l.")
    assert story_links(html) == ["Ada_L", "Ada_L", "Ada_L"]


def test_only_the_first_names_of_a_long_list_are_linked_as_only_they_are_told():
    members = [UserFactory(username=f"m{number}") for number in range(MENTIONS_PER_TEXT + 1)]
    html = render_markdown(" ".join(f"@{member.username}" for member in members))
    assert story_links(html) == [member.username for member in members[:MENTIONS_PER_TEXT]]


def test_a_rendering_looks_the_mentioned_names_up_in_one_query_and_none_without_mentions(
    ada, django_assert_num_queries
):
    UserFactory(username="bo")
    with django_assert_num_queries(1):
        render_markdown("@ada_l, @bo, @nobody and @ADA_L again")
    with django_assert_num_queries(0):
        render_markdown("No one here: ada@example.com, `@ada_l`.")


def test_a_saved_story_shows_its_mentions_as_links(client, ada):
    post = PostFactory(content="A story for @ada_l.")
    assert STORY_LINK.format("@ada_l") in client.get(post.get_absolute_url()).content.decode()


def test_rerendering_links_the_mentions_of_members_who_joined_since(ada):
    post = PostFactory(content="Waiting for @newcomer.")
    assert story_links(post.html) == []
    UserFactory(username="newcomer")
    call_command("rerender_stories", stdout=io.StringIO())
    post.refresh_from_db()
    assert story_links(post.html) == ["newcomer"]


# --- Responses --------------------------------------------------------------------------------


def linked(body: str) -> str:
    return comment_html(body, {"ada_l": "Ada_L"})


def test_a_response_links_a_members_mention_whatever_its_case():
    assert linked("Thanks @ADA_L!") == f"<p>Thanks {RESPONSE_LINK.format('@ADA_L')}!</p>"
    assert linked('"@ada_l" & <b>@ada_l</b>') == (
        f"<p>&quot;{RESPONSE_LINK.format('@ada_l')}&quot; &amp; "
        f"&lt;b&gt;{RESPONSE_LINK.format('@ada_l')}&lt;/b&gt;</p>"
    )


def test_a_response_does_not_link_unknown_names_code_addresses_paths_or_inside_links():
    body = (
        "Hi @nobody, `@ada_l`,\n```\n@ada_l\n```\nada_l@example.com, example.com/@ada_l, "
        "https://example.com/?u=@ada_l"
    )
    html = linked(body)
    assert story_links(html) == []
    assert '<a href="https://example.com/?u=%40ada_l" rel="nofollow noopener ugc">' in html


def test_a_response_alone_looks_its_mentions_up_itself(ada, django_assert_num_queries):
    with django_assert_num_queries(1):
        html = comment_html("Thanks @ada_l and @nobody")
    assert html == f"<p>Thanks {RESPONSE_LINK.format('@ada_l')} and @nobody</p>"


def test_a_response_on_the_story_page_links_its_mentions(client, ada, user):
    post = PostFactory()
    services.add_comment(post=post, author=user, body="Agreed, @ada_l and @nobody.")
    html = client.get(post.get_absolute_url()).content.decode()
    body = re.search(r'<div class="response-body">(.*?)</div>', html, re.S)
    assert body is not None
    assert body[1] == f"<p>Agreed, {RESPONSE_LINK.format('@ada_l')} and @nobody.</p>"


def test_the_deletion_page_links_the_responses_mentions_too(client, ada, user):
    post = PostFactory()
    comment = services.add_comment(post=post, author=user, body="Sorry @ada_l.")
    client.force_login(user)
    html = client.get(f"/p/{post.slug}/responses/{comment.pk}/delete/").content.decode()
    assert RESPONSE_LINK.format("@ada_l") in html


def queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def test_the_story_page_looks_up_its_responses_mentions_in_one_query_whatever_their_number(client, user):
    quiet, one, busy = PostFactory(), PostFactory(), PostFactory()
    services.add_comment(post=quiet, author=user, body="Nobody mentioned.")
    services.add_comment(post=one, author=user, body=f"Hi @{UserFactory().username}.")
    for _ in range(15):
        services.add_comment(post=busy, author=user, body=f"Hi @{UserFactory().username} @nobody.")

    assert queries_for(client, one.get_absolute_url()) == queries_for(client, quiet.get_absolute_url()) + 1
    assert queries_for(client, busy.get_absolute_url()) == queries_for(client, one.get_absolute_url())
    mentions = re.findall(r'<a href="/@\w+/">@\w+</a>', client.get(busy.get_absolute_url()).content.decode())
    assert len(mentions) == 15
