"""SimpleJWT access tokens under the `Authorization` scheme each face chooses."""

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

from kernel.exceptions import InvalidToken


class JWTSchemeAuthentication(JWTAuthentication):
    """SimpleJWT's token check, reading only `Authorization: <scheme> <jwt>`.

    SimpleJWT's own header types are one global setting; here each face sets `scheme`, so
    faces with different schemes live side by side. Another scheme is not this face's token:
    it is left unauthenticated (and answered 401 where a token is needed).
    """

    scheme = "Bearer"
    openapi_name = "jwtAuth"
    face = ""  # the Face.name whose tokens this accepts (the user model's FACE_CLAIM)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.scheme} realm="{self.www_authenticate_realm}"'

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if not parts or parts[0] != self.scheme.encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Authorization header must contain two space-delimited values",
                code="bad_authorization_header",
            )
        return parts[1]

    # simplejwt types the return as an unbound TypeVar, which no override can match.
    def get_user(self, validated_token: Token) -> AbstractBaseUser:  # type: ignore[override]
        user = super().get_user(validated_token)
        assert isinstance(user, get_user_model())
        try:
            # Another face's token, or one from before a password change or "sign out
            # everywhere", is refused (by the user model, as Django's sessions are).
            user.ensure_usable_token(claims=validated_token.payload, face=self.face)
        except InvalidToken as refusal:
            raise AuthenticationFailed(refusal.message, code=refusal.code) from refusal
        return user


class OptionalAuthentication:
    """A face's views: where no sign-in is needed (a public read), a bad, expired or revoked
    token counts as no token rather than a 401, because front ends sign their user out on any
    401. Where one is needed, the 401 stands."""

    def perform_authentication(self, request: Request) -> None:
        try:
            request.user  # noqa: B018  # DRF authenticates on first access
        except AuthenticationFailed:
            # DRF has already made the request anonymous; refuse only if that is not enough.
            view = cast(APIView, self)
            if not all(permission.has_permission(request, view) for permission in view.get_permissions()):
                raise


class JWTSchemeExtension(OpenApiAuthenticationExtension):
    target_class = JWTSchemeAuthentication
    match_subclasses = True
    priority = 1  # before drf-spectacular's own SimpleJWT extension, which reads the global setting

    def __init__(self, target: Any):
        super().__init__(target)
        self.name = target.openapi_name

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix=self.target.scheme, bearer_format="JWT"
        )
