"""What the accounts services announce (kernel.events): after the write commits."""

from dataclasses import dataclass

from kernel.events import Event


@dataclass(frozen=True)
class SignedUp(Event):
    user_id: int


@dataclass(frozen=True)
class ProfileChanged(Event):
    """Name, username, bio or avatar address changed."""

    user_id: int


@dataclass(frozen=True)
class EmailChanged(Event):
    """The account's email (its sign-in name) moved from `old_email`."""

    user_id: int
    old_email: str


@dataclass(frozen=True)
class PasswordChanged(Event):
    """A new password (by the member, a reset link or a moderator); CredentialsEnded follows."""

    user_id: int


@dataclass(frozen=True)
class CredentialsEnded(Event):
    """Every session and token of the account stopped working (a password or email change,
    or "sign out everywhere")."""

    user_id: int


@dataclass(frozen=True)
class UsersSuspended(Event):
    """These accounts were active and are suspended now."""

    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class UsersReinstated(Event):
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class AccountDeleted(Event):
    """The account and everything it owned (stories, responses, claps, follows) are gone."""

    user_id: int


@dataclass(frozen=True)
class Followed(Event):
    """`follower_id` started following `followed_id` (following again announces nothing)."""

    follower_id: int
    followed_id: int


@dataclass(frozen=True)
class Unfollowed(Event):
    follower_id: int
    followed_id: int
