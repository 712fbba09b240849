"""API v1 on accounts: sign up, sign in, refresh, sign out, me. Thin views over accounts.services."""

from dataclasses import asdict

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services, uploads
from accounts.api.v1_serializers import (
    AuthResultSerializer,
    MediaSerializer,
    MediaUploadSerializer,
    PasswordChangeSerializer,
    ProfileUpdateSerializer,
    RefreshTokenSerializer,
    SignInSerializer,
    SignUpSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.models import User
from accounts.selectors import signed_in_user
from faces.api.v1 import FACE, ErrorSerializer, V1APIView, error_responses
from faces.registry import client_ip

SIGN_IN_FAILED = "Incorrect email or password."
# The image types an upload may be, as the schema names them.
IMAGE_TYPES = ", ".join(media_type for media_type, _ in uploads.FORMATS.values())


def _auth_result(user: User) -> dict[str, object]:
    return AuthResultSerializer(
        {**asdict(services.issue_tokens(user=user, face=FACE.name)), "user": user}
    ).data


class UserAPIView(V1APIView):
    openapi_tag = "user"


class CredentialsView(UserAPIView):
    """Base for the routes that take credentials or a refresh token in the body.

    They ignore any Authorization header (a client refreshing usually holds an expired access
    token) and any session, yet still answer 401, not 403, to bad credentials.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class SignUpView(CredentialsView):
    """Create an account and get its first tokens."""

    name = "Sign up"
    rate_limited = True
    request_serializers = {"POST": SignUpSerializer}

    @extend_schema(
        operation_id="user_signup",
        summary="Create an account",
        description="Passwords follow Django's validators (at least 8 characters, not common, not all "
        "digits, not like the email or name). `username` is derived from the email when not given.",
        request=SignUpSerializer,
        responses={201: AuthResultSerializer, **error_responses(409)},
    )
    def post(self, request: Request) -> Response:
        serializer = SignUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.sign_up(ip=client_ip(request), **serializer.validated_data)
        return Response(_auth_result(user), status=status.HTTP_201_CREATED)


class SignInView(CredentialsView):
    """Exchange an email and password for an access token (`jwt`) and a refresh token."""

    name = "Sign in"
    rate_limited = True
    request_serializers = {"POST": SignInSerializer}

    @extend_schema(
        operation_id="user_signin",
        summary="Sign in",
        description="One answer (401) for an unknown email, a wrong password and a suspended account.",
        request=SignInSerializer,
        responses={200: AuthResultSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.sign_in(ip=client_ip(request), **serializer.validated_data)
        if user is None:
            raise AuthenticationFailed(SIGN_IN_FAILED)
        return Response(_auth_result(user))


class RefreshView(CredentialsView):
    """Exchange a refresh token for a new pair; the one sent stops working."""

    name = "Refresh tokens"
    request_serializers = {"POST": RefreshTokenSerializer}

    @extend_schema(
        operation_id="user_refresh",
        summary="Exchange a refresh token for a new pair",
        description="Refresh tokens rotate: the one sent stops working.",
        request=RefreshTokenSerializer,
        responses={200: TokenPairSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.rotate_refresh_token(refresh=serializer.validated_data["refresh"], face=FACE.name)
        return Response(TokenPairSerializer(tokens).data)


class SignOutView(CredentialsView):
    """Revoke a refresh token."""

    name = "Sign out"
    request_serializers = {"POST": RefreshTokenSerializer}

    @extend_schema(
        operation_id="user_signout",
        summary="Sign out",
        description="Revokes the refresh token sent. Access tokens expire by themselves within minutes.",
        request=RefreshTokenSerializer,
        responses={204: OpenApiResponse(description="Signed out."), **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.revoke_refresh_token(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(UserAPIView):
    """The account you are signed in with; PATCH changes any of name, username, bio, image."""

    name = "You"
    request_serializers = {"PATCH": ProfileUpdateSerializer}
    permission_classes = (IsAuthenticated,)

    @extend_schema(operation_id="user_me", summary="The signed-in user", responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        operation_id="user_me_update",
        summary="Change your profile",
        description="Send any of the fields; the ones left out keep their value.",
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer, **error_responses(409)},
    )
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.update_profile(user=signed_in_user(request.user), **serializer.validated_data)
        return Response(UserSerializer(user).data)


class PasswordView(UserAPIView):
    """Change your password. Every other token and session of the account stops working at
    once; the answer carries a fresh token pair."""

    name = "Change password"
    permission_classes = (IsAuthenticated,)
    rate_limited = True
    request_serializers = {"POST": PasswordChangeSerializer}

    @extend_schema(
        operation_id="user_password",
        summary="Change your password",
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = signed_in_user(request.user)
        services.change_password(user=user, ip=client_ip(request), **serializer.validated_data)
        return Response(TokenPairSerializer(services.issue_tokens(user=user, face=FACE.name)).data)


class MediaView(UserAPIView):
    """Upload an image (multipart, field `file`): JPEG, PNG, WebP or GIF, at most 10 MiB and 40
    megapixels. It is re-encoded without its metadata and stored under a random name."""

    name = "Upload an image"
    openapi_tag = "media"
    permission_classes = (IsAuthenticated,)
    parser_classes = (MultiPartParser,)
    request_serializers = {"POST": MediaUploadSerializer}
    max_body_size = uploads.MiB * settings.QUILL_UPLOAD_MAX_MB  # BodySizeLimitMiddleware
    rate_limited = True  # QUILL_UPLOAD_RATE per member

    @extend_schema(
        operation_id="media_upload",
        summary="Upload an image",
        description="Send `multipart/form-data` with the image in `file`. Pillow decodes it and writes "
        "it anew (EXIF and other metadata dropped, turned upright); anything that is not a JPEG, PNG, WebP "
        "or GIF image is refused. Uploads count against the member's quota (200 MiB by default) and "
        "its rate (30 an hour by default, refused ones included).",
        request={
            "multipart/form-data": OpenApiRequest(
                MediaUploadSerializer, encoding={"file": {"contentType": IMAGE_TYPES}}
            )
        },
        responses={
            201: MediaSerializer,
            413: OpenApiResponse(
                ErrorSerializer,
                description="The body or the image is larger than 10 MiB, or it would pass the upload quota.",
            ),
            415: OpenApiResponse(ErrorSerializer, description="The body is not `multipart/form-data`."),
        },
    )
    def post(self, request: Request) -> Response:
        file = request.FILES.get("file")
        if file is None:
            raise ValidationError({"file": ["Choose an image to upload."]})
        upload = uploads.store_image(owner=signed_in_user(request.user), file=file)
        body = {
            "url": request.build_absolute_uri(uploads.media_url(upload)),
            "width": upload.width,
            "height": upload.height,
            "size": upload.size,
        }
        return Response(MediaSerializer(body).data, status=status.HTTP_201_CREATED)


# Mounted at /api/v1/media (blog_project.urls).
media_urlpatterns = [path("", MediaView.as_view(), name="api-media")]

# Mounted at /api/v1/user/; no trailing slashes, as in the original app's routes.
urlpatterns = [
    path("signup", SignUpView.as_view(), name="api-signup"),
    path("signin", SignInView.as_view(), name="api-signin"),
    path("refresh", RefreshView.as_view(), name="api-refresh"),
    path("signout", SignOutView.as_view(), name="api-signout"),
    path("me", MeView.as_view(), name="api-me"),
    path("password", PasswordView.as_view(), name="api-password"),
]
