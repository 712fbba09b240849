"""The OpenAPI schema documents every API route, and the docs page works under our CSP."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate

from faces.api.fields import NOT_BLANK_PATTERN
from posts.tests.api_contract import POST_KEYS

ROUTES = {
    "/api/v1/user/signup": {"post"},
    "/api/v1/user/signin": {"post"},
    "/api/v1/user/refresh": {"post"},
    "/api/v1/user/signout": {"post"},
    "/api/v1/user/me": {"get", "patch"},
    "/api/v1/user/password": {"post"},
    "/api/v1/blog": {"post", "put"},
    "/api/v1/blog/bulk": {"get"},
    "/api/v1/blog/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/media": {"post"},
    "/api/v1/blog/{id}/save": {"put", "delete"},
    "/api/v1/user/list": {"get"},
    "/api/v1/notifications": {"get"},
    "/api/v1/notifications/read": {"post"},
}
# The RealWorld API's operations, as ../shared/realworld/openapi.yml lists them under /api.
REALWORLD_ROUTES = {
    "/api/users": {"post"},
    "/api/users/login": {"post"},
    "/api/user": {"get", "put"},
    "/api/profiles/{username}": {"get"},
    "/api/profiles/{username}/follow": {"post", "delete"},
    "/api/articles": {"get", "post"},
    "/api/articles/feed": {"get"},
    "/api/articles/{slug}": {"get", "put", "delete"},
    "/api/articles/{slug}/favorite": {"post", "delete"},
    "/api/articles/{slug}/comments": {"get", "post"},
    "/api/articles/{slug}/comments/{id}": {"delete"},
    "/api/tags": {"get"},
}
PUBLIC = {("/api/v1/blog/bulk", "get"), ("/api/v1/blog/{id}", "get")}
CREDENTIALS = {"/api/v1/user/signup", "/api/v1/user/signin", "/api/v1/user/refresh", "/api/v1/user/signout"}
MULTIPART = {"/api/v1/media"}  # the image upload takes multipart/form-data, not JSON
BODYLESS = {("/api/v1/blog/{id}/save", "put")}  # the address says it all (SPEC §9.3)
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema() -> dict:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_route_and_method_is_documented(schema):
    documented = {
        path: {method for method in operations if method != "parameters"}
        for path, operations in schema["paths"].items()
    }
    assert documented == ROUTES | REALWORLD_ROUTES


def test_the_realworld_operations_use_the_token_scheme_and_its_error_body(schema):
    assert schema["components"]["securitySchemes"]["Token"]["type"] == "apiKey"
    assert schema["components"]["securitySchemes"]["Token"]["name"] == "Authorization"
    for path, methods in REALWORLD_ROUTES.items():
        for method in methods:
            operation = schema["paths"][path][method]
            assert operation["tags"][0].startswith("RealWorld"), (path, method)
            if path not in ("/api/users", "/api/users/login", "/api/tags"):
                assert {"Token": []} in operation["security"], (path, method)
            errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            for response in errors.values():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/GenericErrorModel", (path, method)


def test_bearer_auth_is_documented_where_a_token_is_used(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    for path, methods in ROUTES.items():
        for method in methods:
            security = schema["paths"][path][method].get("security", [])
            if path in CREDENTIALS:
                assert security == [{}], (path, method)  # credentials travel in the body
            else:
                assert {"jwtAuth": []} in security, (path, method)
                assert ({} in security) is ((path, method) in PUBLIC), (path, method)


def test_bodies_and_errors_are_documented(schema):
    for path, methods in ROUTES.items():
        for method in methods:
            operation = schema["paths"][path][method]
            responses = operation["responses"]
            successes = [code for code in responses if code.startswith("2")]
            assert len(successes) == 1, (path, method)
            errors = {code: r for code, r in responses.items() if code[0] in "45"}
            assert errors, (path, method)
            for response in errors.values():
                assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
                assert response["description"]
            if method in {"post", "put", "patch"} and (path, method) not in BODYLESS:
                body_type = "multipart/form-data" if path in MULTIPART else "application/json"
                assert set(operation["requestBody"]["content"]) == {body_type}, (path, method)
                assert {"400", "413", "415"} <= set(responses), (path, method)
            if path not in CREDENTIALS and (path, method) not in PUBLIC:
                assert "401" in responses, (path, method)

    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]) == {"error", "details"}
    assert {"429", "409"} <= set(schema["paths"]["/api/v1/user/signup"]["post"]["responses"])
    assert "429" in schema["paths"]["/api/v1/user/signin"]["post"]["responses"]


def test_response_shapes_match_the_contract(schema):
    components = schema["components"]["schemas"]

    def properties(path: str, method: str, code: str) -> set[str]:
        ref = schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"][
            "$ref"
        ]
        return set(components[ref.rsplit("/", 1)[1]]["properties"])

    assert properties("/api/v1/user/signup", "post", "201") == {"jwt", "refresh", "user"}
    assert properties("/api/v1/user/refresh", "post", "200") == {"jwt", "refresh"}
    assert properties("/api/v1/user/me", "get", "200") == {"id", "email", "username", "name", "bio", "image"}
    assert properties("/api/v1/user/password", "post", "200") == {"jwt", "refresh"}
    assert properties("/api/v1/blog", "post", "201") == {"id", "post"}
    assert properties("/api/v1/blog", "put", "200") == {"id", "post", "updated"}
    assert properties("/api/v1/blog/bulk", "get", "200") == {"posts", "count", "next", "previous"}
    assert properties("/api/v1/blog/{id}", "get", "200") == {"post"}
    assert set(components["Post"]["properties"]) == POST_KEYS
    assert components["Post"]["properties"]["tags"]["items"]["type"] == "string"


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.stylesheets: list[str] = []
        self.inline_styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes.get("src"))
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"] or "")
        elif tag == "style" or "style" in attributes:
            self.inline_styles += 1


@pytest.fixture
def static_from_finders(settings):
    # WhiteNoise serves the sidecar's files straight from the app, with no collectstatic run.
    settings.WHITENOISE_USE_FINDERS = True


@pytest.mark.django_db
@pytest.mark.usefixtures("static_from_finders")
def test_docs_page_loads_its_assets_from_static_with_no_inline_script():
    browser = Client()
    page = browser.get("/api/docs/")
    assert page.status_code == 200
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assets = _Assets()
    assets.feed(page.content.decode())

    assert None not in assets.scripts, "an inline script would be blocked by the CSP"
    scripts = [src for src in assets.scripts if src is not None]
    assert assets.inline_styles == 0, "inline styles would be blocked by the CSP"
    assert "/static/css/api-docs.css" in assets.stylesheets
    assert browser.get("/static/css/api-docs.css").status_code == 200
    sidecar = [
        src for src in scripts + assets.stylesheets if not src.startswith(("/api/docs/", "/static/css/"))
    ]
    assert len(sidecar) == 3  # Swagger UI's bundle, preset and stylesheet
    for url in sidecar:
        assert url.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/"), url
        assert finders.find(url.removeprefix("/static/")), url
        assert browser.get(url).status_code == 200, url

    [start_script] = [src for src in scripts if src.startswith("/api/docs/")]
    script = browser.get(start_script)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


@pytest.mark.parametrize("method", ["options", "post", "delete"])
def test_docs_page_answers_other_methods_without_breaking(method):
    assert getattr(Client(), method)("/api/docs/").status_code == 405


def test_the_schema_states_the_rules_the_services_enforce():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["components"]["schemas"]["PostCreateRequest"]["properties"]
    assert create["title"]["maxLength"] == 200 and create["title"]["minLength"] == 1
    assert create["content"]["oneOf"][0]["maxLength"] == 100_000
    assert create["tags"]["maxItems"] == 5
    assert create["tags"]["items"]["maxLength"] == 32
    signin = schema["components"]["schemas"]["SignInRequest"]["properties"]
    assert "\\u0000" in signin["email"]["pattern"]  # NUL characters are refused
    bulk = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/blog/bulk"]["get"]["parameters"]}
    assert bulk["page"]["minimum"] == 1 and bulk["page_size"]["minimum"] == 1


def test_the_not_blank_pattern_blanks_exactly_what_drf_trims_away():
    # A one-character title is blank to DRF when str.strip() removes it: the schema must agree,
    # or fuzzers find schema-valid bodies refused (U+001E) and blank ones accepted (U+FEFF).
    for code in [*range(0x3100), 0xFEFF, 0x205F, 0x3000]:
        char = chr(code)
        if char == "\x00":
            continue
        assert (re.fullmatch(NOT_BLANK_PATTERN, char) is None) == (char.strip() == ""), hex(code)
