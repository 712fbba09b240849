"""Serializer fields shared by every API: strict JSON types, and schema notes for clients.

Input fields check types only; the rules themselves (lengths, blank titles, tag limits) live
in the services. `schema` states those rules in the OpenAPI schema without checking them a
second time here, so a schema-valid request is one the services accept.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

# DRF's CharField answers 400 to NUL characters in any text input, and to text that is
# blank once trimmed where blank is not allowed.
NO_NUL_PATTERN = "^[^\\u0000]*$"
NOT_BLANK_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


class DocumentedField(serializers.Field):
    def __init__(self, *, schema: dict[str, Any] | None = None, **kwargs: Any):
        self.schema = schema or {}
        super().__init__(**kwargs)


class StrictCharField(DocumentedField, serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would quietly turn 42 into "42".

    DRF's CharField already refuses NUL and lone surrogate characters with a 400.
    """

    def __init__(self, *, schema: dict[str, Any] | None = None, **kwargs: Any):
        blank_refused = not kwargs.get("allow_blank", False) and kwargs.get("trim_whitespace", True)
        pattern = NOT_BLANK_PATTERN if blank_refused else NO_NUL_PATTERN
        super().__init__(schema={"pattern": pattern} | (schema or {}), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictListField(DocumentedField, serializers.ListField):
    """A JSON array (DRF's ListField already refuses a string or an object)."""


class DocumentedFieldExtension(OpenApiSerializerFieldExtension):
    """Adds a field's `schema` notes to the schema drf-spectacular derives for it."""

    target_class = DocumentedField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return schema | self.target.schema
