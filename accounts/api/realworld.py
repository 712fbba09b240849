"""The RealWorld API on accounts: register, log in, the current user, profiles and follows.
Thin views over accounts.services and accounts.selectors."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api.realworld_serializers import (
    LoginRequestSerializer,
    NewUserRequestSerializer,
    ProfileResponseSerializer,
    UpdateUserRequestSerializer,
    UserResponseSerializer,
)
from accounts.models import User
from accounts.selectors import signed_in_user
from faces.api.realworld import FACE, RealWorldAPIView, error_responses, errors
from faces.readcache import cached_for_readers
from faces.registry import client_ip


def _token_for(user: User) -> str:
    # RealWorld clients never refresh: one longer-lived access token, ended like every other
    # by a password change, "sign out everywhere" or a suspension.
    return services.issue_access_token(
        user=user, lifetime=timedelta(days=settings.QUILL_REALWORLD_TOKEN_DAYS), face=FACE.name
    )


def _user_body(user: User, token: str) -> dict[str, Any]:
    return dict(UserResponseSerializer({"user": user}, context={"token": token}).data)


class AuthenticationView(RealWorldAPIView):
    openapi_tag = "RealWorld: User and Authentication"


class UsersView(AuthenticationView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    rate_limited = True

    @extend_schema(
        operation_id="realworld_create_user",
        summary="Register",
        request=NewUserRequestSerializer,
        responses={201: UserResponseSerializer, **error_responses(409)},
    )
    def post(self, request: Request) -> Response:
        serializer = NewUserRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data["user"]
        user = services.sign_up(
            ip=client_ip(request),
            email=fields["email"],
            password=fields["password"],
            username=fields["username"],
        )
        return Response(_user_body(user, _token_for(user)), status=status.HTTP_201_CREATED)


class LoginView(AuthenticationView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    rate_limited = True

    @extend_schema(
        operation_id="realworld_login",
        summary="Log in",
        request=LoginRequestSerializer,
        responses={200: UserResponseSerializer, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        serializer = LoginRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data["user"]
        user = services.sign_in(ip=client_ip(request), email=fields["email"], password=fields["password"])
        if user is None:
            return errors(status.HTTP_401_UNAUTHORIZED, {"credentials": ["invalid"]})
        return Response(_user_body(user, _token_for(user)))


class CurrentUserView(AuthenticationView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="realworld_get_current_user",
        summary="The current user",
        responses={200: UserResponseSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(_user_body(signed_in_user(request.user), str(request.auth)))

    @extend_schema(
        operation_id="realworld_update_current_user",
        summary="Update the current user",
        description="Any of email, username, password, bio, image; null or empty clears bio and image. "
        "A new email or password ends every other token and session: the answer carries a fresh token.",
        request=UpdateUserRequestSerializer,
        responses={200: UserResponseSerializer, **error_responses(409)},
    )
    def put(self, request: Request) -> Response:
        serializer = UpdateUserRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = signed_in_user(request.user)
        credentials_changed = services.update_account(user=user, **serializer.validated_data["user"])
        token = _token_for(user) if credentials_changed else str(request.auth)
        return Response(_user_body(user, token))


class ProfileView(RealWorldAPIView):
    openapi_tag = "RealWorld: Profile"

    def _profile(self, request: Request, username: str) -> Response:
        profile = selectors.get_profile(username=username, viewer=request.user)
        return Response(ProfileResponseSerializer({"profile": profile}).data)


class ProfileDetailView(ProfileView):
    @extend_schema(
        operation_id="realworld_get_profile",
        summary="A profile",
        responses={200: ProfileResponseSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, username: str) -> Response:
        return self._profile(request, username)


class FollowView(ProfileView):
    permission_classes = (IsAuthenticated,)

    def _followed(self, member: User, username: str) -> User:
        # Suspended members too, so that following them can be undone (following is refused).
        return selectors.get_followed(username=username, viewer=member)

    def _answer(self, member: User, username: str) -> Response:
        return Response(ProfileResponseSerializer({"profile": self._followed(member, username)}).data)

    @extend_schema(
        operation_id="realworld_follow",
        summary="Follow a member",
        request=None,
        responses={200: ProfileResponseSerializer, **error_responses(404, 422)},
    )
    def post(self, request: Request, username: str) -> Response:
        member = signed_in_user(request.user)
        services.follow(follower=member, followed=self._followed(member, username))
        return self._answer(member, username)

    @extend_schema(
        operation_id="realworld_unfollow",
        summary="Stop following a member",
        description="A suspended member can be unfollowed too (their profile comes back, not following).",
        responses={200: ProfileResponseSerializer, **error_responses(404)},
    )
    def delete(self, request: Request, username: str) -> Response:
        member = signed_in_user(request.user)
        services.unfollow(follower=member, followed=self._followed(member, username))
        return self._answer(member, username)


# Mounted at /api/ beside the articles; no trailing slashes, as the RealWorld API has none.
urlpatterns = [
    path("users", UsersView.as_view(), name="realworld-users"),
    path("users/login", LoginView.as_view(), name="realworld-login"),
    path("user", CurrentUserView.as_view(), name="realworld-user"),
    path(
        "profiles/<str:username>", cached_for_readers()(ProfileDetailView.as_view()), name="realworld-profile"
    ),
    path("profiles/<str:username>/follow", FollowView.as_view(), name="realworld-follow"),
]
