"""Serializer fields shared by every API: strict JSON types, and schema notes for clients.

Input fields check types only; the rules themselves (lengths, blank titles, tag limits) live
in the services. `schema` states those rules in the OpenAPI schema without checking them a
second time here, so a schema-valid request is one the services accept.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

# DRF's CharField answers 400 to NUL characters in any text input, and to text that is
# blank once trimmed where blank is not allowed. It trims with str.strip(), whose whitespace
# (str.isspace) is not JSON Schema's \s (ECMA's, which has U+FEFF and lacks U+001C-U+001F and
# U+0085): the characters are spelled out.
PYTHON_WHITESPACE = "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680" + (
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NO_NUL_PATTERN = "^[^\\u0000]*$"
NOT_BLANK_PATTERN = f"^[^\\u0000]*[^{PYTHON_WHITESPACE}\\u0000][^\\u0000]*$"


class DocumentedField(serializers.Field):
    """`schema`: notes for the OpenAPI schema, or a function that makes them when the schema is
    generated (for rules that move with the clock)."""

    def __init__(self, *, schema: dict[str, Any] | Callable[[], dict[str, Any]] | None = None, **kwargs: Any):
        self._schema = schema or {}
        super().__init__(**kwargs)

    @property
    def schema(self) -> dict[str, Any]:
        return self._schema() if callable(self._schema) else self._schema


class StrictCharField(DocumentedField, serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would quietly turn 42 into "42".

    DRF's CharField already refuses NUL and lone surrogate characters with a 400.
    """

    def __init__(self, *, schema: dict[str, Any] | None = None, **kwargs: Any):
        blank_refused = not kwargs.get("allow_blank", False) and kwargs.get("trim_whitespace", True)
        notes: dict[str, Any] = {"pattern": NOT_BLANK_PATTERN if blank_refused else NO_NUL_PATTERN}
        if kwargs.get("allow_blank", False):
            # drf-spectacular offers a blank-allowed field as oneOf [the rules, {"maxLength": 0}]:
            # without this the empty string would match both, and oneOf would refuse it.
            notes["minLength"] = 1
        super().__init__(schema=notes | (schema or {}), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's BooleanField would also take "yes", "0" or 1."""

    # DRF's own message ('"true" is not a valid boolean.') would puzzle a client sending "true".
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField would also take "7", 7.0 or true."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictListField(DocumentedField, serializers.ListField):
    """A JSON array (DRF's ListField already refuses a string or an object)."""


def year_at_most_pattern(year: int) -> str:
    """A pattern for ISO 8601 times (YYYY-...) whose year is at most `year` (1000 to 9999)."""
    digits = f"{year:04d}"
    choices = [
        digits[:place] + (f"[0-{int(digit) - 1}]" if digit != "1" else "0") + "\\d" * (3 - place)
        for place, digit in enumerate(digits[:3])
        if digit != "0"
    ]
    choices.append(f"{digits[:3]}[0-{digits[3]}]")
    return f"^({'|'.join(choices)})-"


class DocumentedFieldExtension(OpenApiSerializerFieldExtension):
    """Adds a field's `schema` notes to the schema drf-spectacular derives for it."""

    target_class = DocumentedField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return schema | self.target.schema


# A letter or a digit somewhere (what a tag is made of once normalised).
LETTER_OR_DIGIT_PATTERN = "^[^\\u0000]*[^\\W_][^\\u0000]*$"
