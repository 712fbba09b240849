"""The JSON parser every JSON face uses: DRF's, refusing what no text column can take."""

import re
from collections.abc import Mapping
from typing import IO, Any

from rest_framework import exceptions, parsers

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(data: Any) -> bool:
    # Iterative: the document may be nested nearly as deep as the recursion limit.
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, also answering 400 to JSON nested too deeply for Python to decode and
    to invalid Unicode: a "\\ud800" escape decodes to a lone surrogate, which no UTF-8 encoder
    (hashing, cache keys, rendering) accepts, so it must not get past the parser.
    """

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None
        if _has_lone_surrogate(data):
            raise exceptions.ParseError(
                "JSON parse error - a \\u escape is a lone surrogate, not valid Unicode."
            )
        return data
