"""Account rules: sign-up, sign-in, tokens, suspension. Called by the pages, API and admin."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Field
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.events import (
    AccountDeleted,
    CredentialsEnded,
    EmailChanged,
    Followed,
    PasswordChanged,
    ProfileChanged,
    SignedUp,
    Unfollowed,
    UsersReinstated,
    UsersSuspended,
)
from accounts.models import (
    BIO_MAX_LENGTH,
    CREDENTIALS_CLAIM,
    FACE_CLAIM,
    IMAGE_URL_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    Follow,
    User,
    username_validator,
)
from accounts.ratelimit import count_auth_attempt
from accounts.uploads import clean_image_url, forget_uploads_of
from kernel.events import announce
from kernel.exceptions import Conflict, InvalidToken, NotFound, Suspended
from kernel.text import normalize_newlines

WRONG_PASSWORD = "That is not your current password."


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


def password_min_length() -> int:
    """The shortest password the configured validators accept (for help texts and schemas)."""
    lengths = [
        validator.min_length
        for validator in password_validation.get_default_password_validators()
        if isinstance(validator, password_validation.MinimumLengthValidator)
    ]
    return max(lengths, default=1)


def _email_errors(email: str) -> list[str]:
    try:
        validate_email(email)
    except ValidationError as exc:
        return exc.messages
    # The validator accepts up to 320 characters; the column holds fewer.
    return ["This email address is too long."] if len(email) > EMAIL_MAX_LENGTH else []


def _username_errors(username: str) -> list[str]:
    if len(username) > USERNAME_MAX_LENGTH:
        return [f"Keep the username to {USERNAME_MAX_LENGTH} characters or fewer."]
    try:
        username_validator(username)
    except ValidationError as exc:
        return exc.messages
    return []


def _name_errors(name: str) -> list[str]:
    return [f"Keep the name to {NAME_MAX_LENGTH} characters or fewer."] if len(name) > NAME_MAX_LENGTH else []


def _sign_up_errors(*, email: str, password: str, name: str, username: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if email_errors := _email_errors(email):
        errors["email"] = email_errors
    if username and (username_errors := _username_errors(username)):
        errors["username"] = username_errors
    if name_errors := _name_errors(name):
        errors["name"] = name_errors
    try:
        password_validation.validate_password(password, User(email=email, username=username, name=name))
    except ValidationError as exc:
        errors["password"] = exc.messages
    return errors


@transaction.atomic
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
            user = User.objects.create_user(email=email, password=password, name=name, username=username)
    except IntegrityError as exc:  # lost a race with a simultaneous sign-up
        raise Conflict({"email": "An account with this email or username already exists."}) from exc
    announce(SignedUp(user_id=user.pk))
    return user


def sign_in(*, email: str, password: str, ip: str) -> User | None:
    """The active user with these credentials, or None: one answer for an unknown email and
    a wrong password alike.

    Raises RateLimited when there were too many attempts from this IP or for this email, and
    Suspended when the credentials are right but the account is suspended (only someone who
    knows the password learns that).
    """
    count_auth_attempt(ip=ip, email=email)
    email = User.objects.normalize_email(email)
    user = authenticate(username=email, password=password)
    if isinstance(user, User):
        return user
    inactive = User.objects.filter(email=email, is_active=False).first()
    if inactive is not None and inactive.check_password(password):
        raise Suspended()
    return None


@transaction.atomic  # the refresh token is recorded (OutstandingToken)
def issue_tokens(*, user: User, face: str) -> TokenPair:
    """An access token and the refresh token that renews it, accepted by `face` only."""
    refresh = RefreshToken.for_user(user)
    refresh[CREDENTIALS_CLAIM] = user.credentials_version
    refresh[FACE_CLAIM] = face  # the access token copies the refresh token's claims
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def issue_access_token(*, user: User, lifetime: timedelta, face: str) -> str:
    """One access token that lives `lifetime`, for clients that never refresh (the RealWorld
    API's), accepted by `face` only. Like every token, it stops working on a password change
    or suspension."""
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=lifetime)
    token[CREDENTIALS_CLAIM] = user.credentials_version
    token[FACE_CLAIM] = face
    return str(token)


def _refresh_token(raw_refresh: str) -> RefreshToken:
    """The refresh token, checked for signature, expiry, type and the blacklist."""
    try:
        # simplejwt annotates `token` as a Token; it takes (and needs) the encoded string.
        return RefreshToken(raw_refresh)  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc


@transaction.atomic
def rotate_refresh_token(*, refresh: str, face: str) -> TokenPair:
    """A new token pair in exchange for a refresh token `face` issued, which then stops working.

    Raises InvalidToken when the token is malformed, expired, already used or revoked, from
    another face, or when its account is suspended or gone.
    """
    token = _refresh_token(refresh)
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}, is_active=True).first()
    if user is None:
        raise InvalidToken("No active account found for the given token.")
    user.ensure_usable_token(claims=token.payload, face=face)
    # blacklist() is annotated as returning the BlacklistedToken, but it returns what
    # get_or_create returns: the row and whether this call created it.
    _, newly_revoked = cast(tuple[BlacklistedToken, bool], token.blacklist())
    if not newly_revoked:  # a simultaneous request spent this token first
        raise InvalidToken("Token is blacklisted")
    return issue_tokens(user=user, face=face)


@transaction.atomic
def revoke_refresh_token(*, refresh: str) -> None:
    """Signs a client out: its refresh token stops working. Raises InvalidToken if it is not valid."""
    _refresh_token(refresh).blacklist()


@transaction.atomic
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
    suspended: list[int] = []
    kept_self = False
    for user in users:
        if moderator is not None and user.pk == moderator.pk:
            kept_self = True
            continue
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            suspended.append(user.pk)
        revoke_all_tokens(user=user)
    if suspended:
        announce(UsersSuspended(user_ids=tuple(suspended)))
    return Suspension(suspended=len(suspended), kept_self=kept_self)


@transaction.atomic
def reinstate_users(*, users: Iterable[User]) -> int:
    """Lets suspended users sign in again (with new tokens: the old ones stay revoked)."""
    reinstated = [user for user in users if not user.is_active]
    for user in reinstated:
        user.is_active = True
        user.save(update_fields=["is_active"])
    if reinstated:
        announce(UsersReinstated(user_ids=tuple(user.pk for user in reinstated)))
    return len(reinstated)


def _new_credentials(user: User, *, password_changed: bool) -> None:
    """Ends every session and token the user has (a face that keeps its caller signed in
    issues fresh tokens after)."""
    # Counted in the database, and the password written only when it is the change: a stale
    # copy of the user can neither undo a concurrent change nor bring back an old password.
    changes: dict[str, object] = {"credentials_version": F("credentials_version") + 1}
    if password_changed:
        changes["password"] = user.password
    User.objects.filter(pk=user.pk).update(**changes)
    user.refresh_from_db(fields=["password", "credentials_version"])
    revoke_all_tokens(user=user)
    if password_changed:
        announce(PasswordChanged(user_id=user.pk))
    announce(CredentialsEnded(user_id=user.pk))


@transaction.atomic
def change_password(*, user: User, current_password: str, new_password: str, ip: str) -> None:
    """Sets a new password. Every session and token stops working at once (the faces keep
    their caller signed in: pages with update_session_auth_hash, APIs with fresh tokens).

    Raises RateLimited (the sign-in limit guards it too) or ValidationError.
    """
    count_auth_attempt(ip=ip, email=user.email)
    if not user.check_password(current_password):
        raise ValidationError({"current_password": [WRONG_PASSWORD]})
    set_password(user=user, new_password=new_password)


@transaction.atomic
def set_password(*, user: User, new_password: str) -> None:
    """Sets a password the caller has the right to set (signed in and checked, or from a reset
    link); every other session and token of the account stops working at once."""
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    _new_credentials(user, password_changed=True)


@transaction.atomic
def password_replaced(*, user: User) -> None:
    """Stores a password already set on `user` (a moderator's change in the admin) and ends
    every session and token of the account, as any password change does."""
    _new_credentials(user, password_changed=True)


@transaction.atomic
def sign_out_everywhere(*, user: User) -> None:
    """Ends every session and token of the account."""
    _new_credentials(user, password_changed=False)


@transaction.atomic
def update_profile(
    *,
    user: User,
    name: str | None = None,
    username: str | None = None,
    bio: str | None = None,
    image: str | None = None,
) -> User:
    """Changes only the fields given. Raises ValidationError or Conflict (username taken)."""
    errors: dict[str, list[str]] = {}
    if name is not None:
        name = name.strip()
        if name_errors := _name_errors(name):
            errors["name"] = name_errors
    if username is not None:
        username = username.strip()
        if not username:
            errors["username"] = ["Choose a username."]
        elif username_errors := _username_errors(username):
            errors["username"] = username_errors
    if bio is not None:
        bio = normalize_newlines(bio)
    if bio is not None and len(bio) > BIO_MAX_LENGTH:
        errors["bio"] = [f"Keep the bio to {BIO_MAX_LENGTH:,} characters or fewer (it has {len(bio):,})."]
    if image is not None:
        try:
            image = clean_image_url(image, max_length=IMAGE_URL_MAX_LENGTH)
        except ValidationError as refusal:
            errors["image"] = refusal.messages
    if errors:
        raise ValidationError(errors)
    if (
        username is not None
        and username.lower() != user.username.lower()
        and User.objects.username_taken(username)
    ):
        raise Conflict({"username": "This username is taken."})
    changes = {"name": name, "username": username, "bio": bio, "image": image}
    fields = [field for field, value in changes.items() if value is not None]
    for field in fields:
        setattr(user, field, changes[field])
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError as exc:  # lost a race for the username
        raise Conflict({"username": "This username is taken."}) from exc
    if fields:
        announce(ProfileChanged(user_id=user.pk))
    return user


@transaction.atomic
def change_email(*, user: User, password: str, email: str, ip: str) -> User:
    """Moves the account to another email (its sign-in name). Asks for the password, with
    guesses limited like sign-in's."""
    count_auth_attempt(ip=ip, email=user.email)
    if not user.check_password(password):
        raise ValidationError({"password": [WRONG_PASSWORD]})
    return set_email(user=user, email=email)


@transaction.atomic
def set_email(*, user: User, email: str) -> User:
    """Moves the account to another email; the caller has checked the right to."""
    email = User.objects.normalize_email(email)
    if email_errors := _email_errors(email):
        raise ValidationError({"email": email_errors})
    if email != user.email and User.objects.filter(email=email).exists():
        raise Conflict({"email": "An account with this email already exists."})
    old_email, user.email = user.email, email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError as exc:
        raise Conflict({"email": "An account with this email already exists."}) from exc
    if email != old_email:
        announce(EmailChanged(user_id=user.pk, old_email=old_email))
    return user


@transaction.atomic
def delete_account(*, user: User, password: str, ip: str) -> None:
    """Deletes the account and everything it owns (stories, uploads). Asks for the password,
    with guesses limited like sign-in's."""
    count_auth_attempt(ip=ip, email=user.email)
    if not user.check_password(password):
        raise ValidationError({"password": [WRONG_PASSWORD]})
    revoke_all_tokens(user=user)
    forget_uploads_of(owner=user)  # the files too, not only their records
    deleted = AccountDeleted(user_id=user.pk)
    user.delete()
    announce(deleted)


# --- Follows -------------------------------------------------------------------------------

CANNOT_FOLLOW_SELF = "You cannot follow yourself."


@transaction.atomic
def follow(*, follower: User, followed: User) -> None:
    """`follower` sees `followed`'s new stories in their feed (following twice changes nothing).
    A suspended member is not found, as everywhere readers look."""
    if not followed.is_active:
        raise NotFound("No such author.", thing="author")
    if follower.pk == followed.pk:
        raise ValidationError({"username": [CANNOT_FOLLOW_SELF]})
    _, created = Follow.objects.get_or_create(follower=follower, followed=followed)
    if created:
        announce(Followed(follower_id=follower.pk, followed_id=followed.pk))


@transaction.atomic
def unfollow(*, follower: User, followed: User) -> None:
    """Anyone may stop following anyone, a suspended member too."""
    deleted, _ = Follow.objects.filter(follower=follower, followed=followed).delete()
    if deleted:
        announce(Unfollowed(follower_id=follower.pk, followed_id=followed.pk))


@transaction.atomic
def update_account(
    *,
    user: User,
    email: str | None = None,
    password: str | None = None,
    username: str | None = None,
    bio: str | None = None,
    image: str | None = None,
) -> bool:
    """Changes any of the account's fields at once, all or nothing, for a client already
    signed in with a token (the RealWorld API's contract: no current password asked).
    A new email or password ends every session and token of the account, as a password change
    does (the caller issues itself a fresh token). Returns whether they ended."""
    update_profile(user=user, username=username, bio=bio, image=image)
    email_changed = email is not None and User.objects.normalize_email(email) != user.email
    if email is not None:
        set_email(user=user, email=email)
    if password is not None:
        set_password(user=user, new_password=password)
    elif email_changed:
        _new_credentials(user, password_changed=False)
    return email_changed or password is not None
