"""API v1's browsable pages are for people: a route list, readable names, sign-in, forms."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
HTML = {"Accept": "text/html"}


def test_the_root_lists_every_route():
    response = Client().get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["signin"] == "http://testserver/api/v1/user/signin"
    assert body["blog"]["published"] == "http://testserver/api/v1/blog/bulk"
    assert body["blog"]["story"] == "http://testserver/api/v1/blog/{id}"
    assert body["docs"] == "http://testserver/api/docs/"


def test_pages_have_readable_names_and_a_sign_in_link_back_to_them():
    html = Client().get("/api/v1/blog/bulk?page_size=5", headers=HTML).content.decode()
    assert "<title>Published stories · Quill API v1</title>" in html
    assert 'href="/signin/?next=/api/v1/blog/bulk%3Fpage_size%3D5"' in html
    assert "Post Bulk" not in html


def test_a_write_only_address_opens_on_its_form_in_a_browser_but_stays_405_for_programs(client, user):
    client.force_login(user)
    page = client.get("/api/v1/blog", headers=HTML)
    assert page.status_code == 200
    html = page.content.decode()
    assert "This address takes POST and PUT: use the form below." in html
    assert "&quot;title&quot;" in html  # the raw form starts from the story body's fields
    assert f"@{user.username}" in html and "Sign out" in html

    assert client.get("/api/v1/blog", HTTP_ACCEPT="application/json").status_code == 405
