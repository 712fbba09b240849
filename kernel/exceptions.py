"""Quill's own error vocabulary: what services and selectors raise when a rule says no.

The core never speaks HTTP. Each face (pages, API v1, the admin...) maps these once to its
own status codes and envelopes. Bad input is Django's `ValidationError` with field messages,
the language forms and model validation already share.
"""

from typing import Any


class QuillError(Exception):
    """Base of every refusal the core makes. `message` is one readable sentence."""

    default_message = "That cannot be done."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class Refusal(QuillError):
    """A refusal about one kind of thing (`thing`: "post", "comment", "author"...), which
    faces whose errors name the resource (the RealWorld API) use."""

    def __init__(self, message: str | None = None, *, thing: str = "resource"):
        super().__init__(message)
        self.thing = thing


class NotFound(Refusal):
    """No such thing, or nothing this user may see (someone else's draft is not found)."""

    default_message = "Not found."


class NotAllowed(Refusal):
    """The thing exists, but this user may not do that to it (e.g. edit another's story)."""

    default_message = "You are not allowed to do that."


class Suspended(NotAllowed):
    """The account exists and the password is right, but a moderator suspended it."""

    default_message = "This account is suspended. Write to the moderators if you think this is a mistake."


class Conflict(QuillError):
    """A unique thing is taken. `errors` maps each field to its message."""

    default_message = "That conflicts with something that already exists."

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class TooLarge(QuillError):
    """Too big to take: an upload over the size limit, or one that would pass the quota."""

    default_message = "That is too large."


class StaleWrite(QuillError):
    """A save based on a version of a story that has changed since: `current` is the story as
    it is now, so the writer can compare and choose."""

    default_message = "This story changed since you opened it."

    def __init__(self, *, current: Any):
        super().__init__()
        self.current = current


class InvalidToken(QuillError):
    """A token is malformed, expired, already used, revoked, or its account is gone."""

    default_message = "Token is invalid or expired."

    def __init__(self, message: str | None = None, *, code: str = "token_not_valid"):
        super().__init__(message)
        self.code = code


class RateLimited(QuillError):
    """Too many attempts; the next one is allowed after `retry_after` seconds."""

    default_message = "Too many attempts."

    def __init__(self, retry_after: int):
        super().__init__(f"Too many attempts. Please wait {retry_after} seconds and try again.")
        self.retry_after = retry_after
