"""A throwaway second face for the tests: `Authorization: Token <jwt>`, errors as
{"errors": {"body": [...]}} with 422 for bad input, mounted beside API v1 under /api/.

It is what a new face costs: a renderer for errors, an exception handler, a base view and a
`mount` line. The test URLconf below is the real one plus this face.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.selectors import get_author
from blog_project import urls as quill_urls
from faces.api.auth import JWTSchemeAuthentication
from faces.api.parsers import JSONParser
from faces.registry import MESSAGES, Face, mount, status_of
from kernel import exceptions as core


def render_error(request: HttpRequest | None, status_code: int, message: str) -> JsonResponse:
    return JsonResponse({"errors": {"body": [message]}}, status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, core.QuillError):
        status_code = status_of(exc)
        return Response({"errors": {"body": [exc.message]}}, status=status_code)
    if isinstance(exc, ValidationError):
        return Response({"errors": exc.message_dict}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = {"errors": {"body": [str(exc.detail)]}}
    return response


FACE = Face("throwaway", render_error, messages={**MESSAGES, 404: "Nothing at this address."})


class TokenAuthentication(JWTSchemeAuthentication):
    scheme = "Token"
    openapi_name = "tokenAuth"
    face = FACE.name


class ThrowawayView(APIView):
    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated,)
    parser_classes = (JSONParser,)
    renderer_classes = (JSONRenderer,)

    def get_exception_handler(self) -> Any:
        return exception_handler


class WhoAmIView(ThrowawayView):
    def get(self, request: Request) -> Response:
        return Response({"user": {"username": request.user.username}})


class ProfileView(ThrowawayView):
    def get(self, request: Request, username: str) -> Response:
        return Response({"profile": {"username": get_author(username=username).username}})

    def post(self, request: Request, username: str) -> Response:
        raise ValidationError({"bio": ["can't be blank"]})


throwaway_urls = [
    path("whoami", WhoAmIView.as_view()),
    path("profiles/<str:username>", ProfileView.as_view()),
]

urlpatterns = [mount("api/throwaway/", FACE, throwaway_urls), *quill_urls.urlpatterns]
handler400 = quill_urls.handler400
handler403 = quill_urls.handler403
handler404 = quill_urls.handler404
handler500 = quill_urls.handler500
