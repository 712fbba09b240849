"""Shapes of API v1's account bodies. Rules (password strength, free emails) stay in accounts.services."""

from rest_framework import serializers

from accounts.api.fields import (
    EMAIL_SCHEMA,
    IMAGE_URL_SCHEMA,
    NAME_SCHEMA,
    NEW_PASSWORD_SCHEMA,
    USERNAME_SCHEMA,
    EmailText,
)
from accounts.models import BIO_MAX_LENGTH, User
from faces.api.fields import StrictCharField


class UserSerializer(serializers.ModelSerializer):
    email = EmailText(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "username", "name", "bio", "image"]
        read_only_fields = fields


class ProfileUpdateSerializer(serializers.Serializer):
    """Any of the fields; the ones left out keep their value. Rules live in accounts.services."""

    name = StrictCharField(required=False, allow_blank=True, trim_whitespace=False, schema=NAME_SCHEMA)
    username = StrictCharField(required=False, trim_whitespace=False, schema=USERNAME_SCHEMA)
    bio = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        schema={"maxLength": BIO_MAX_LENGTH},
        help_text=f"Up to {BIO_MAX_LENGTH:,} characters.",
    )
    image = StrictCharField(
        required=False,
        allow_blank=True,
        schema=IMAGE_URL_SCHEMA,
        help_text="An https:// URL, a URL from POST /api/v1/media, or empty for none.",
    )


class PasswordChangeSerializer(serializers.Serializer):
    current_password = StrictCharField(trim_whitespace=False, style={"input_type": "password"})
    new_password = StrictCharField(
        trim_whitespace=False, style={"input_type": "password"}, schema=NEW_PASSWORD_SCHEMA
    )


class AuthorSerializer(serializers.ModelSerializer):
    """The public part of a user, shown on their stories."""

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


class SignUpSerializer(serializers.Serializer):
    email = StrictCharField(schema=EMAIL_SCHEMA)
    password = StrictCharField(
        trim_whitespace=False, style={"input_type": "password"}, schema=NEW_PASSWORD_SCHEMA
    )
    name = StrictCharField(required=False, allow_blank=True, schema=NAME_SCHEMA)
    username = StrictCharField(required=False, allow_blank=True, schema=USERNAME_SCHEMA)


class SignInSerializer(serializers.Serializer):
    email = StrictCharField()
    password = StrictCharField(trim_whitespace=False, style={"input_type": "password"})


class RefreshTokenSerializer(serializers.Serializer):
    refresh = StrictCharField(help_text="A refresh token from sign-up, sign-in or an earlier refresh.")


# A services.TokenPair under v1's wire names.
class TokenPairSerializer(serializers.Serializer):
    jwt = serializers.CharField(
        source="access", help_text="Access token: send it as `Authorization: Bearer <jwt>`."
    )
    refresh = serializers.CharField(help_text="Refresh token: exchange it at /api/v1/user/refresh.")


# A token pair and its user: {"access", "refresh", "user"} in, v1's names out.
class AuthResultSerializer(TokenPairSerializer):
    user = UserSerializer()


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A JPEG, PNG, WebP or GIF image: at most 10 MiB and 40 megapixels."
    )


class MediaSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="Where the image is served; lasting, to put in a story or profile.")
    width = serializers.IntegerField(help_text="Pixels, after turning the image upright.")
    height = serializers.IntegerField()
    size = serializers.IntegerField(help_text="Bytes stored (the re-encoded image).")
