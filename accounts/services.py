"""Account rules: sign-up, usernames, tokens, suspension. Called by pages, API and admin."""

import re
import secrets
from collections.abc import Iterable

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import USERNAME_MAX_LENGTH, User, username_validator


class AccountConflict(Exception):
    """The email or username belongs to someone else. `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def username_taken(username: str) -> bool:
    return User.objects.filter(username__iexact=username).exists()


def unique_username(email: str) -> str:
    """A free handle derived from the email's local part: 'Ada.L@x.org' -> 'ada_l'."""
    local_part = email.split("@", 1)[0].lower()
    base = re.sub(r"[^a-z0-9_]+", "_", local_part).strip("_")[: USERNAME_MAX_LENGTH - 5] or "writer"
    candidate = base
    while username_taken(candidate):
        candidate = f"{base}_{secrets.randbelow(10_000):04d}"
    return candidate


def sign_up(*, email: str, password: str, name: str = "", username: str = "") -> User:
    """Creates an account. Raises ValidationError (bad input) or AccountConflict (taken)."""
    email = User.objects.normalize_email(email)
    name = name.strip()
    username = username.strip()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError as exc:
        errors["email"] = exc.messages
    else:
        # The validator accepts up to 320 characters; the column holds fewer.
        if len(email) > User._meta.get_field("email").max_length:
            errors["email"] = ["This email address is too long."]
    if username:
        if len(username) > USERNAME_MAX_LENGTH:
            errors["username"] = [f"Keep the username to {USERNAME_MAX_LENGTH} characters or fewer."]
        else:
            try:
                username_validator(username)
            except ValidationError as exc:
                errors["username"] = exc.messages
    if len(name) > User._meta.get_field("name").max_length:
        errors["name"] = ["Keep the name to 100 characters or fewer."]
    try:
        password_validation.validate_password(password, User(email=email, username=username, name=name))
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)

    conflicts = {}
    if User.objects.filter(email=email).exists():
        conflicts["email"] = "An account with this email already exists."
    if username and username_taken(username):
        conflicts["username"] = "This username is taken."
    if conflicts:
        raise AccountConflict(conflicts)
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name, username=username)
    except IntegrityError as exc:  # lost a race with a simultaneous sign-up
        raise AccountConflict({"email": "An account with this email or username already exists."}) from exc


def sign_in(*, request, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; one answer for every failure."""
    return authenticate(request, username=User.objects.normalize_email(email), password=password)


def issue_tokens(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"jwt": str(refresh.access_token), "refresh": str(refresh)}


def rotate_refresh_token(raw_refresh: str) -> dict[str, str]:
    """A new token pair in exchange for a refresh token, which then stops working.

    Raises TokenError when the token is malformed, expired, already used or revoked, or when
    its account is suspended or gone.
    """
    refresh = RefreshToken(raw_refresh)  # checks signature, expiry, type and the blacklist
    user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}, is_active=True).first()
    if user is None:
        raise TokenError("No active account found for the given token.")
    with transaction.atomic():
        _, newly_revoked = refresh.blacklist()
        if not newly_revoked:  # a simultaneous request spent this token first
            raise TokenError("Token is blacklisted")
        return issue_tokens(user)


def revoke_refresh_token(raw_refresh: str) -> None:
    """Signs a client out: its refresh token stops working. Raises TokenError if it is not valid."""
    RefreshToken(raw_refresh).blacklist()


def revoke_all_tokens(user: User) -> None:
    """Blacklists every refresh token the user still holds, in one insert."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)


@transaction.atomic
def suspend_users(users: Iterable[User]) -> int:
    """Deactivates users: they cannot sign in, and their access and refresh tokens stop working."""
    count = 0
    for user in users:
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            count += 1
        revoke_all_tokens(user)
    return count
