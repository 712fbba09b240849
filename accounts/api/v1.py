"""Auth API: sign up, sign in, refresh, sign out, me. Thin views over accounts.services."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import services
from accounts.ratelimit import AUTH_THROTTLES
from accounts.serializers import (
    AuthResultSerializer,
    RefreshTokenSerializer,
    SignInSerializer,
    SignUpSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from blog_project.api_errors import Conflict, error_responses

TAG = "user"
SIGN_IN_FAILED = "Incorrect email or password."


class CredentialsView(APIView):
    """Base for the routes that take credentials or a refresh token in the body.

    They ignore any Authorization header (a client refreshing usually holds an expired access
    token) and any session, yet still answer 401, not 403, to bad credentials.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class SignUpView(CredentialsView):
    throttle_classes = AUTH_THROTTLES

    @extend_schema(
        tags=[TAG],
        operation_id="user_signup",
        summary="Create an account",
        description="Passwords follow Django's validators (at least 8 characters, not common, not all "
        "digits, not like the email or name). `username` is derived from the email when not given.",
        request=SignUpSerializer,
        responses={201: AuthResultSerializer, **error_responses(400, 409, 413, 415, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = SignUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.sign_up(**serializer.validated_data)
        except services.AccountConflict as exc:
            raise Conflict({field: [message] for field, message in exc.errors.items()}) from exc
        body = AuthResultSerializer({**services.issue_tokens(user), "user": user}).data
        return Response(body, status=status.HTTP_201_CREATED)


class SignInView(CredentialsView):
    throttle_classes = AUTH_THROTTLES

    @extend_schema(
        tags=[TAG],
        operation_id="user_signin",
        summary="Sign in",
        description="One answer (401) for an unknown email, a wrong password and a suspended account.",
        request=SignInSerializer,
        responses={200: AuthResultSerializer, **error_responses(400, 401, 413, 415, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.sign_in(request=request, email=data["email"], password=data["password"])
        if user is None:
            raise AuthenticationFailed(SIGN_IN_FAILED)
        return Response(AuthResultSerializer({**services.issue_tokens(user), "user": user}).data)


class RefreshView(CredentialsView):
    @extend_schema(
        tags=[TAG],
        operation_id="user_refresh",
        summary="Exchange a refresh token for a new pair",
        description="Refresh tokens rotate: the one sent stops working.",
        request=RefreshTokenSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            tokens = services.rotate_refresh_token(serializer.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        return Response(TokenPairSerializer(tokens).data)


class SignOutView(CredentialsView):
    @extend_schema(
        tags=[TAG],
        operation_id="user_signout",
        summary="Sign out",
        description="Revokes the refresh token sent. Access tokens expire by themselves within minutes.",
        request=RefreshTokenSerializer,
        responses={204: OpenApiResponse(description="Signed out."), **error_responses(400, 401, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.revoke_refresh_token(serializer.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=[TAG],
        operation_id="user_me",
        summary="The signed-in user",
        responses={200: UserSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)
