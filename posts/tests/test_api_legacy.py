"""A client written for the original Hono app keeps working against Quill unchanged."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


class LegacyClient:
    """Speaks only what the original app's front end did: JSON bodies, the token in "jwt"."""

    def __init__(self) -> None:
        self.http = Client()
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if method == "get":
            response = self.http.get(path, headers=headers)
        else:
            send = getattr(self.http, method)
            response = send(path, json.dumps(body), content_type="application/json", headers=headers)
        return response.status_code, response.json()

    def signup(self, email: str, password: str, name: str) -> int:
        status, body = self.call(
            "post", "/api/v1/user/signup", {"email": email, "password": password, "name": name}
        )
        self.token = body.get("jwt", "")
        return status

    def signin(self, email: str, password: str) -> int:
        status, body = self.call("post", "/api/v1/user/signin", {"email": email, "password": password})
        self.token = body.get("jwt", "")
        return status


def test_the_original_apps_client_flow_works_unchanged():
    client = LegacyClient()
    assert client.signup("legacy@example.com", "hono-was-here-2024", "Legacy Writer") == 201
    client.token = ""
    assert client.signin("legacy@example.com", "hono-was-here-2024") == 200
    assert client.token

    status, created = client.call("post", "/api/v1/blog", {"title": "From Hono", "content": "Still works."})
    assert status == 201
    post_id = created["id"]

    status, updated = client.call("put", "/api/v1/blog", {"id": post_id, "title": "From Hono, edited"})
    assert status == 200
    assert updated["id"] == post_id

    status, read = client.call("get", f"/api/v1/blog/{post_id}")
    assert status == 200
    assert read["post"]["title"] == "From Hono, edited"
    assert read["post"]["content"] == "Still works."
    assert read["post"]["author"]["name"] == "Legacy Writer"

    status, listing = client.call("get", "/api/v1/blog/bulk")
    assert status == 200
    assert [post["id"] for post in listing["posts"]] == [post_id]
    assert listing["posts"][0]["published"] is True  # the original app published on create
