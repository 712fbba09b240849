"""Error responses in the shape each face expects: JSON under /api/, friendly pages elsewhere."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

ERROR_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Unavailable",
}


def wants_json(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith("/api/")


def error_response(
    request: HttpRequest | None, status: int, message: str, details: dict[str, Any] | None = None
) -> HttpResponse:
    if wants_json(request):
        body: dict[str, Any] = {"error": message}
        if details:
            body["details"] = details
        return JsonResponse(body, status=status)
    context = {"status": status, "title": ERROR_TITLES.get(status, "Error"), "message": message}
    # The 500 page is rendered without the request: its context processors may need the
    # database, which could be what failed.
    html = loader.render_to_string("error.html", context, request=request if status != 500 else None)
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400, "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403, "You do not have permission to do that.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return error_response(request, 404, "Not found.")
    return error_response(
        request, 404, "There is nothing here. The story may have moved or been unpublished."
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500, "Sorry, something broke on our side. Please try again in a moment.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        403,
        "This form has expired or came from another site. Go back, reload the page and try again.",
    )
