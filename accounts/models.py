import re
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from kernel.exceptions import InvalidToken

USERNAME_MAX_LENGTH = 30
BIO_MAX_LENGTH = 2000
IMAGE_URL_MAX_LENGTH = 500
# Tokens carry the credentials version they were issued under (User.credentials_version)...
CREDENTIALS_CLAIM = "cv"
STALE_CREDENTIALS = "Token is no longer valid: the password changed or the account signed out everywhere."
# ...and the face that issued them, which alone accepts them: API v1's tokens live minutes and
# are refreshed, the RealWorld API's live for days and may change the email or password without
# the current one (its contract), so neither may stand in for the other.
FACE_CLAIM = "face"
OTHER_FACE = "Token is not valid here: it was issued by another API."
username_validator = RegexValidator(
    r"^[A-Za-z0-9_]+$", "Use only letters, digits and underscores in a username."
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # Emails are the login id: compare them case-insensitively by storing them lower-cased.
        return (email or "").strip().lower()

    def username_taken(self, username: str) -> bool:
        return self.filter(username__iexact=username).exists()

    def free_username(self, email: str) -> str:
        """A free handle derived from the email's local part: 'Ada.L@x.org' -> 'ada_l'."""
        local_part = email.split("@", 1)[0].lower()
        base = re.sub(r"[^a-z0-9_]+", "_", local_part).strip("_")[: USERNAME_MAX_LENGTH - 5] or "writer"
        candidate = base
        while self.username_taken(candidate):
            candidate = f"{base}_{secrets.randbelow(10_000):04d}"
        return candidate

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email)
        extra_fields["username"] = extra_fields.get("username") or self.free_username(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True)
    username = models.CharField(
        max_length=USERNAME_MAX_LENGTH,
        unique=True,
        validators=[username_validator],
        help_text="Public handle, shown in /@username/.",
    )
    name = models.CharField(max_length=100, blank=True)
    bio = models.TextField(blank=True, max_length=BIO_MAX_LENGTH)
    image = models.CharField(
        max_length=IMAGE_URL_MAX_LENGTH,
        blank=True,
        help_text="Avatar: the URL of an uploaded image's square thumbnail, an https URL, or empty.",
    )
    date_joined = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(
        default=True, help_text="Unticked means suspended: cannot sign in, API tokens refused."
    )
    is_staff = models.BooleanField(default=False, help_text="Can use the moderation admin.")
    # Grows when the password changes or the member signs out everywhere: every token and
    # session made before then stops working at once (tokens carry it; sessions hash it).
    credentials_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["-date_joined"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"@{self.username}"

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django signs sessions out when this changes: with the password (Django's own rule)
        # and, here, with credentials_version too ("sign out everywhere").
        return salted_hmac(
            "quill.accounts.User.session_auth_hash",
            f"{self.password}:{self.credentials_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def ensure_usable_token(self, *, claims: Mapping[str, object], face: str) -> None:
        """Refuses a token another face issued (or one from before tokens named their face), and
        one issued before this member's last password change or "sign out everywhere": the
        tokens' counterpart of the session hash above.

        Tokens from before credentials had versions carry none: they count as version 0.
        """
        if claims.get(FACE_CLAIM) != face:
            raise InvalidToken(OTHER_FACE)
        if claims.get(CREDENTIALS_CLAIM, 0) != self.credentials_version:
            raise InvalidToken(STALE_CREDENTIALS)


class Upload(models.Model):
    """An image a member uploaded, re-encoded and stored under a random name; counted
    against their quota."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="uploads")
    file = models.CharField(max_length=255, unique=True, help_text="Name in the media storage.")
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField(help_text="Bytes stored.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="upload_owner_newest_idx")]

    def __str__(self) -> str:
        return self.file


class Follow(models.Model):
    """`follower` reads `followed`'s new stories in their feed."""

    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following_links")
    followed = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follower_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followed"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followed")), name="follow_not_self"),
        ]
        # "Who follows X" (follower counts) reads by followed; the unique index serves the feed.
        indexes = [models.Index(fields=["followed", "follower"], name="follow_followed_idx")]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followed_id}"
