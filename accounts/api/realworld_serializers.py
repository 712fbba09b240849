"""Shapes of the RealWorld API's user and profile bodies (../shared/realworld/openapi.yml).

Input fields check types and presence in RealWorld's words ("can't be blank"); the rules
themselves live in accounts.services.
"""

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from accounts.api.fields import (
    EMAIL_SCHEMA,
    IMAGE_URL_SCHEMA,
    NEW_PASSWORD_SCHEMA,
    USERNAME_SCHEMA,
    EmailText,
)
from accounts.models import BIO_MAX_LENGTH, User
from faces.api.fields import StrictCharField
from faces.api.realworld import OptionalTextField

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

MESSAGES: dict[str, "str | _StrPromise"] = {
    "required": "can't be blank",
    "blank": "can't be blank",
    "null": "can't be null",
    "invalid": "must be a string",
}


def text(**kwargs: Any) -> StrictCharField:
    return StrictCharField(error_messages=MESSAGES, **kwargs)


def envelope(name: str, inner: type[serializers.Serializer], component: str) -> type[serializers.Serializer]:
    """{name: {...}}: a request body wrapped in its one key, as every RealWorld body is."""
    field = inner(error_messages={"required": "can't be blank", "null": "can't be null"})
    return type(component, (serializers.Serializer,), {name: field})


class LoginUserSerializer(serializers.Serializer):
    email = text()
    password = text(trim_whitespace=False, style={"input_type": "password"})


class NewUserSerializer(serializers.Serializer):
    username = text(schema=USERNAME_SCHEMA)
    email = text(schema=EMAIL_SCHEMA)
    password = text(trim_whitespace=False, style={"input_type": "password"}, schema=NEW_PASSWORD_SCHEMA)


class UpdateUserSerializer(serializers.Serializer):
    email = text(required=False, schema=EMAIL_SCHEMA)
    password = text(
        required=False, trim_whitespace=False, style={"input_type": "password"}, schema=NEW_PASSWORD_SCHEMA
    )
    username = text(required=False, schema=USERNAME_SCHEMA)
    bio = text(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        schema={"maxLength": BIO_MAX_LENGTH},
    )
    image = text(required=False, allow_blank=True, allow_null=True, schema=IMAGE_URL_SCHEMA)
    openapi_schema = {"minProperties": 1}  # validate() refuses an empty change

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError({"user": ["needs at least one field to change"]})
        # null clears bio and image, as an empty string does.
        return {field: "" if value is None else value for field, value in attrs.items()}


LoginRequestSerializer = envelope("user", LoginUserSerializer, "LoginUserRequestSerializer")
NewUserRequestSerializer = envelope("user", NewUserSerializer, "NewUserRequestSerializer")
UpdateUserRequestSerializer = envelope("user", UpdateUserSerializer, "UpdateUserRequestSerializer")


class RealWorldUserSerializer(serializers.ModelSerializer):
    email = EmailText(read_only=True)
    token = serializers.SerializerMethodField()
    bio = OptionalTextField()
    image = OptionalTextField()

    class Meta:
        model = User
        fields = ["email", "token", "username", "bio", "image"]
        read_only_fields = fields

    def get_token(self, user: User) -> str:
        return str(self.context["token"])


class UserResponseSerializer(serializers.Serializer):
    user = RealWorldUserSerializer()


class ProfileSerializer(serializers.ModelSerializer):
    """A member as others see them, with whether the viewer follows them."""

    bio = OptionalTextField()
    image = OptionalTextField()
    following = serializers.BooleanField(source="followed_by_viewer")

    class Meta:
        model = User
        fields = ["username", "bio", "image", "following"]
        read_only_fields = fields


class ProfileResponseSerializer(serializers.Serializer):
    profile = ProfileSerializer()
