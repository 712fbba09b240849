"""Accounts' emails go out by jobs, over real SMTP (aiosmtpd on loopback): the request answers at
once, the worker sends a text part and an HTML part, and an SMTP server that is down loses
nothing."""

import re
from email.message import EmailMessage

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from accounts.tests.factories import PASSWORD
from blog_project.tests.realworld.contract import client_for
from jobs.testing import run_ready_jobs

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-fresh-and-long-passphrase"


def parts(message: EmailMessage) -> dict[str, str]:
    """The message's text and HTML parts, by content type."""
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_a_reset_request_answers_at_once_and_the_worker_mails_a_working_link(client, user, smtp_settings):
    response = client.post("/password-reset/", {"email": user.email})
    assert response.status_code == 302
    assert smtp_settings.messages == []  # nothing is sent inside the request
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1

    run_ready_jobs()

    [message] = smtp_settings.messages
    assert message["To"] == user.email
    assert message["Subject"] == "Set a new Quill password"
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    found = re.search(r"http://testserver(/password-reset/\S+/)", body["text/plain"])
    assert found, body["text/plain"]
    link = found.group(1)
    assert f'href="http://testserver{link}"' in body["text/html"]
    assert "token" not in str(DBTaskResult.objects.get().args_kwargs)  # made when the job ran

    choose = client.get(link, follow=True)
    assert choose.status_code == 200
    done = client.post(
        choose.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_an_unknown_email_gets_the_same_answer_and_no_job(client, user, smtp_settings):
    response = client.post("/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert not DBTaskResult.objects.exists()


def test_with_smtp_down_the_request_succeeds_and_the_mail_arrives_once_when_it_is_back(
    client, user, smtp_settings, settings
):
    smtp_settings.stop()
    assert client.post("/password-reset/", {"email": user.email}).status_code == 302

    run_ready_jobs()
    job = DBTaskResult.objects.get()
    assert job.status == TaskResultStatus.READY  # kept, to be tried again after a pause
    assert job.run_after > timezone.now()

    smtp_settings.start()
    DBTaskResult.objects.update(run_after=timezone.now())  # the pause is over
    run_ready_jobs()
    run_ready_jobs()
    assert [message["To"] for message in smtp_settings.messages] == [user.email]
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_a_new_email_is_told_to_the_old_address_on_every_face(user, smtp_settings):
    old = user.email
    browser = Client()
    browser.force_login(user)
    assert (
        browser.post("/settings/email/", {"email": "second@example.com", "password": PASSWORD}).status_code
        == 302
    )
    client_for(User.objects.get(pk=user.pk)).put("/user", json_body={"user": {"email": "third@example.com"}})

    run_ready_jobs()

    told = {message["To"]: parts(message) for message in smtp_settings.messages}
    assert set(told) == {old, "second@example.com"}
    assert f"used this address ({old}) now signs in with another address" in told[old]["text/plain"]
    assert "third@example.com" not in told["second@example.com"]["text/html"]
    assert "now signs in with another address" in told["second@example.com"]["text/html"]
