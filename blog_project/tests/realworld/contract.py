"""Quill's RealWorld API answers, checked against the RealWorld OpenAPI document beside this
file (README.md says where it comes from).

`RealWorldClient` speaks the API as a RealWorld front end does (JSON bodies, `Authorization:
Token <jwt>`) and checks every answer: its status is one the document lists for the operation
(or one of the few in UNDOCUMENTED), and its body validates against the document's schema for
that status, found by (method, path template, status) and resolved with `referencing` so the
schemas' own "#/components/schemas/..." references resolve too.
"""

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import yaml
from django.test import Client
from django.test.client import ClientHandler
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from accounts.models import User
from accounts.services import issue_access_token
from faces.api.realworld import FACE as REALWORLD
from faces.api.v1 import FACE as V1

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

DOCUMENT_URI = "urn:realworld"
DOCUMENT: dict[str, Any] = yaml.safe_load(Path(__file__).with_name("openapi.yml").read_text(encoding="utf-8"))
REGISTRY: Registry[Any] = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(DOCUMENT))
# Where the document's paths live: its server is https://api.realworld.show/api.
BASE_PATH = urlsplit(DOCUMENT["servers"][0]["url"]).path
ERROR_SCHEMA = "/components/schemas/GenericErrorModel"

# Statuses Quill answers that the document does not list for the operation, and why. Their
# bodies are still the document's GenericErrorModel.
UNDOCUMENTED: dict[tuple[str, str, int], str] = {
    ("post", "/users/login", 429): "too many sign-in attempts (QUILL_AUTH_RATE), with Retry-After",
    ("post", "/users", 429): "too many sign-up attempts (QUILL_AUTH_RATE), with Retry-After",
    ("put", "/user", 409): "the new email or username is taken (the document has 409 for POST /users only)",
    ("post", "/articles/{slug}/comments", 429): "too many comments (QUILL_COMMENT_RATE), with Retry-After",
    ("get", "/articles/{slug}", 401): "a bad or expired token (every other read that takes one lists 401)",
}

# createdAt and updatedAt, as RealWorld's own API tests match them (the unescaped "." is
# theirs), and as Quill writes them: UTC with milliseconds.
REALWORLD_TIMESTAMP = r"^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$"
QUILL_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def _pointer(*parts: str) -> str:
    """A JSON pointer to the document node at `parts` (RFC 6901 escapes)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _node(pointer: str) -> Any:
    return REGISTRY.resolver().lookup(f"{DOCUMENT_URI}#{pointer}").contents


def _operation(method: str, template: str) -> dict[str, Any]:
    operation = DOCUMENT["paths"].get(template, {}).get(method)
    assert operation is not None, f"the document has no {method.upper()} {template}"
    return operation


def documented_statuses(method: str, template: str) -> set[int]:
    return {int(status) for status in _operation(method, template)["responses"]}


def response_schema(method: str, template: str, status: int) -> dict[str, str] | None:
    """The schema of the JSON body the document gives for this answer, as a reference into
    the document; None when the answer has no body (204). Fails for a status the document
    does not list for the operation (and UNDOCUMENTED does not excuse)."""
    if (method, template, status) in UNDOCUMENTED:
        return {"$ref": f"{DOCUMENT_URI}#{ERROR_SCHEMA}"}
    responses = _operation(method, template)["responses"]
    assert str(status) in responses, (
        f"{method.upper()} {template} answered {status}; the document lists {sorted(responses)}"
    )
    pointer = _pointer("paths", template, method, "responses", str(status))
    response = _node(pointer)
    while "$ref" in response:  # #/components/responses/<Name>
        pointer = response["$ref"].removeprefix("#")
        response = _node(pointer)
    if "application/json" not in response.get("content", {}):
        return None
    return {"$ref": f"{DOCUMENT_URI}#{pointer}/content/application~1json/schema"}


def validate(schema: Mapping[str, Any], body: Any) -> None:
    validator = Draft202012Validator(
        schema, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    problems = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    assert not problems, (
        "\n".join(
            f"{'/'.join(map(str, problem.absolute_path)) or '(body)'}: {problem.message}"
            for problem in problems
        )
        + f"\nin {json.dumps(body)[:2000]}"
    )


def check_answer(method: str, template: str, response: "TestResponse") -> Any:
    """The answer's JSON body (None for none), once checked against the document."""
    schema = response_schema(method, template, response.status_code)
    if schema is None:
        assert response.content == b"", f"{response.status_code} carries a body: {response.content[:200]!r}"
        return None
    assert response["Content-Type"].split(";")[0] == "application/json", response["Content-Type"]
    body = json.loads(response.content)
    validate(schema, body)
    if response.status_code >= 400:
        assert body["errors"] and all(body["errors"].values()), f"an error that says nothing: {body}"
    return body


NO_BODY = object()
# One request handler for every RealWorldClient: building one loads the middleware, and
# WhiteNoise's scans the static files (a tenth of a second each time). Cookies stay per client.
_HANDLER: list[ClientHandler] = []


class RealWorldClient:
    """A RealWorld front end: JSON bodies, `Authorization: Token <jwt>` once it has a token.

    Each call names the operation by the document's path template and the status it expects,
    and returns the answer's body once check_answer has checked it. `last` is the response.
    """

    def __init__(self, token: str = "") -> None:
        self.http = Client()
        if not _HANDLER:
            _HANDLER.append(self.http.handler)
        self.http.handler = _HANDLER[0]
        self.token = token
        self.last: TestResponse | None = None

    def call(
        self,
        method: str,
        template: str,
        expect: int,
        *,
        json_body: Any = NO_BODY,
        data: str | None = None,
        query: Mapping[str, object] | None = None,
        authorization: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        **params: object,
    ) -> Any:
        """`json_body` is sent as JSON, `data` as it is (malformed JSON, say); `authorization`
        replaces the `Token` header ("" sends none)."""
        path = BASE_PATH + template.format(
            **{name: quote(str(value), safe="") for name, value in params.items()}
        )
        sent = dict(headers or {})
        if authorization is None and self.token:
            authorization = f"Token {self.token}"
        if authorization:
            sent["Authorization"] = authorization
        if json_body is not NO_BODY:
            data = json.dumps(json_body)
        response = self.http.generic(
            method.upper(),
            path + (f"?{_query(query)}" if query else ""),
            data=data or "",
            content_type=content_type,
            headers=sent,
        )
        self.last = response
        got = f"{response.status_code}: {response.content[:500]!r}"
        assert response.status_code == expect, f"{method.upper()} {path}: expected {expect}, got {got}"
        return check_answer(method, template, response)

    def get(self, template: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("get", template, expect, **kwargs)

    def post(self, template: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("post", template, expect, **kwargs)

    def put(self, template: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("put", template, expect, **kwargs)

    def delete(self, template: str, expect: int = 204, **kwargs: Any) -> Any:
        return self.call("delete", template, expect, **kwargs)


def _query(params: Mapping[str, object]) -> str:
    return "&".join(f"{quote(name)}={quote(str(value), safe='')}" for name, value in params.items())


def token_for(user: User) -> str:
    """A RealWorld token for a member made without the API (a factory, a moderator)."""
    return issue_access_token(user=user, lifetime=timedelta(days=1), face=REALWORLD.name)


def client_for(user: User) -> RealWorldClient:
    return RealWorldClient(token_for(user))


def bad_authorizations(user: User) -> list[tuple[str, str]]:
    """`Authorization` headers that are no valid Token of `user`'s, each with the message of
    the 401 it gets where a token is needed ("" sends no header)."""
    token = token_for(user)
    expired = issue_access_token(user=user, lifetime=timedelta(seconds=-1), face=REALWORLD.name)
    # Signed by Quill for the same member, but by API v1: each face takes only its own tokens.
    other_face = issue_access_token(user=user, lifetime=timedelta(days=1), face=V1.name)
    return [
        ("", "is missing"),
        (f"Token {other_face}", "is invalid"),
        ("Token", "is invalid"),
        ("Token not-a-jwt", "is invalid"),
        (f"Token {token}x", "is invalid"),
        (f"Token {expired}", "is invalid"),
        (f"Token {token} {token}", "is invalid"),
        # API v1's scheme is not this API's: its token is not even looked at.
        (f"Bearer {token}", "is missing"),
    ]
