"""Account rules: sign-up, sign-in, tokens, suspension. Called by the pages, API and admin."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Field
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import USERNAME_MAX_LENGTH, User, username_validator
from accounts.ratelimit import count_auth_attempt
from blog_project.exceptions import Conflict, InvalidToken


def _max_length(field_name: str) -> int:
    field = User._meta.get_field(field_name)
    if not isinstance(field, Field) or field.max_length is None:
        raise TypeError(f"User.{field_name} is not a field with a max_length")
    return field.max_length


NAME_MAX_LENGTH = _max_length("name")
EMAIL_MAX_LENGTH = _max_length("email")


@dataclass(frozen=True)
class TokenPair:
    """A short-lived access token and the refresh token that renews it."""

    access: str
    refresh: str


@dataclass(frozen=True)
class Suspension:
    suspended: int  # accounts that were active and now are not
    kept_self: bool  # the moderator was among them and was left alone


def _sign_up_errors(*, email: str, password: str, name: str, username: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError as exc:
        errors["email"] = exc.messages
    else:
        # The validator accepts up to 320 characters; the column holds fewer.
        if len(email) > EMAIL_MAX_LENGTH:
            errors["email"] = ["This email address is too long."]
    if username:
        if len(username) > USERNAME_MAX_LENGTH:
            errors["username"] = [f"Keep the username to {USERNAME_MAX_LENGTH} characters or fewer."]
        else:
            try:
                username_validator(username)
            except ValidationError as exc:
                errors["username"] = exc.messages
    if len(name) > NAME_MAX_LENGTH:
        errors["name"] = [f"Keep the name to {NAME_MAX_LENGTH} characters or fewer."]
    try:
        password_validation.validate_password(password, User(email=email, username=username, name=name))
    except ValidationError as exc:
        errors["password"] = exc.messages
    return errors


def sign_up(*, email: str, password: str, ip: str, name: str = "", username: str = "") -> User:
    """Creates an account.

    Raises RateLimited (too many attempts from this IP or for this email), ValidationError
    (bad input) or Conflict (the email or username is taken).
    """
    count_auth_attempt(ip=ip, email=email)
    email = User.objects.normalize_email(email)
    name = name.strip()
    username = username.strip()
    errors = _sign_up_errors(email=email, password=password, name=name, username=username)
    if errors:
        raise ValidationError(errors)

    conflicts = {}
    if User.objects.filter(email=email).exists():
        conflicts["email"] = "An account with this email already exists."
    if username and User.objects.username_taken(username):
        conflicts["username"] = "This username is taken."
    if conflicts:
        raise Conflict(conflicts)
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name, username=username)
    except IntegrityError as exc:  # lost a race with a simultaneous sign-up
        raise Conflict({"email": "An account with this email or username already exists."}) from exc


def sign_in(*, email: str, password: str, ip: str) -> User | None:
    """The active user with these credentials, or None: one answer for every failure.

    Raises RateLimited when there were too many attempts from this IP or for this email.
    """
    count_auth_attempt(ip=ip, email=email)
    user = authenticate(username=User.objects.normalize_email(email), password=password)
    return user if isinstance(user, User) else None


def issue_tokens(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _refresh_token(raw_refresh: str) -> RefreshToken:
    """The refresh token, checked for signature, expiry, type and the blacklist."""
    try:
        # simplejwt annotates `token` as a Token; it takes (and needs) the encoded string.
        return RefreshToken(raw_refresh)  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc


@transaction.atomic
def rotate_refresh_token(*, refresh: str) -> TokenPair:
    """A new token pair in exchange for a refresh token, which then stops working.

    Raises InvalidToken when the token is malformed, expired, already used or revoked, or
    when its account is suspended or gone.
    """
    token = _refresh_token(refresh)
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}, is_active=True).first()
    if user is None:
        raise InvalidToken("No active account found for the given token.")
    # blacklist() is annotated as returning the BlacklistedToken, but it returns what
    # get_or_create returns: the row and whether this call created it.
    _, newly_revoked = cast(tuple[BlacklistedToken, bool], token.blacklist())
    if not newly_revoked:  # a simultaneous request spent this token first
        raise InvalidToken("Token is blacklisted")
    return issue_tokens(user=user)


def revoke_refresh_token(*, refresh: str) -> None:
    """Signs a client out: its refresh token stops working. Raises InvalidToken if it is not valid."""
    _refresh_token(refresh).blacklist()


def revoke_all_tokens(*, user: User) -> None:
    """Blacklists every refresh token the user still holds, in one insert."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)


@transaction.atomic
def suspend_users(*, users: Iterable[User], moderator: User | None = None) -> Suspension:
    """Deactivates users: they cannot sign in, and their access and refresh tokens stop working.

    A moderator is never suspended by their own hand: it would lock them out mid-moderation.
    """
    suspended = 0
    kept_self = False
    for user in users:
        if moderator is not None and user.pk == moderator.pk:
            kept_self = True
            continue
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            suspended += 1
        revoke_all_tokens(user=user)
    return Suspension(suspended=suspended, kept_self=kept_self)


def reinstate_users(*, users: Iterable[User]) -> int:
    """Lets suspended users sign in again (with new tokens: the old ones stay revoked)."""
    reinstated = [user for user in users if not user.is_active]
    for user in reinstated:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return len(reinstated)
