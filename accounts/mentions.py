"""Mentions: the one rule for what "@username" in a text is (notifications tell the members a
story or a response mentions; stories and responses link them to their author pages), and
which of the names mentioned are members."""

import re
from collections.abc import Iterable, Iterator

from django.db.models.functions import Lower

from accounts.models import USERNAME_MAX_LENGTH, User

# "@name" not inside a word, an address or a path; usernames are letters, digits and "_".
_MENTION = re.compile(rf"(?<![\w@/.])@([A-Za-z0-9_]{{1,{USERNAME_MAX_LENGTH}}})(?![\w@])")
_CODE = re.compile(r"```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`", re.DOTALL)
# More names than this in one text is a list, not a conversation: the rest are not told (nor
# linked).
MENTIONS_PER_TEXT = 20


def mentions(text: str) -> Iterator[re.Match[str]]:
    """Each "@name" of `text` outside code, in order: group 1 is the name as written, and the
    match's span is its place in `text`."""
    # Code is blanked, not cut out, so that places in the blanked text are places in `text`.
    return _MENTION.finditer(_CODE.sub(lambda code: " " * len(code[0]), text))


def mentioned_usernames(text: str) -> list[str]:
    """The usernames `text` mentions (outside code), lowercase, first mention first, each once."""
    names = dict.fromkeys(match[1].lower() for match in mentions(text))
    return list(names)[:MENTIONS_PER_TEXT]


def active_usernames(names: Iterable[str]) -> dict[str, str]:
    """The active members (those with an author page) among lowercase `names`, as {lowercase
    name: username}: one query, none when there are no names."""
    wanted = set(names)
    if not wanted:
        return {}
    # Lower(username) is the unique index's expression: one index lookup per name.
    usernames = (
        User.objects.alias(username_lower=Lower("username"))
        .filter(username_lower__in=wanted, is_active=True)
        .values_list("username", flat=True)
    )
    return {username.lower(): username for username in usernames}
