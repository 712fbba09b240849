"""The notices' faces: the bell, /notifications/, /settings/notifications/, API v1, and the
emails (at once and daily) with their one-click unsubscribe, over real SMTP."""

import re
from email.message import EmailMessage

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from jobs.testing import run_ready_jobs
from notifications import jobs
from notifications.models import Delivery, Kind, NotificationSetting
from posts import services as post_services
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(db):
    return UserFactory(username="ada", name="Ada")


@pytest.fixture
def author_client(author) -> Client:
    client = Client()
    client.force_login(author)
    return client


def followed_by(author, count: int) -> None:
    for _ in range(count):
        account_services.follow(follower=UserFactory(), followed=author)
    run_ready_jobs()


def text_part(message: EmailMessage) -> str:
    return next(part.get_content() for part in message.walk() if part.get_content_type() == "text/plain")


def test_the_bell_shows_the_unread_count_in_one_query(author, author_client):
    followed_by(author, 2)
    with CaptureQueriesContext(connection) as queries:
        page = author_client.get("/").content.decode()
    assert "Notifications, 2 unread" in page and 'class="bell-count" aria-hidden="true">2<' in page
    touching = [query["sql"] for query in queries.captured_queries if "notifications_" in query["sql"]]
    assert len(touching) == 1, touching
    assert "bell-count" not in Client().get("/").content.decode()  # nobody's bell for readers


def test_the_list_is_newest_first_20_a_page_and_marks_what_it_showed_read(author, author_client):
    followed_by(author, 21)
    first = author_client.get("/notifications/")
    html = first.content.decode()
    assert first.status_code == 200 and html.count('class="notice-item notice-unread"') == 20
    assert "Page 1 of 2" in html and "started following you" in html
    assert "Notifications, 1 unread" in author_client.get("/").content.decode()

    done = author_client.post("/notifications/read/", follow=True)
    assert "All your notifications are marked read." in done.content.decode()
    assert "notice-unread" not in author_client.get("/notifications/?page=2").content.decode()
    assert Client().get("/notifications/").status_code == 302  # sign in first


def test_settings_choose_per_kind_and_refuse_what_is_not_offered(author, author_client):
    page = author_client.get("/settings/notifications/")
    assert page.status_code == 200 and "Claps for my stories" in page.content.decode()
    choices = {kind: Delivery.SITE for kind in Kind.values} | {Kind.CLAP: Delivery.DIGEST}
    assert author_client.post("/settings/notifications/", choices).status_code == 302
    assert NotificationSetting.objects.get(member=author, kind=Kind.CLAP).delivery == Delivery.DIGEST
    refused = author_client.post("/settings/notifications/", choices | {Kind.CLAP: "loudly"})
    assert refused.status_code == 400 and "were not saved" in refused.content.decode()
    assert NotificationSetting.objects.get(member=author, kind=Kind.CLAP).delivery == Delivery.DIGEST


def test_a_response_is_emailed_at_once_and_one_click_unsubscribes(author, smtp_settings, settings):
    settings.SITE_URL = "https://quill.example"
    story = PostFactory(author=author, title="Engines & gears")
    reader = UserFactory(username="bo", name="Bo")
    post_services.add_comment(post=story, author=reader, body="Lovely.")
    run_ready_jobs()
    [message] = smtp_settings.messages
    assert message["To"] == author.email
    assert message["Subject"] == "Bo responded to “Engines & gears”"
    unsubscribe = re.fullmatch(
        r"<(https://quill\.example(/notifications/unsubscribe/\S+/))>", message["List-Unsubscribe"].strip()
    )
    assert unsubscribe and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"https://quill.example{story.get_absolute_url()}#response-" in text_part(message)

    jobs.email_notice.enqueue(notification_id=author.notifications.get().pk)  # a retried job
    run_ready_jobs()
    assert len(smtp_settings.messages) == 1

    mail_client = Client(enforce_csrf_checks=True)  # a mail client: no session, no CSRF token
    path = unsubscribe.group(2)
    assert "Stop the emails" in mail_client.get(path).content.decode()
    assert NotificationSetting.objects.filter(member=author).count() == 0  # a GET changes nothing
    one_click = mail_client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200 and "no more emails" in one_click.content.decode()
    post_services.add_comment(post=story, author=reader, body="Again.")
    run_ready_jobs()
    assert len(smtp_settings.messages) == 1  # still on the site, no longer by email
    assert author.notifications.count() == 2
    assert mail_client.post("/notifications/unsubscribe/forged/").status_code == 400


def test_the_daily_digest_is_one_email_of_whats_new_and_none_when_nothing_is(author, smtp_settings):
    NotificationSetting.objects.create(member=author, kind=Kind.FOLLOW, delivery=Delivery.DIGEST)
    followed_by(author, 2)
    assert smtp_settings.messages == []  # not at once
    jobs.send_digests.enqueue()
    run_ready_jobs()
    [digest] = smtp_settings.messages
    assert digest["Subject"].startswith("2 new on Quill:") and "List-Unsubscribe" in digest
    assert text_part(digest).count("started following you") == 2

    jobs.send_digests.enqueue()  # the same day again
    run_ready_jobs()
    assert len(smtp_settings.messages) == 1


def test_api_lists_and_marks_read(author, api_client_for):
    followed_by(author, 3)
    story = PostFactory(author=author, title="Engines")
    post_services.add_comment(post=story, author=UserFactory(username="bo"), body="Hi")
    run_ready_jobs()
    api = api_client_for(author)
    body = api.get("/api/v1/notifications").json()
    assert set(body) == {"notifications", "count", "unread", "next", "previous"}
    assert (body["count"], body["unread"]) == (4, 4)
    newest = body["notifications"][0]
    assert newest["kind"] == "comment" and newest["actors"][0]["username"] == "bo"
    assert newest["post"] == {"id": str(story.pk), "slug": story.slug, "title": "Engines"}
    assert set(newest) == {"id", "kind", "actors", "actor_count", "post", "comment_id", "created_at", "read"}

    assert api.post("/api/v1/notifications/read", {"ids": [newest["id"]]}, format="json").status_code == 204
    unread = api.get("/api/v1/notifications?unread=true").json()
    assert unread["count"] == 3 and unread["unread"] == 3
    assert api.post("/api/v1/notifications/read", {}, format="json").status_code == 400
    assert api.post("/api/v1/notifications/read", {"all": True}, format="json").status_code == 204
    assert api.get("/api/v1/notifications").json()["unread"] == 0
    assert Client().get("/api/v1/notifications").status_code == 401
